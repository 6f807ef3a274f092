using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class ListGroups
{
    public sealed record ListGroupsQuery(string? Search, int? Limit, int? Offset) : IQuery<Page<TrainingGroup>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/groups",
                async Task<Ok<IReadOnlyList<TrainingGroup>>> (HttpContext http, ISender mediator, CancellationToken ct, string? search, int? limit, int? offset) =>
                {
                    var query = new ListGroupsQuery(search, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListGroups").WithTags("Groups").WithSummary("Training groups, by name; ?search= matches the name")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListGroupsQuery>
    {
        public Validator() => RuleFor(x => x.Search).MaximumLength(200);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListGroupsQuery, Page<TrainingGroup>>
    {
        private const string Filter = "WHERE (@search::text IS NULL OR name ILIKE @pattern)";

        public async ValueTask<Page<TrainingGroup>> Handle(ListGroupsQuery q, CancellationToken ct)
        {
            var args = new { search = q.Search, pattern = q.Search is null ? null : LikePattern.Contains(q.Search), limit = q.LimitOf(), offset = q.OffsetOf() };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM groups {Filter}", args, cancellationToken: ct));
            var items = await conn.QueryAsync<TrainingGroup>(new CommandDefinition(
                $"SELECT id, name, description FROM groups {Filter} ORDER BY name, id LIMIT @limit OFFSET @offset", args, cancellationToken: ct));
            return new Page<TrainingGroup>(items.ToList(), total);
        }
    }
}
