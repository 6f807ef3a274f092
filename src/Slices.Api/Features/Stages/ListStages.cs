using System.Globalization;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class ListStages
{
    // Services: comma-separated service ids (`1,2`, or the parameter repeated); a stage must offer all of them.
    public sealed record ListStagesQuery(string? Services, string? Search, int? Limit, int? Offset) : IQuery<Page<Stage>>, IPagedQuery
    {
        public long[]? ServiceIds => Services is null
            ? null
            : Services.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(s => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).Distinct().ToArray();
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/stages",
                async Task<Ok<IReadOnlyList<Stage>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    string? services, string? search, int? limit, int? offset) =>
                {
                    var query = new ListStagesQuery(services, search, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListStages").ReadsFromStandby().WithTags("Stages")
            .WithSummary("Stages by id; ?services=1,2 keeps those offering all of them, ?search= matches name or address")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListStagesQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Services)
                .Must(s => s is null || s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .All(id => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                .WithMessage("services must be comma-separated service ids, e.g. 1,2.");
            RuleFor(x => x.Search).MaximumLength(200);
        }
    }

    // May be a moment stale: reads from a standby when one is configured (ReadReplicas).
    public sealed class Handler(ReadReplicas replicas) : IQueryHandler<ListStagesQuery, Page<Stage>>
    {
        private const string Filter = """
            WHERE (@services::bigint[] IS NULL
                   OR ARRAY(SELECT ss.service_id FROM stage_services ss WHERE ss.stage_id = s.id) @> @services::bigint[])
              AND (@search::text IS NULL OR s.name ILIKE @pattern OR s.address ILIKE @pattern)
            """;

        public async ValueTask<Page<Stage>> Handle(ListStagesQuery q, CancellationToken ct)
        {
            var args = new
            {
                services = q.ServiceIds,
                search = q.Search,
                pattern = q.Search is null ? null : LikePattern.Contains(q.Search),
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            return await replicas.ReadAsync(async conn =>
            {
                var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM stages s {Filter}", args, cancellationToken: ct));
                var items = await Stages.ListAsync(conn, $"{Filter} ORDER BY s.id LIMIT @limit OFFSET @offset", args, ct);
                return new Page<Stage>(items, total);
            }, ct);
        }
    }
}
