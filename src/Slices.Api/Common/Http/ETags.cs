using Microsoft.AspNetCore.Http.HttpResults;
using System.Globalization;

namespace Slices.Api.Common.Http;

/// <summary>
/// Optimistic concurrency on PostgreSQL's row version (<c>xmin</c>): a GET answers <c>ETag: "&lt;xmin&gt;"</c>,
/// and a write carrying <c>If-Match</c> only touches the row while its <c>xmin</c> is still that value,
/// so the check and the change are one statement. SQL reads it as <c>xmin::text::bigint AS version</c> and
/// guards writes with <see cref="Guard"/>.
/// </summary>
public static class ETags
{
    /// <summary>The SQL condition for a write: <c>@IfMatch</c> null (no header, or <c>*</c>) matches any version.</summary>
    public const string Guard = "(@IfMatch::bigint IS NULL OR xmin::text::bigint = @IfMatch)";

    public static string Format(long version) => $"\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    public static void Set(HttpContext http, long version) => http.Response.Headers.ETag = Format(version);

    /// <summary>
    /// The version an <c>If-Match</c> header asks for: null when absent or <c>*</c>; -1 (matches nothing) when it
    /// is not one of ours, which then fails with 412 as RFC 9110 requires.
    /// </summary>
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

    /// <summary>True when the request's <c>If-None-Match</c> names the current version: answer 304.</summary>
    public static bool NotModified(HttpContext http, long version)
    {
        var header = http.Request.Headers.IfNoneMatch.ToString();
        return header.Length > 0 && (header.Trim() == "*" || header.Split(',').Any(t => t.Trim().TrimStart('W', '/') == Format(version)));
    }
}

/// <summary>A resource read together with its row version, for the ETag.</summary>
public sealed record Versioned<T>(T Value, long Version);

public static class VersionedResults
{
    /// <summary>200 with the resource and its <c>ETag</c> (or 304 when <c>If-None-Match</c> already has it).</summary>
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
