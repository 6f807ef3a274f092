using System.Globalization;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Slices.Api.Common.Http;

// A list query: `limit` (default 50, 1–500) and `offset` (≥ 0).
public interface IPagedQuery
{
    int? Limit { get; }

    int? Offset { get; }
}

public sealed record Page<T>(IReadOnlyList<T> Items, long Total);

public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static int LimitOf(this IPagedQuery q) => q.Limit ?? DefaultLimit;

    public static int OffsetOf(this IPagedQuery q) => q.Offset ?? 0;

    public static IEnumerable<ValidationFailure> Validate(IPagedQuery q)
    {
        if (q.Limit is < 1 or > MaxLimit)
        {
            yield return new ValidationFailure("Limit", $"limit must be between 1 and {MaxLimit}.");
        }

        if (q.Offset is < 0)
        {
            yield return new ValidationFailure("Offset", "offset must be 0 or more.");
        }
    }

    // The page as a JSON array, with `X-Total-Count` and RFC 8288 `Link` next/prev.
    public static Ok<IReadOnlyList<T>> Ok<T>(HttpContext http, IPagedQuery query, Page<T> page)
    {
        var limit = query.LimitOf();
        var offset = query.OffsetOf();
        http.Response.Headers["X-Total-Count"] = page.Total.ToString(CultureInfo.InvariantCulture);
        var links = new List<string>();
        // In long: an offset near int.MaxValue plus the limit would wrap to a negative "next" offset.
        if ((long)offset + limit < page.Total)
        {
            links.Add($"<{PageUrl(http.Request, limit, offset + limit)}>; rel=\"next\"");
        }

        if (offset > 0)
        {
            links.Add($"<{PageUrl(http.Request, limit, Math.Max(0, offset - limit))}>; rel=\"prev\"");
        }

        if (links.Count > 0)
        {
            http.Response.Headers.Link = string.Join(", ", links);
        }

        return TypedResults.Ok(page.Items);
    }

    private static string PageUrl(HttpRequest request, int limit, int offset)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.QueryString.Value);
        var builder = new QueryBuilder();
        foreach (var (key, values) in query)
        {
            if (key is not ("limit" or "offset"))
            {
                foreach (var v in values)
                {
                    builder.Add(key, v ?? string.Empty);
                }
            }
        }

        builder.Add("limit", limit.ToString(CultureInfo.InvariantCulture));
        builder.Add("offset", offset.ToString(CultureInfo.InvariantCulture));
        return UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path, builder.ToQueryString());
    }
}
