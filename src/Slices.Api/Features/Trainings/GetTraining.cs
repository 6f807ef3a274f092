using System.Security.Claims;
using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class GetTraining
{
    // A training of a group the caller is not in is 404, as if it did not exist (admins see all).
    public sealed record GetTrainingQuery(long Id, Caller Caller) : IQuery<Result<Versioned<Training>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/trainings/{id:long}",
                async Task<Results<Ok<Training>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetTrainingQuery(id, user.Caller()), ct)).ToHttp(http))
            .WithName("GetTraining").WithTags("Trainings").WithSummary("A training of one of your groups (admin: any), with its ETag")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetTrainingQuery, Result<Versioned<Training>>>
    {
        public async ValueTask<Result<Versioned<Training>>> Handle(GetTrainingQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var found = await Trainings.FindAsync(conn, $"t.id = @id AND {Trainings.VisibleToCaller}", new { id = q.Id, admin = q.Caller.IsAdmin, caller = q.Caller.Id }, ct);
            return found is { } f ? new Versioned<Training>(f.Training, f.Version) : Failure.NotFound("Training");
        }
    }
}
