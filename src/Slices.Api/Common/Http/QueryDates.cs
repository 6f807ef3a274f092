using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace Slices.Api.Common.Http;

// The contract's dates are YYYY-MM-DD, and a malformed one is a 400 naming the parameter. Minimal APIs bind a DateOnly
// query value with DateOnly.TryParse (invariant culture), which also takes "01.05.2030" (as 5 January), "12/31/1980" or
// "May 1 2030" and would answer for a day the client may not have meant. This runs after routing and authorization,
// before the handler: every DateOnly parameter a route binds from the query must be written YYYY-MM-DD.
public static class QueryDates
{
    private static readonly ConcurrentDictionary<Endpoint, string[]> DateParameters = new();

    public static IApplicationBuilder UseStrictQueryDates(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        if (http.Request.QueryString.HasValue && http.GetEndpoint() is { } endpoint)
        {
            foreach (var name in DateParameters.GetOrAdd(endpoint, Find))
            {
                foreach (var value in http.Request.Query[name])
                {
                    if (!string.IsNullOrEmpty(value) && !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                    {
                        return ProblemHandling.WriteAsync(http, Failure.Invalid(name, $"'{name}' must be a date written YYYY-MM-DD."));
                    }
                }
            }
        }

        return next(http);
    });

    // The query names of the handler's DateOnly parameters: [FromQuery(Name = ...)], else the parameter's own name unless
    // the route template or another source binds it.
    private static string[] Find(Endpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<MethodInfo>() is not { } handler)
        {
            return [];
        }

        var route = (endpoint as RouteEndpoint)?.RoutePattern;
        return handler.GetParameters()
            .Where(p => (Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType) == typeof(DateOnly))
            .Select(p => p.GetCustomAttributes().OfType<IFromQueryMetadata>().FirstOrDefault() is { } query
                ? query.Name ?? p.Name
                : p.GetCustomAttributes().Any(a => a is IFromRouteMetadata or IFromBodyMetadata or IFromHeaderMetadata or IFromServiceMetadata or IFromFormMetadata)
                  || route?.GetParameter(p.Name!) is not null ? null : p.Name)
            .OfType<string>()
            .ToArray();
    }
}
