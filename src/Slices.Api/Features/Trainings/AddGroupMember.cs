using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Users;

[assembly: PgConstraint("group_members_pkey", 409, "already_member", "The user is already a member of this group.")]
[assembly: PgConstraint("group_members_user_id_fkey", 400, "unknown_user", "The user does not exist.")]

namespace Slices.Api.Features.Trainings;

public static class AddGroupMember
{
    public sealed record AddGroupMemberRequest(long? User);

    public sealed record AddGroupMemberCommand(long GroupId, long? User) : ICommand<Result<GroupMember>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/groups/{id:long}/users",
                async Task<Results<Created<GroupMember>, ProblemHttpResult>> (long id, AddGroupMemberRequest body, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new AddGroupMemberCommand(id, body.User), ct)).ToHttp(m => TypedResults.Created($"/api/groups/{id}/users/{m.Id}", m)))
            .WithName("AddGroupMember").WithTags("Groups").WithSummary("Add a user to a group (409 already_member)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<AddGroupMemberCommand>
    {
        public Validator() => RuleFor(x => x.User).NotNull();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<AddGroupMemberCommand, Result<GroupMember>>
    {
        // An absent group adds nothing (404); an absent user or a second membership is a constraint violation.
        private const string Insert = $"""
            WITH added AS (
                INSERT INTO group_members (group_id, user_id)
                SELECT g.id, @User FROM groups g WHERE g.id = @GroupId
                RETURNING user_id)
            {TrainingGroups.SelectMember} JOIN added ON added.user_id = u.id
            """;

        public async ValueTask<Result<GroupMember>> Handle(AddGroupMemberCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<GroupMember>>(async (conn, tx) =>
            {
                await conn.ExecuteAsync(new CommandDefinition(UserProfiles.LockForMembership, new { groups = new[] { c.GroupId }, leaving = Array.Empty<long>(), users = new[] { c.User } }, tx, cancellationToken: ct));
                var member = await conn.QuerySingleOrDefaultAsync<GroupMember>(new CommandDefinition(Insert, c, tx, cancellationToken: ct));
                return member is null ? Failure.NotFound("Group") : member;
            }, ct);
        }
    }
}
