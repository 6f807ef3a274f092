using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Slices.Api.Common.Http;

public static class HttpPipeline
{
    public const string LoginPolicy = "login";
    public const string PublicWritePolicy = "public-write";
    public const string HoldsPolicy = "holds";

    // `/api/stages/` is `/api/stages`: the contract accepts a trailing slash everywhere.
    public static IApplicationBuilder UseTrailingSlashTolerance(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        var path = http.Request.Path.Value;
        // The Scalar UI redirects /scalar to /scalar/ itself, so that its assets resolve relative to it.
        if (path is { Length: > 1 } && path[^1] == '/' && !http.Request.Path.StartsWithSegments("/scalar"))
        {
            http.Request.Path = new PathString(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/");
        }

        return next(http);
    });

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            // The Scalar UI runs its own inline bootstrap script; every other HTML page is ours and needs no inline script.
            if (http.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true
                && !http.Request.Path.StartsWithSegments("/scalar"))
            {
                headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'";
            }

            return Task.CompletedTask;
        });
        return next(http);
    });

    // Per-client-address limits for the routes anyone can hammer (log in, public reservation requests), and per-user
    // limits for places held (a hold takes a scarce place at once: holds made and let go in a loop could lock others out).
    // Rejections are 429 problem+json with `Retry-After`, not the built-in 503.
    public static IServiceCollection AddSlicesRateLimits(this IServiceCollection services, RateLimitSettings limits)
    {
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(LoginPolicy, http => PerAddress(http, limits.Login));
            o.AddPolicy(PublicWritePolicy, http => PerAddress(http, limits.PublicWrite));
            o.AddPolicy(HoldsPolicy, http => Partition("user:" + (http.User.FindFirst("sub")?.Value ?? "anonymous"), limits.Holds));
            o.OnRejected = async (ctx, _) =>
            {
                var retryAfter = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : 60;
                await ProblemHandling.WriteAsync(ctx.HttpContext, new Failure(429, "rate_limited", $"Too many requests; retry after {retryAfter} s.") { RetryAfterSeconds = retryAfter });
            };
        });
        return services;
    }

    private static RateLimitPartition<string> PerAddress(HttpContext http, RateLimit limit) =>
        Partition(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", limit);

    private static RateLimitPartition<string> Partition(string key, RateLimit limit) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            QueueLimit = 0,
        });
}

public sealed record RateLimit(int PermitLimit, TimeSpan Window);

// The `RateLimits:Login:*`, `RateLimits:PublicWrite:*` and `RateLimits:Holds:*` settings, read once at start-up (Program.cs).
public sealed record RateLimitSettings(RateLimit Login, RateLimit PublicWrite, RateLimit Holds)
{
    public static RateLimitSettings Load(IConfiguration config) =>
        new(Limit(config, "RateLimits:Login"), Limit(config, "RateLimits:PublicWrite"), Limit(config, "RateLimits:Holds"));

    private static RateLimit Limit(IConfiguration config, string section) => new(
        Settings.Number(config, $"{section}:PermitLimit", 60, 1, 100_000_000),
        Settings.Duration(config, $"{section}:Window", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)));
}
