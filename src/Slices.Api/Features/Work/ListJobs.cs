using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Work;

public static class ListJobs
{
    public static readonly string[] States = ["pending", "running", "succeeded", "failed"];

    public sealed record ListJobsQuery(string? State, string? Kind, int? Limit, int? Offset) : IQuery<Page<JobView>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/admin/jobs",
                async Task<Ok<IReadOnlyList<JobView>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    string? state, string? kind, int? limit, int? offset) =>
                {
                    var query = new ListJobsQuery(state, kind, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListJobs").WithTags("Work").WithSummary("Background jobs, newest first; ?state=failed lists those that gave up, with their last error")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    public sealed class Validator : AbstractValidator<ListJobsQuery>
    {
        public Validator()
        {
            RuleFor(x => x.State).Must(s => s is null || States.Contains(s)).WithMessage($"state must be one of {string.Join(", ", States)}.");
            RuleFor(x => x.Kind).MaximumLength(200);
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListJobsQuery, Page<JobView>>
    {
        private const string Filter = """
            WHERE (@state::text IS NULL OR j.state = @state) AND (@kind::text IS NULL OR j.kind = @kind)
            """;

        public async ValueTask<Page<JobView>> Handle(ListJobsQuery q, CancellationToken ct)
        {
            var args = new { state = q.State, kind = q.Kind, limit = q.LimitOf(), offset = q.OffsetOf() };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM jobs j {Filter}", args, cancellationToken: ct));
            var rows = await conn.QueryAsync<Jobs.Row>(new CommandDefinition(
                $"SELECT {Jobs.Columns} FROM jobs j {Filter} ORDER BY j.id DESC LIMIT @limit OFFSET @offset", args, cancellationToken: ct));
            return new Page<JobView>(rows.Select(r => r.ToView()).ToList(), total);
        }
    }
}
