using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Serialization;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;
using Slices.Api.Common.Data;
using Slices.Api.Common.Work;
using Slices.Api.Features.Restaurant;
using Slices.Api.Features.Stages;
using Slices.Api.Features.Waitlists;

namespace Slices.Api.Features.Holds;

// A signed-in user keeps a scarce place for minutes. The place is taken at once, through the constraint that guards the
// real thing (db/0020's trigger): holding what is not free fails there, with the code the create route uses.
public static class CreateHold
{
    // `end_time` or, as a booking writes it, `finish_time`; `duration` or, as a reservation writes it, `duration_minutes`.
    public sealed record CreateHoldRequest(
        string? Kind,
        long? Stage, DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, TimeOnly? FinishTime,
        long? Training,
        long? Cassette, int? Quantity,
        long? Table, DateTimeOffset? StartsAt, int? Duration, int? DurationMinutes,
        int? TtlSeconds) : ICommand<Result<Hold>>
    {
        [JsonIgnore]
        public Caller Caller { get; init; }

        [JsonIgnore]
        public TimeOnly? End => EndTime ?? FinishTime;

        // Only the kind's own members: others sent along are ignored.
        public HoldTarget Target() => Kind switch
        {
            HoldKind.StageSlot => new(Kind, Stage, Date, StartTime, End, null, null, null, null, null, null),
            HoldKind.TrainingPlace => new(Kind, null, null, null, null, Training, null, null, null, null, null),
            HoldKind.Cassette => new(Kind, null, null, null, null, null, Cassette, Quantity, null, null, null),
            _ => new(Kind!, null, null, null, null, null, null, null, Table, StartsAt!.Value.UtcDateTime, StartsAt.Value.UtcDateTime.AddMinutes(DurationOrDefault)),
        };

        [JsonIgnore]
        public int DurationOrDefault => Duration ?? DurationMinutes ?? RequestReservation.DefaultDurationMinutes;
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/holds",
                async Task<Results<Created<Hold>, ProblemHttpResult>> (CreateHoldRequest body, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(body with { Caller = user.Caller() }, ct)).ToHttp(h => TypedResults.Created($"/api/holds/{h.Id}", h)))
            .WithName("CreateHold").WithTags("Holds")
            .WithSummary("Hold a stage slot, a training place, cassette stock or a restaurant table for ttl_seconds (default 600, 30–3600); "
                + "409 with the create route's code when it is not free, 429 too_many_holds past Holds:MaxActivePerUser")
            .RequireAuthorization()
            .RequireRateLimiting(HttpPipeline.HoldsPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateHoldRequest>
    {
        public Validator(TimeProvider clock)
        {
            RuleFor(x => x.Kind).NotEmpty().Must(k => k is null || HoldKind.All.Contains(k))
                .WithMessage($"kind must be one of {string.Join(", ", HoldKind.All)}.");
            RuleFor(x => x.TtlSeconds).InclusiveBetween(HoldSettings.MinTtlSeconds, HoldSettings.MaxTtlSeconds);
            When(x => x.Kind == HoldKind.StageSlot, () =>
            {
                RuleFor(x => x.Stage).NotNull();
                RuleFor(x => x.Date).NotNull();
                RuleFor(x => x.StartTime).NotNull();
                RuleFor(x => x.End).NotNull().OverridePropertyName("end_time");
            });
            When(x => x.Kind == HoldKind.TrainingPlace, () => RuleFor(x => x.Training).NotNull());
            When(x => x.Kind == HoldKind.Cassette, () =>
            {
                RuleFor(x => x.Cassette).NotNull();
                RuleFor(x => x.Quantity).NotNull().InclusiveBetween(1, 1000);
            });
            When(x => x.Kind == HoldKind.RestaurantTable, () =>
            {
                RuleFor(x => x.Table).NotNull();
                RuleFor(x => x.StartsAt).NotNull()
                    .Must(s => s is null || s > clock.GetUtcNow()).WithMessage("starts_at must be in the future.")
                    .Must(s => s is null || s.Value.Year <= 9000).WithMessage("starts_at must be before the year 9000.");
                RuleFor(x => x.DurationOrDefault).InclusiveBetween(RequestReservation.MinDurationMinutes, RequestReservation.MaxDurationMinutes)
                    .OverridePropertyName("duration");
            });
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Jobs jobs, HoldSettings settings, TimeProvider clock) : ICommandHandler<CreateHoldRequest, Result<Hold>>
    {
        private const string Training = """
            SELECT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = @user) AS member,
                   EXISTS (SELECT 1 FROM training_enrollments e WHERE e.training_id = t.id AND e.user_id = @user) AS enrolled
            FROM trainings t WHERE t.id = @training
            FOR NO KEY UPDATE OF t
            """;

        private const string CassetteStock = "SELECT quantity FROM cassettes WHERE id = @cassette FOR UPDATE";

        private const string TableOpen = "SELECT t.can_be_booked FROM restaurant_tables t WHERE t.id = @table FOR NO KEY UPDATE";

        public async ValueTask<Result<Hold>> Handle(CreateHoldRequest c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var ttl = TimeSpan.FromSeconds(c.TtlSeconds ?? HoldSettings.DefaultTtlSeconds);
            var target = c.Target();
            return await db.InTransactionAsync<Result<Hold>>(async (conn, tx) =>
            {
                // The target's own rules (a stage's opening hours, an unknown cassette, ...) are bad input for a hold:
                // validation_failed naming the member as the hold calls it, with the rule's words.
                if (await PrepareAsync(conn, tx, c, target, now, ct) is { } refused)
                {
                    return refused.Status != StatusCodes.Status400BadRequest ? refused : refused with
                    {
                        Code = "validation_failed",
                        Errors = refused.Errors?.ToDictionary(e => e.Key == "finish_time" ? "end_time" : e.Key, e => e.Value),
                    };
                }

                // The user's other active holds are counted as this one is written, under the user's lock: past the
                // limit, the new one is rolled back with the rest of the transaction (no failure is committed).
                var (hold, others, firstExpiry) = await Holds.InsertAsync(conn, tx, jobs, target, c.Caller.Id, offer: false, now + ttl, now, lockUser: true, ct);
                if (others >= settings.MaxActivePerUser)
                {
                    var wait = (int)Math.Ceiling((firstExpiry!.Value - now).TotalSeconds);
                    return new Failure(StatusCodes.Status429TooManyRequests, "too_many_holds",
                        $"You have {others} active holds, the most allowed; confirm or release one, or wait {wait} s for one to expire.")
                    { RetryAfterSeconds = Math.Max(1, wait) };
                }

                return hold;
            }, ct);
        }

        // Locks the target as its own create route does, lets its due holds go, and checks what the constraint cannot.
        private async Task<Failure?> PrepareAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CreateHoldRequest c, HoldTarget target, DateTime now, CancellationToken ct)
        {
            switch (target.Kind)
            {
                case HoldKind.StageSlot:
                    return await Bookings.CheckAsync(conn, tx, new BookingChanges(c.Stage, c.Date, c.StartTime, c.End), stored: null, clock, ct);

                case HoldKind.TrainingPlace:
                    var training = await conn.QuerySingleOrDefaultAsync<TrainingRow>(new CommandDefinition(Training, new { user = c.Caller.Id, training = c.Training }, tx, cancellationToken: ct));
                    if (training is null || (!training.Member && !c.Caller.IsAdmin))
                    {
                        return Failure.Invalid("training", $"Training {c.Training} does not exist.");
                    }

                    return !training.Member ? new Failure(StatusCodes.Status403Forbidden, "not_a_group_member", "Only members of the training's group can hold a place.")
                        : training.Enrolled ? Failure.Conflict("already_enrolled", "You are already enrolled in this training.")
                        : await Waitlist.RefuseWhileWaitingAsync(conn, tx, c.Training!.Value, now, ct);

                case HoldKind.Cassette:
                    var stockArgs = new { cassette = c.Cassette, cassettes = new[] { c.Cassette!.Value }, now };
                    if (await conn.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(CassetteStock, stockArgs, tx, cancellationToken: ct)) is null)
                    {
                        return Failure.Invalid("cassette", $"Cassette {c.Cassette} does not exist.");
                    }

                    await Holds.ExpireDueAsync(conn, tx, Holds.ExpireDueCassettes, stockArgs, ct);
                    var stock = await conn.QuerySingleAsync<int>(new CommandDefinition(CassetteStock, stockArgs, tx, cancellationToken: ct));
                    return stock >= c.Quantity ? null : new Failure(StatusCodes.Status409Conflict, "out_of_stock", $"Not enough stock for cassette {c.Cassette}; nothing was held.",
                        new Dictionary<string, string[]> { ["quantity"] = [$"Cassette {c.Cassette} has {stock.ToString(CultureInfo.InvariantCulture)} in stock."] });

                default:
                    var open = await conn.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(TableOpen, new { table = c.Table }, tx, cancellationToken: ct));
                    if (open is not true)
                    {
                        return Failure.Invalid("table", open is null ? $"Table {c.Table} does not exist." : "The table is closed for booking.");
                    }

                    await Holds.ExpireDueAsync(conn, tx, Holds.ExpireDueTables, new { table = c.Table, now }, ct);
                    return null;
            }
        }

        private sealed record TrainingRow(bool Member, bool Enrolled);
    }
}
