using Microsoft.OpenApi;
using Npgsql;
using NpgsqlTypes;

namespace Slices.Api.Common.Data;

// Read-your-writes across read replicas, only when ConnectionStrings:ReadReplica is set. A successful write's answer
// carries the primary's WAL position after its commit, in the X-Slices-Lsn header and the slices_lsn cookie; a read
// that presents either (the greater wins) is served by a standby only once that standby has replayed it
// (ReadReplicas). The cookie lives Database:MaxReplicaLag: after that any standby still in use holds the write.
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadsFromStandbyAttribute : Attribute;

public sealed class ReadYourWrites(RequestDelegate next, NpgsqlDataSource primary, ReadReplicaSettings settings, ILogger<ReadYourWrites> logger)
{
    public const string Header = "X-Slices-Lsn";
    public const string Cookie = "slices_lsn";

    // A position no standby reaches: a malformed header or cookie is read on the primary, never more stale than asked.
    public static readonly NpgsqlLogSequenceNumber PrimaryOnly = new(ulong.MaxValue);

    private static readonly AsyncLocal<NpgsqlLogSequenceNumber> RequestFloor = new();

    // The caller's last write for the request being served; NpgsqlLogSequenceNumber.Invalid (0) when none was presented.
    public static NpgsqlLogSequenceNumber Floor => RequestFloor.Value;

    public Task InvokeAsync(HttpContext http)
    {
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method))
        {
            RequestFloor.Value = NpgsqlLogSequenceNumber.Larger(Parse(http.Request.Headers[Header]), Parse(http.Request.Cookies[Cookie]));
        }
        else
        {
            http.Response.OnStarting(() => StampAsync(http));
        }

        return next(http);
    }

    private static NpgsqlLogSequenceNumber Parse(string? text) =>
        string.IsNullOrEmpty(text) ? NpgsqlLogSequenceNumber.Invalid
        : NpgsqlLogSequenceNumber.TryParse(text, out var lsn) ? lsn
        : PrimaryOnly;

    // The WAL insert position rather than pg_current_wal_lsn(): with synchronous_commit off the commit record may
    // not be written out yet when the request answers, and the insert position is past it either way.
    private async Task StampAsync(HttpContext http)
    {
        if (http.Response.StatusCode >= 400)
        {
            return;
        }

        try
        {
            await using var conn = await primary.OpenConnectionAsync(http.RequestAborted);
            await using var cmd = new NpgsqlCommand("SELECT pg_current_wal_insert_lsn()", conn);
            var lsn = ((NpgsqlLogSequenceNumber)(await cmd.ExecuteScalarAsync(http.RequestAborted))!).ToString();
            http.Response.Headers[Header] = lsn;
            http.Response.Cookies.Append(Cookie, lsn, new CookieOptions
            {
                HttpOnly = true,
                Secure = http.Request.IsHttps,
                SameSite = SameSiteMode.Lax,
                IsEssential = true,
                MaxAge = TimeSpan.FromSeconds(Math.Ceiling(settings.MaxLag.TotalSeconds)),
            });
        }
        catch (NpgsqlException e)
        {
            // The write is committed; without its position the caller's next read may be served a little stale.
            logger.LogWarning("No WAL position for the answer to {Method} {Path}: {Reason}", http.Request.Method, http.Request.Path, e.Message);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client is gone.
        }
    }
}

public static class ReadYourWritesSetup
{
    // Marks a route whose reads may be served by a standby (ReadReplicas); the OpenAPI document names the header there.
    public static RouteHandlerBuilder ReadsFromStandby(this RouteHandlerBuilder route) => route.WithMetadata(new ReadsFromStandbyAttribute());

    public static IApplicationBuilder UseReadYourWrites(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<ReadReplicaSettings>().Hosts.Count > 0 ? app.UseMiddleware<ReadYourWrites>() : app;
}

// X-Slices-Lsn in the OpenAPI document: a request header on the routes that read from standbys, a response header on
// every write's success.
public static class ReadYourWritesDocs
{
    public static void Describe(OpenApiOperation operation, string? method, IList<object> metadata)
    {
        if (metadata.OfType<ReadsFromStandbyAttribute>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = ReadYourWrites.Header,
                In = ParameterLocation.Header,
                Description = "The X-Slices-Lsn of your last write (or the slices_lsn cookie): the answer then includes it. Without it the list may be up to Database:MaxReplicaLag stale when read replicas are configured.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
        else if (method is not null && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && operation.Responses is { } responses)
        {
            foreach (var (status, response) in responses)
            {
                if (status.StartsWith('2') && response is OpenApiResponse success)
                {
                    success.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    success.Headers[ReadYourWrites.Header] = new OpenApiHeader
                    {
                        Description = "With read replicas configured: the primary's WAL position after this write (also set as the slices_lsn cookie). Send it back on reads to see the write.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    };
                }
            }
        }
    }
}
