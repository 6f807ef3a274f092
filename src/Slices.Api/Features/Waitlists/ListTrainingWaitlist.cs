using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;
using TrainingRows = Slices.Api.Features.Trainings.Trainings;

namespace Slices.Api.Features.Waitlists;

// An admin sees the whole line in order; a member of the training's group only their own entry ([] when not in line).
public static class ListTrainingWaitlist
{
    public sealed record ListTrainingWaitlistQuery(long Id, Caller Caller) : IQuery<Result<IReadOnlyList<TrainingWaitlistEntry>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/trainings/{id:long}/waitlist",
                async Task<Results<Ok<IReadOnlyList<TrainingWaitlistEntry>>, ProblemHttpResult>> (long id, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new ListTrainingWaitlistQuery(id, user.Caller()), ct)).ToHttp(TypedResults.Ok))
            .WithName("ListTrainingWaitlist").WithTags("Waitlists")
            .WithSummary("A training's waitlist in order, waiting and offered (admin); a member sees only their own entry, with its position")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<ListTrainingWaitlistQuery, Result<IReadOnlyList<TrainingWaitlistEntry>>>
    {
        private const string Visible = $"SELECT EXISTS (SELECT 1 FROM trainings t WHERE t.id = @id AND {TrainingRows.VisibleToCaller})";

        public async ValueTask<Result<IReadOnlyList<TrainingWaitlistEntry>>> Handle(ListTrainingWaitlistQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var args = new { id = q.Id, admin = q.Caller.IsAdmin, caller = q.Caller.Id };
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(Visible, args, cancellationToken: ct)))
            {
                return Failure.NotFound("Training");
            }

            return await Waitlist.TrainingLineAsync(conn, q.Id, q.Caller.Id, all: q.Caller.IsAdmin, clock.GetUtcNow().UtcDateTime, ct);
        }
    }
}
