using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace Slices.Api.Common.Http;

// Marks a create route as accepting `Idempotency-Key`.
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class IdempotentAttribute : Attribute;

public static class IdempotencyExtensions
{
    public static TBuilder Idempotent<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new IdempotentAttribute());
}

// Replays the first response to a repeated `Idempotency-Key` (same caller, same body, 24 h). The key is
// claimed by an insert before the handler runs, so of two concurrent requests only one executes; the other
// waits for the first one's response and replays it.
public sealed class IdempotencyMiddleware(RequestDelegate next, NpgsqlDataSource db, TimeProvider clock)
{
    private const int MaxKeyLength = 255;
    // How long a key replays (the contract says 24 h); older keys count as absent and are purged by Housekeeping.
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private static readonly TimeSpan WaitForFirst = TimeSpan.FromSeconds(15);

    public async Task InvokeAsync(HttpContext http)
    {
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length == 0 || !HttpMethods.IsPost(http.Request.Method) || http.GetEndpoint()?.Metadata.GetMetadata<IdempotentAttribute>() is null)
        {
            await next(http);
            return;
        }

        if (key.Length > MaxKeyLength)
        {
            await ProblemHandling.WriteAsync(http, Failure.Invalid("idempotency_key", $"Idempotency-Key must be at most {MaxKeyLength} characters."));
            return;
        }

        var ct = http.RequestAborted;
        var caller = http.User.FindFirstValue("sub") is { } sub ? "user:" + sub : "anonymous";
        var hash = await RequestHashAsync(http, ct);

        // An expired key that Housekeeping has not purged yet is taken over as if it were absent. Of two requests
        // taking over one key, the second waits for the first's row lock, then sees a fresh key and replays.
        const string claim = """
            INSERT INTO idempotency_keys AS k (caller, key, request_hash, created_at)
            VALUES (@caller, @key, @hash, @now)
            ON CONFLICT (caller, key) DO UPDATE
            SET request_hash = excluded.request_hash, created_at = excluded.created_at,
                status_code = NULL, content_type = NULL, location = NULL, body = NULL
            WHERE k.created_at < @cutoff
            """;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var now = clock.GetUtcNow().UtcDateTime;
            if (await conn.ExecuteAsync(new CommandDefinition(claim, new { caller, key, hash, now, cutoff = now - Lifetime }, cancellationToken: ct)) == 0)
            {
                await ReplayAsync(http, caller, key, hash, ct);
                return;
            }
        }

        await ExecuteAndStoreAsync(http, caller, key);
    }

    private static async Task<byte[]> RequestHashAsync(HttpContext http, CancellationToken ct)
    {
        http.Request.EnableBuffering();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            if (MultipartBoundary(http.Request) is { } boundary)
            {
                // A form's boundary is picked at random each time a client builds it, so a retried upload is never the
                // same bytes: hash what the boundary separates instead — each part's headers and content, in order.
                sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{http.Request.Path}\nmultipart/form-data\n"));
                var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, http.Request.Body);
                while (await reader.ReadNextSectionAsync(ct) is { } section)
                {
                    foreach (var (name, value) in section.Headers ?? [])
                    {
                        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name.ToLowerInvariant()}: {value}\n"));
                    }

                    sha.AppendData("\n"u8);
                    await AppendAsync(sha, section.Body, ct);
                    sha.AppendData("\n--\n"u8);
                }

                return sha.GetHashAndReset();
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // Not a well-formed form: hash its bytes, and let the route refuse it.
            sha.GetHashAndReset();
        }
        finally
        {
            http.Request.Body.Position = 0;
        }

        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{http.Request.Path}\n{http.Request.ContentType}\n"));
        await AppendAsync(sha, http.Request.Body, ct);
        http.Request.Body.Position = 0;
        return sha.GetHashAndReset();
    }

    private static string? MultipartBoundary(HttpRequest request) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
        && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
        && Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(type.Boundary).Value is { Length: > 0 } boundary
            ? boundary
            : null;

    private static async Task AppendAsync(IncrementalHash sha, Stream body, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            sha.AppendData(buffer, 0, read);
        }
    }

    private async Task ExecuteAndStoreAsync(HttpContext http, string caller, string key)
    {
        var original = http.Response.Body;
        await using var captured = new MemoryStream();
        http.Response.Body = captured;
        try
        {
            await next(http);
        }
        catch
        {
            await ForgetAsync(caller, key);
            throw;
        }
        finally
        {
            http.Response.Body = original;
        }

        if (http.Response.StatusCode >= 500)
        {
            // A server-side failure is not an answer worth replaying: let the client try the key again.
            await ForgetAsync(caller, key);
        }
        else
        {
            const string store = """
                UPDATE idempotency_keys
                SET status_code = @status, content_type = @contentType, location = @location, body = @body
                WHERE caller = @caller AND key = @key
                """;
            await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
            await conn.ExecuteAsync(store, new
            {
                status = http.Response.StatusCode,
                contentType = http.Response.ContentType,
                location = http.Response.Headers.Location.ToString() is { Length: > 0 } l ? l : null,
                body = captured.ToArray(),
                caller,
                key,
            });
        }

        captured.Position = 0;
        await captured.CopyToAsync(original, http.RequestAborted);
    }

    private async Task ForgetAsync(string caller, string key)
    {
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        await conn.ExecuteAsync("DELETE FROM idempotency_keys WHERE caller = @caller AND key = @key", new { caller, key });
    }

    private async Task ReplayAsync(HttpContext http, string caller, string key, byte[] hash, CancellationToken ct)
    {
        const string read = """
            SELECT request_hash AS RequestHash, status_code AS StatusCode, content_type AS ContentType, location AS Location, body AS Body
            FROM idempotency_keys WHERE caller = @caller AND key = @key
            """;
        var deadline = clock.GetUtcNow() + WaitForFirst;
        while (true)
        {
            StoredResponse? stored;
            await using (var conn = await db.OpenConnectionAsync(ct))
            {
                stored = await conn.QuerySingleOrDefaultAsync<StoredResponse>(new CommandDefinition(read, new { caller, key }, cancellationToken: ct));
            }

            if (stored is null)
            {
                // The first request failed and released the key: this one may run after all.
                await InvokeAsync(http);
                return;
            }

            if (!CryptographicOperations.FixedTimeEquals(stored.RequestHash, hash))
            {
                await ProblemHandling.WriteAsync(http, Failure.Conflict("idempotency_key_reused", "This Idempotency-Key was already used with a different request body."));
                return;
            }

            if (stored.StatusCode is { } status)
            {
                http.Response.StatusCode = status;
                http.Response.Headers["Idempotent-Replayed"] = "true";
                if (stored.ContentType is not null)
                {
                    http.Response.ContentType = stored.ContentType;
                }

                if (stored.Location is not null)
                {
                    http.Response.Headers.Location = stored.Location;
                }

                await http.Response.Body.WriteAsync(stored.Body ?? [], ct);
                return;
            }

            if (clock.GetUtcNow() > deadline)
            {
                await ProblemHandling.WriteAsync(http, Failure.Conflict("idempotency_key_in_progress", "A request with this Idempotency-Key is still being processed; retry shortly."));
                return;
            }

            await Task.Delay(25, ct);
        }
    }

    private sealed record StoredResponse(byte[] RequestHash, int? StatusCode, string? ContentType, string? Location, byte[]? Body);
}
