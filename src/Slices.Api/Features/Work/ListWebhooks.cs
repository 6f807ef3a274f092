using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Work;

public static class ListWebhooks
{
    public sealed record ListWebhooksQuery(string? State, string? EventType, int? Limit, int? Offset) : IQuery<Page<WebhookSummary>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/admin/webhooks",
                async Task<Ok<IReadOnlyList<WebhookSummary>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    string? state, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "event_type")] string? eventType, int? limit, int? offset) =>
                {
                    var query = new ListWebhooksQuery(state, eventType, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListWebhooks").WithTags("Work").WithSummary("Outgoing webhook deliveries, newest first; ?state=failed lists those that gave up")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    public sealed class Validator : AbstractValidator<ListWebhooksQuery>
    {
        public Validator()
        {
            RuleFor(x => x.State).Must(s => s is null || WebhookDeliveries.States.Contains(s))
                .WithMessage($"state must be one of {string.Join(", ", WebhookDeliveries.States)}.");
            RuleFor(x => x.EventType).MaximumLength(200);
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListWebhooksQuery, Page<WebhookSummary>>
    {
        private const string Filter = """
            WHERE (@state::text IS NULL OR d.state = @state) AND (@eventType::text IS NULL OR d.event_type = @eventType)
            """;

        public async ValueTask<Page<WebhookSummary>> Handle(ListWebhooksQuery q, CancellationToken ct)
        {
            var args = new { state = q.State, eventType = q.EventType, limit = q.LimitOf(), offset = q.OffsetOf() };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM webhook_deliveries d {Filter}", args, cancellationToken: ct));
            var items = await conn.QueryAsync<WebhookSummary>(new CommandDefinition(
                $"{WebhookDeliveries.SelectSummary} {Filter} ORDER BY d.id DESC LIMIT @limit OFFSET @offset", args, cancellationToken: ct));
            return new Page<WebhookSummary>(items.ToList(), total);
        }
    }
}
