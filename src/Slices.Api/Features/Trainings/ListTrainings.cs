using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Slices.Api.Common.Data;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class ListTrainings
{
    public sealed record ListTrainingsQuery(Caller Caller, DateOnly? DateFrom, DateOnly? DateTo, long? Group, int? Limit, int? Offset)
        : IQuery<Page<Training>>, IPagedQuery, IPeriodQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/trainings",
                async Task<Ok<IReadOnlyList<Training>>> (HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct,
                    [FromQuery(Name = "date_from")] DateOnly? dateFrom, [FromQuery(Name = "date_to")] DateOnly? dateTo, long? group, int? limit, int? offset) =>
                {
                    var query = new ListTrainingsQuery(user.Caller(), dateFrom, dateTo, group, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListTrainings").ReadsFromStandby().WithTags("Trainings")
            .WithSummary("Trainings of your groups (admin: all) by date and start time; ?date_from=&date_to= inclusive, ?group=")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListTrainingsQuery>
    {
        public Validator() => this.PeriodRules();
    }

    // May be a moment stale: reads from a standby when one is configured (ReadReplicas).
    public sealed class Handler(ReadReplicas replicas) : IQueryHandler<ListTrainingsQuery, Page<Training>>
    {
        private const string Filter = $"""
            WHERE {Trainings.VisibleToCaller} AND {Period.Sql} AND (@Group::bigint IS NULL OR t.group_id = @Group)
            """;

        public async ValueTask<Page<Training>> Handle(ListTrainingsQuery q, CancellationToken ct)
        {
            var args = new { admin = q.Caller.IsAdmin, caller = q.Caller.Id, q.DateFrom, q.DateTo, q.Group, limit = q.LimitOf(), offset = q.OffsetOf() };
            return await replicas.ReadAsync(async conn =>
            {
                var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM trainings t {Filter}", args, cancellationToken: ct));
                var items = await Trainings.ListAsync(conn, $"{Filter} ORDER BY t.date, t.start_time, t.id LIMIT @limit OFFSET @offset", args, ct);
                return new Page<Training>(items, total);
            }, ct);
        }
    }
}
