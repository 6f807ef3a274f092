using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class DeleteGroup
{
    public sealed record DeleteGroupCommand(long Id, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/groups/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteGroupCommand(id, ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteGroup").WithTags("Groups").WithSummary("Delete a group and its memberships; a group with trainings cannot be deleted (409 in_use)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteGroupCommand, Result<bool>>
    {
        // FOR UPDATE conflicts with the key-share lock a new training's (or membership's) foreign key takes on its
        // group, so no training can be added between the check and the delete, and no member.
        private const string Lock = "SELECT id FROM groups WHERE id = @Id FOR UPDATE";

        // Then the members' users rows, in id order, before the delete cascades to group_members, whose trigger touches
        // them (UserProfiles.LockForMembership says why). After the group's lock, so that no one can join meanwhile.
        private const string LockMembers = """
            SELECT id FROM users WHERE id IN (SELECT user_id FROM group_members WHERE group_id = @Id) ORDER BY id FOR NO KEY UPDATE
            """;

        private const string HasTrainings = "SELECT EXISTS (SELECT 1 FROM trainings WHERE group_id = @Id)";
        private const string Delete = $"DELETE FROM groups WHERE id = @Id AND {ETags.Guard}";

        public async ValueTask<Result<bool>> Handle(DeleteGroupCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                if (await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(Lock, c, tx, cancellationToken: ct)) is null)
                {
                    return Failure.NotFound("Group");
                }

                await conn.ExecuteAsync(new CommandDefinition(LockMembers, c, tx, cancellationToken: ct));

                if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(HasTrainings, c, tx, cancellationToken: ct)))
                {
                    return Failure.Conflict("in_use", "The group has trainings; delete them first.");
                }

                return await conn.ExecuteAsync(new CommandDefinition(Delete, c, tx, cancellationToken: ct)) == 1
                    ? true
                    : Failure.PreconditionFailed();
            }, ct);
        }
    }
}
