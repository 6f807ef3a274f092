using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Users;

public static class ListUsers
{
    public sealed record ListUsersQuery(string? Search, long? Group, string? Role, int? Limit, int? Offset) : IQuery<Page<UserProfile>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/users",
                async Task<Ok<IReadOnlyList<UserProfile>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    string? search, long? group, string? role, int? limit, int? offset) =>
                {
                    var query = new ListUsersQuery(search, group, role, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListUsers").WithTags("Users").WithSummary("Search users by username, email or names; filter by group or role")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    public sealed class Validator : AbstractValidator<ListUsersQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Search).MaximumLength(200);
            RuleFor(x => x.Role).Must(r => r is null or "user" or "admin").WithMessage("role must be 'user' or 'admin'.");
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListUsersQuery, Page<UserProfile>>
    {
        private const string Filter = """
            WHERE (@search::text IS NULL OR u.username::text ILIKE @pattern OR u.email::text ILIKE @pattern
                   OR u.first_name ILIKE @pattern OR u.last_name ILIKE @pattern OR u.third_name ILIKE @pattern)
              AND (@role::text IS NULL OR u.role = @role)
              AND (@group::bigint IS NULL OR EXISTS (SELECT 1 FROM group_members gm WHERE gm.user_id = u.id AND gm.group_id = @group))
            """;

        public async ValueTask<Page<UserProfile>> Handle(ListUsersQuery q, CancellationToken ct)
        {
            var args = new
            {
                search = q.Search,
                pattern = q.Search is null ? null : LikePattern.Contains(q.Search),
                role = q.Role,
                group = q.Group,
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM users u {Filter}", args, cancellationToken: ct));
            var items = await UserProfiles.ListAsync(conn, $"{Filter} ORDER BY u.id LIMIT @limit OFFSET @offset", args, ct);
            return new Page<UserProfile>(items, total);
        }
    }
}
