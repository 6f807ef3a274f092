using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

public static class GetEvent
{
    public sealed record GetEventQuery(long Id) : IQuery<Result<Versioned<EventDetail>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/events/{id:long}",
                async Task<Results<Ok<EventDetail>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetEventQuery(id), ct)).ToHttp(http))
            .WithName("GetEvent").WithTags("Events").WithSummary("An event with its organizations and each one's active members")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetEventQuery, Result<Versioned<EventDetail>>>
    {
        public async ValueTask<Result<Versioned<EventDetail>>> Handle(GetEventQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Events.FindAsync(conn, q.Id, ct) is { } found ? found : Failure.NotFound("Event");
        }
    }
}
