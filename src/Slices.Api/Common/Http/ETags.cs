using Microsoft.AspNetCore.Http.HttpResults;
using System.Globalization;

namespace Slices.Api.Common.Http;

// Optimistic concurrency on PostgreSQL's row version (`xmin`): a GET answers `ETag: "<xmin>"`,
// and a write carrying `If-Match` only touches the row while its `xmin` is still that value,
// so the check and the change are one statement. SQL reads it as `xmin::text::bigint AS version` and
// guards writes with Guard.
public static class ETags
{
    // The SQL condition for a write: `@IfMatch` null (no header, or `*`) matches any version.
    public const string Guard = "(@IfMatch::bigint IS NULL OR xmin::text::bigint = @IfMatch)";

    // Guard in C#, for a handler that must answer a stale If-Match before anything else it would refuse (RFC 9110
    // 13.2.2); its guarded write still decides a race with a write after the read.
    public static bool IsStale(long? ifMatch, long version) => ifMatch is { } expected && expected != version;

    public static string Format(long version) => $"\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    public static void Set(HttpContext http, long version) => http.Response.Headers.ETag = Format(version);

    // The version an `If-Match` header asks for: null when absent or `*`; -1 (matches nothing) when it
    // is not one of ours, which then fails with 412 as RFC 9110 requires.
    public static long? IfMatch(HttpContext http)
    {
        var header = http.Request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*")
        {
            return null;
        }

        var first = header.Split(',')[0].Trim();
        if (first.StartsWith("W/", StringComparison.Ordinal))
        {
            first = first[2..];
        }

        return first.Length > 2 && first[0] == '"' && first[^1] == '"'
            && long.TryParse(first.AsSpan(1, first.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : -1;
    }

    // True when the request's `If-None-Match` names the current version: answer 304.
    public static bool NotModified(HttpContext http, long version)
    {
        var header = http.Request.Headers.IfNoneMatch.ToString();
        return header.Length > 0 && (header.Trim() == "*" || header.Split(',').Any(t => t.Trim().TrimStart('W', '/') == Format(version)));
    }
}

// A resource read together with its row version, for the ETag.
public sealed record Versioned<T>(T Value, long Version);

public static class VersionedResults
{
    // 200 with the resource and its `ETag` (or 304 when `If-None-Match` already has it).
    public static Results<Ok<T>, StatusCodeHttpResult, ProblemHttpResult> ToHttp<T>(this Result<Versioned<T>> result, HttpContext http)
    {
        if (!result.IsSuccess)
        {
            return result.Failure!.ToProblem();
        }

        var (value, version) = result.Value;
        ETags.Set(http, version);
        return ETags.NotModified(http, version) ? TypedResults.StatusCode(StatusCodes.Status304NotModified) : TypedResults.Ok(value);
    }
}
