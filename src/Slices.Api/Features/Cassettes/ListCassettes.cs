using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Cassettes;

public static class ListCassettes
{
    private static readonly Dictionary<string, string> OrderBy = new(StringComparer.Ordinal)
    {
        ["title"] = "lower(c.title), c.id",
        ["-title"] = "lower(c.title) DESC, c.id DESC",
        ["released"] = "c.released, c.id",
        ["-released"] = "c.released DESC, c.id DESC",
    };

    public sealed record ListCassettesQuery(
        string? Search, string? Director, DateOnly? ReleasedFrom, DateOnly? ReleasedTo, bool? InStock, string? Ordering, int? Limit, int? Offset)
        : IQuery<Page<Cassette>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/cassettes",
                async Task<Ok<IReadOnlyList<Cassette>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    string? search, string? director,
                    [FromQuery(Name = "released_from")] DateOnly? releasedFrom,
                    [FromQuery(Name = "released_to")] DateOnly? releasedTo,
                    [FromQuery(Name = "in_stock")] bool? inStock,
                    string? ordering, int? limit, int? offset) =>
                {
                    var query = new ListCassettesQuery(search, director, releasedFrom, releasedTo, inStock, ordering, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListCassettes").ReadsFromStandby().WithTags("Cassettes")
            .WithSummary("Search by title or director; filter by director, release dates (inclusive) and stock; order by title or released")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListCassettesQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Search).MaximumLength(200);
            RuleFor(x => x.Director).MaximumLength(CassetteFieldsValidator.MaxText);
            RuleFor(x => x.Ordering).Must(o => o is null || OrderBy.ContainsKey(o))
                .WithMessage($"ordering must be one of {string.Join(", ", OrderBy.Keys)}.");
        }
    }

    // The catalogue may be a moment stale: it reads from a standby when one is configured (ReadReplicas).
    public sealed class Handler(ReadReplicas replicas) : IQueryHandler<ListCassettesQuery, Page<Cassette>>
    {
        private const string Filter = """
            WHERE (@pattern::text IS NULL OR c.title ILIKE @pattern OR c.director ILIKE @pattern)
              AND (@director::text IS NULL OR lower(c.director) = lower(@director))
              AND (@releasedFrom::date IS NULL OR c.released >= @releasedFrom)
              AND (@releasedTo::date IS NULL OR c.released <= @releasedTo)
              AND (@inStock::boolean IS NULL OR (c.quantity > 0) = @inStock)
            """;

        public async ValueTask<Page<Cassette>> Handle(ListCassettesQuery q, CancellationToken ct)
        {
            var args = new
            {
                pattern = q.Search is null ? null : LikePattern.Contains(q.Search),
                director = q.Director,
                releasedFrom = q.ReleasedFrom,
                releasedTo = q.ReleasedTo,
                inStock = q.InStock,
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            var orderBy = q.Ordering is null ? "c.id" : OrderBy[q.Ordering];
            return await replicas.ReadAsync(async conn =>
            {
                var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM cassettes c {Filter}", args, cancellationToken: ct));
                var rows = await conn.QueryAsync<Cassettes.Row>(new CommandDefinition(
                    $"{Cassettes.Select} {Filter} ORDER BY {orderBy} LIMIT @limit OFFSET @offset", args, cancellationToken: ct));
                return new Page<Cassette>(rows.Select(r => r.ToCassette()).ToList(), total);
            }, ct);
        }
    }
}
