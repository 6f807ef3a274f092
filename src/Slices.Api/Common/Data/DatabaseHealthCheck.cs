using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Data;

// Ready means the database answers; migrations ran before the service started listening.
public sealed class DatabaseHealthCheck(NpgsqlDataSource db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var conn = await db.OpenConnectionAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The database is not reachable.", e);
        }
    }

    // "Healthy" as plain text; not ready is a 503 problem+json like every other error answer.
    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        if (report.Status == HealthStatus.Healthy)
        {
            http.Response.ContentType = "text/plain";
            return http.Response.WriteAsync("Healthy");
        }

        http.Response.Headers.RetryAfter = "5";
        return ProblemHandling.WriteAsync(http, new Failure(503, "not_ready", "The database is not reachable."));
    }
}
