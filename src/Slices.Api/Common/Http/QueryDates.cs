using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Http.Metadata;

namespace Slices.Api.Common.Http;

// The contract's dates are YYYY-MM-DD, its instants ISO 8601, and a malformed one is a 400 naming the parameter.
// Minimal APIs bind a DateOnly query value with DateOnly.TryParse (invariant culture), which also takes "01.05.2030" (as
// 5 January), "12/31/1980" or "May 1 2030", and a DateTimeOffset with DateTimeOffset.TryParse, which takes the same
// shapes with a time: they would answer for a day the client may not have meant. This runs after routing and
// authorization, before the handler: every DateOnly parameter a route binds from the query must be written YYYY-MM-DD,
// every DateTimeOffset one as an ISO 8601 instant (Instants). The parameters keep their types, and so their OpenAPI
// formats (`date`, `date-time`).
public static class QueryDates
{
    private static readonly ConcurrentDictionary<Endpoint, (string Name, bool Instant)[]> DateParameters = new();

    public static IApplicationBuilder UseStrictQueryDates(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        if (http.Request.QueryString.HasValue && http.GetEndpoint() is { } endpoint)
        {
            foreach (var (name, instant) in DateParameters.GetOrAdd(endpoint, Find))
            {
                foreach (var value in http.Request.Query[name])
                {
                    if (string.IsNullOrEmpty(value))
                    {
                        continue;
                    }

                    if (instant && !Instants.TryParse(value, out _))
                    {
                        return ProblemHandling.WriteAsync(http, Failure.Invalid(name, $"'{name}' must be an instant in ISO 8601, such as 2026-05-01T18:30:00Z."));
                    }

                    if (!instant && !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                    {
                        return ProblemHandling.WriteAsync(http, Failure.Invalid(name, $"'{name}' must be a date written YYYY-MM-DD."));
                    }
                }
            }
        }

        return next(http);
    });

    // The query names of the handler's DateOnly and DateTimeOffset parameters: [FromQuery(Name = ...)], else the
    // parameter's own name unless the route template or another source binds it.
    private static (string Name, bool Instant)[] Find(Endpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<MethodInfo>() is not { } handler)
        {
            return [];
        }

        var route = (endpoint as RouteEndpoint)?.RoutePattern;
        return handler.GetParameters()
            .Select(p => (Name: QueryName(p, route), Type: Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType))
            .Where(p => p.Name is not null && (p.Type == typeof(DateOnly) || p.Type == typeof(DateTimeOffset)))
            .Select(p => (p.Name!, p.Type == typeof(DateTimeOffset)))
            .ToArray();
    }

    private static string? QueryName(ParameterInfo parameter, RoutePattern? route)
    {
        var attributes = parameter.GetCustomAttributes().ToList();
        if (attributes.OfType<IFromQueryMetadata>().FirstOrDefault() is { } query)
        {
            return query.Name ?? parameter.Name;
        }

        var boundElsewhere = attributes.Any(a => a is IFromRouteMetadata or IFromBodyMetadata or IFromHeaderMetadata or IFromServiceMetadata or IFromFormMetadata)
            || route?.GetParameter(parameter.Name!) is not null;
        return boundElsewhere ? null : parameter.Name;
    }
}
