using System.Security.Claims;
using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Holds;

public static class GetHold
{
    // Someone else's hold is 404, as if it did not exist.
    public sealed record GetHoldQuery(long Id, Caller Caller) : IQuery<Result<Versioned<Hold>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/holds/{id:long}",
                async Task<Results<Ok<Hold>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetHoldQuery(id, user.Caller()), ct)).ToHttp(http))
            .WithName("GetHold").WithTags("Holds").WithSummary("One of your holds, with its ETag; status is expired as soon as expires_at has passed")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<GetHoldQuery, Result<Versioned<Hold>>>
    {
        public async ValueTask<Result<Versioned<Hold>>> Handle(GetHoldQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Holds.FindOwnAsync(conn, q.Id, q.Caller.Id, clock.GetUtcNow().UtcDateTime, ct) is { } found ? found : Failure.NotFound("Hold");
        }
    }
}
