using System.Security.Claims;
using System.Text.Json.Serialization;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Stages;

namespace Slices.Api.Features.Waitlists;

// A signed-in user gets in line for a stage slot that is taken: when a booking in its way is cancelled or
// deactivated, the first user of the stage's line that day whose slot is then free is offered it (OfferPlaces).
public static class JoinStageWaitlist
{
    // `end_time` or, as a booking writes it, `finish_time`.
    public sealed record JoinStageWaitlistRequest(DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, TimeOnly? FinishTime) : ICommand<Result<StageWaitlistEntry>>
    {
        [JsonIgnore]
        public long Stage { get; init; }

        [JsonIgnore]
        public Caller Caller { get; init; }

        [JsonIgnore]
        public TimeOnly? End => EndTime ?? FinishTime;
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/stages/{id:long}/waitlist",
                async Task<Results<Created<StageWaitlistEntry>, ProblemHttpResult>> (long id, JoinStageWaitlistRequest body, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(body with { Stage = id, Caller = user.Caller() }, ct)).ToHttp(e => TypedResults.Created($"/api/stages/{id}/waitlist/{e.Id}", e)))
            .WithName("JoinStageWaitlist").WithTags("Waitlists")
            .WithSummary("Get in line for a taken stage slot {date, start_time, end_time}, within opening hours and in the future; "
                + "409 slot_available when it is free (book or hold it instead), 409 already_waiting")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<JoinStageWaitlistRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Date).NotNull();
            RuleFor(x => x.StartTime).NotNull();
            RuleFor(x => x.End).NotNull().OverridePropertyName("end_time");
        }
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<JoinStageWaitlistRequest, Result<StageWaitlistEntry>>
    {
        // A second entry of the caller for the slot is waitlist_entries_one_per_slot: 409 already_waiting.
        private const string Insert = """
            INSERT INTO waitlist_entries (user_id, stage_id, date, start_time, end_time, created_at, updated_at)
            VALUES (@caller, @stage, @date, @start, @end, @now, @now)
            RETURNING id
            """;

        public async ValueTask<Result<StageWaitlistEntry>> Handle(JoinStageWaitlistRequest c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var args = new { stage = c.Stage, date = c.Date!.Value, start = c.StartTime!.Value, end = c.End!.Value, caller = c.Caller.Id, now };
            return await db.InTransactionAsync<Result<StageWaitlistEntry>>(async (conn, tx) =>
            {
                switch (await Bookings.CheckAsync(conn, tx, new BookingChanges(c.Stage, c.Date, c.StartTime, c.End), stored: null, clock, ct))
                {
                    case { Code: "unknown_stage" }:
                        return Failure.NotFound("Stage");
                    case { } rule:
                        return rule;
                }

                if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(Waitlist.SlotTaken, args, tx, cancellationToken: ct)))
                {
                    return Failure.Conflict("slot_available", "The slot is free: book it (POST /api/bookings) or hold it (POST /api/holds) instead.");
                }

                var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Insert, args, tx, cancellationToken: ct));
                return (await Waitlist.StageLineAsync(conn, c.Stage, c.Caller.Id, all: false, entry: id, now, ct, tx)).Single();
            }, ct);
        }
    }
}
