using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class GetStageAvailability
{
    public sealed record FreeWindow(TimeOnly StartTime, TimeOnly FinishTime);

    public sealed record GetStageAvailabilityQuery(long Id, DateOnly? Date) : IQuery<Result<IReadOnlyList<FreeWindow>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/stages/{id:long}/availability",
                async Task<Results<Ok<IReadOnlyList<FreeWindow>>, ProblemHttpResult>> (long id, DateOnly? date, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetStageAvailabilityQuery(id, date), ct)).ToHttp(TypedResults.Ok))
            .WithName("GetStageAvailability").WithTags("Stages")
            .WithSummary("The free windows of a stage on ?date=: its opening hours less its active bookings")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Validator : AbstractValidator<GetStageAvailabilityQuery>
    {
        public Validator() => RuleFor(x => x.Date).NotNull().WithMessage("date is required (YYYY-MM-DD).");
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<GetStageAvailabilityQuery, Result<IReadOnlyList<FreeWindow>>>
    {
        // The opening hours as one range, less the union of that day's active bookings and holds (placeholders among the
        // bookings, db/0020) whose time is not up: what is left, in order.
        private const string Free = """
            SELECT lower(w)::time AS start_time, upper(w)::time AS finish_time
            FROM stages s,
                 unnest(tsmultirange(tsrange(@date::date + s.open_time, @date::date + s.close_time, '[)'))
                        - coalesce((SELECT range_agg(tsrange(b.date + b.start_time, b.date + b.finish_time, '[)'))
                                    FROM bookings b
                                    WHERE b.stage_id = s.id AND b.date = @date::date AND b.active
                                      AND (b.hold_id IS NULL OR EXISTS (SELECT 1 FROM holds h WHERE h.id = b.hold_id AND h.expires_at > @now))),
                                   '{}'::tsmultirange)) AS w
            WHERE s.id = @id
            ORDER BY lower(w)
            """;

        public async ValueTask<Result<IReadOnlyList<FreeWindow>>> Handle(GetStageAvailabilityQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM stages WHERE id = @id)", new { id = q.Id }, cancellationToken: ct)))
            {
                return Failure.NotFound("Stage");
            }

            var windows = await conn.QueryAsync<FreeWindow>(new CommandDefinition(Free, new { id = q.Id, date = q.Date!.Value, now = clock.GetUtcNow().UtcDateTime }, cancellationToken: ct));
            return windows.ToList();
        }
    }
}
