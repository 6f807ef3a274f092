using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Holds;

public static class ListHolds
{
    public sealed record ListHoldsQuery(Caller Caller, string? Status, int? Limit, int? Offset) : IQuery<Page<Hold>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/holds",
                async Task<Ok<IReadOnlyList<Hold>>> (HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct, string? status, int? limit, int? offset) =>
                {
                    var query = new ListHoldsQuery(user.Caller(), status, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListHolds").WithTags("Holds")
            .WithSummary("Your holds, newest first; ?status=active|expired|released|converted (as the client sees it: past expires_at is expired)")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListHoldsQuery>
    {
        public Validator() => RuleFor(x => x.Status).Must(s => s is null || HoldStatus.All.Contains(s))
            .WithMessage($"status must be one of {string.Join(", ", HoldStatus.All)}.");
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<ListHoldsQuery, Page<Hold>>
    {
        // The status as the client sees it: an active hold whose time is up is expired, whether or not its job has run.
        private const string Filter = """
            WHERE h.user_id = @user
              AND (@status::text IS NULL
                   OR (@status = 'active' AND h.status = 'active' AND h.expires_at > @now)
                   OR (@status = 'expired' AND (h.status = 'expired' OR (h.status = 'active' AND h.expires_at <= @now)))
                   OR (@status NOT IN ('active', 'expired') AND h.status = @status))
            """;

        public async ValueTask<Page<Hold>> Handle(ListHoldsQuery q, CancellationToken ct)
        {
            var args = new { user = q.Caller.Id, status = q.Status, now = clock.GetUtcNow().UtcDateTime, limit = q.LimitOf(), offset = q.OffsetOf() };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM holds h {Filter}", args, cancellationToken: ct));
            var items = await Holds.QueryAsync(conn, $"SELECT {Holds.Columns} FROM holds h {Filter} ORDER BY h.id DESC LIMIT @limit OFFSET @offset", args, ct);
            return new Page<Hold>(items.Select(h => h.Value).ToList(), total);
        }
    }
}
