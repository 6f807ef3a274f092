using System.Data;
using System.Text.Json;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Work;

public static class GetWebhook
{
    public sealed record GetWebhookQuery(long Id) : IQuery<Result<WebhookDetail>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/admin/webhooks/{id:long}",
                async Task<Results<Ok<WebhookDetail>, ProblemHttpResult>> (long id, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetWebhookQuery(id), ct)).ToHttp(TypedResults.Ok))
            .WithName("GetWebhook").WithTags("Work").WithSummary("One webhook delivery: its body and every attempt with status code and the start of the answer")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    // The delivery with its body in one read, and its attempts, both in one snapshot (the attempt count and the log agree).
    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetWebhookQuery, Result<WebhookDetail>>
    {
        private const string Delivery = $"SELECT {WebhookDeliveries.SummaryColumns}, d.body FROM {WebhookDeliveries.SummarySource} WHERE d.id = @id";

        private const string Attempts = """
            SELECT a.attempted_at, a.status_code, a.error, a.response_snippet, a.duration_ms
            FROM webhook_attempts a WHERE a.delivery_id = @id ORDER BY a.id
            """;

        public async ValueTask<Result<WebhookDetail>> Handle(GetWebhookQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            var (d, body) = (await conn.QueryAsync<WebhookSummary, string, (WebhookSummary, string)>(
                new CommandDefinition(Delivery, new { id = q.Id }, tx, cancellationToken: ct), (summary, body) => (summary, body), splitOn: "body"))
                .SingleOrDefault();
            if (d is null)
            {
                return Failure.NotFound("Webhook delivery");
            }

            var attempts = await conn.QueryAsync<WebhookAttempt>(new CommandDefinition(Attempts, new { id = q.Id }, tx, cancellationToken: ct));
            using var json = JsonDocument.Parse(body);
            return new WebhookDetail(d.Id, d.DeliveryId, d.Url, d.EventType, d.State, d.Attempts, d.LastStatusCode, d.LastError,
                d.Job, d.CreatedAt, d.DeliveredAt, json.RootElement.Clone(), attempts.ToList());
        }
    }
}
