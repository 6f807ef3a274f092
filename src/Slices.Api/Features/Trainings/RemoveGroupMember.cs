using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Users;

namespace Slices.Api.Features.Trainings;

public static class RemoveGroupMember
{
    public sealed record RemoveGroupMemberCommand(long GroupId, long User) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/groups/{id:long}/users/{user:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, long user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new RemoveGroupMemberCommand(id, user), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("RemoveGroupMember").WithTags("Groups").WithSummary("Remove a user from a group, and from the group's trainings from today on")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    // Leaving the group gives up the user's places in its upcoming trainings, in the same statement: db/0014's trigger
    // on group_members, which every membership write fires. Past enrolments are history and stay.
    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<RemoveGroupMemberCommand, Result<bool>>
    {
        private const string Leave = "DELETE FROM group_members WHERE group_id = @GroupId AND user_id = @User";

        public async ValueTask<Result<bool>> Handle(RemoveGroupMemberCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                await conn.ExecuteAsync(new CommandDefinition(UserProfiles.LockForMembership, new { groups = Array.Empty<long>(), leaving = new[] { c.GroupId }, users = new[] { c.User } }, tx, cancellationToken: ct));
                return await conn.ExecuteAsync(new CommandDefinition(Leave, c, tx, cancellationToken: ct)) == 1
                    ? true
                    : Failure.NotFound("Membership");
            }, ct);
        }
    }
}
