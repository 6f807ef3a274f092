using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class ListGroupMembers
{
    public sealed record ListGroupMembersQuery(long GroupId, int? Limit, int? Offset) : IQuery<Result<Page<GroupMember>>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/groups/{id:long}/users",
                async Task<Results<Ok<IReadOnlyList<GroupMember>>, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct, int? limit, int? offset) =>
                {
                    var query = new ListGroupMembersQuery(id, limit, offset);
                    return (await mediator.Send(query, ct)).ToHttp(page => Paging.Ok(http, query, page));
                })
            .WithName("ListGroupMembers").WithTags("Groups").WithSummary("The members of a group, by id")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListGroupMembersQuery, Result<Page<GroupMember>>>
    {
        private const string GroupExists = "SELECT EXISTS (SELECT 1 FROM groups WHERE id = @GroupId)";

        private const string Count = "SELECT count(*) FROM group_members WHERE group_id = @GroupId";

        private const string Members = $"""
            {TrainingGroups.SelectMember} JOIN group_members gm ON gm.user_id = u.id
            WHERE gm.group_id = @GroupId ORDER BY u.id LIMIT @limit OFFSET @offset
            """;

        public async ValueTask<Result<Page<GroupMember>>> Handle(ListGroupMembersQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(GroupExists, q, cancellationToken: ct)))
            {
                return Failure.NotFound("Group");
            }

            var args = new { q.GroupId, limit = q.LimitOf(), offset = q.OffsetOf() };
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Count, args, cancellationToken: ct));
            var items = await conn.QueryAsync<GroupMember>(new CommandDefinition(Members, args, cancellationToken: ct));
            return new Page<GroupMember>(items.ToList(), total);
        }
    }
}
