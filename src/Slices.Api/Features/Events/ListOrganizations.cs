using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

public static class ListOrganizations
{
    public sealed record ListOrganizationsQuery(string? Search, int? Limit, int? Offset) : IQuery<Page<OrganizationView>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/organizations",
                async Task<Ok<IReadOnlyList<OrganizationView>>> (HttpContext http, ISender mediator, CancellationToken ct, string? search, int? limit, int? offset) =>
                {
                    var query = new ListOrganizationsQuery(search, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListOrganizations").WithTags("Organizations").WithSummary("Organizations, by id; ?search= finds a part of the title")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListOrganizationsQuery>
    {
        public Validator() => RuleFor(x => x.Search).MaximumLength(200);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListOrganizationsQuery, Page<OrganizationView>>
    {
        private const string Filter = "WHERE (@search::text IS NULL OR o.title ILIKE @pattern)";

        public async ValueTask<Page<OrganizationView>> Handle(ListOrganizationsQuery q, CancellationToken ct)
        {
            var args = new
            {
                search = q.Search,
                pattern = q.Search is null ? null : LikePattern.Contains(q.Search),
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM organizations o {Filter}", args, cancellationToken: ct));
            var items = await Organizations.ListAsync(conn, $"{Filter} ORDER BY o.id LIMIT @limit OFFSET @offset", args, ct);
            return new Page<OrganizationView>(items, total);
        }
    }
}
