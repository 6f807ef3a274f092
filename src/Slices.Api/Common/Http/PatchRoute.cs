using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Slices.Api.Common.Http;

public static class PatchRoute
{
    // The JSON names of a resource type's members that are never null (from its nullable annotations), once per type.
    private static readonly ConcurrentDictionary<Type, FrozenSet<string>> NotNull = new();

    // A PATCH endpoint's whole work: load the resource with load, merge the sent members over its
    // replace-request (toChanges, refusing readOnly members sent with another value than the resource's), and send the same
    // validated replace command PUT uses, guarded by the request's `If-Match`.
    public static async Task<Results<Ok<T>, StatusCodeHttpResult, ProblemHttpResult>> MergeAndReplaceAsync<T, TChanges>(
        this ISender mediator,
        HttpContext http,
        JsonElement patch,
        IQuery<Result<Versioned<T>>> load,
        Func<T, TChanges> toChanges,
        Func<TChanges, long?, ICommand<Result<Versioned<T>>>> replace,
        string[] readOnly,
        CancellationToken ct)
    {
        var current = await mediator.Send(load, ct);
        if (!current.IsSuccess)
        {
            return current.Failure!.ToProblem();
        }

        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var notNull = NotNull.GetOrAdd(typeof(T), t => options.GetTypeInfo(t).Properties.Where(p => !p.IsGetNullable).Select(p => p.Name).ToFrozenSet(StringComparer.Ordinal));
        var resource = JsonSerializer.SerializeToElement(current.Value.Value, options);
        var merged = Patch.Merge(toChanges(current.Value.Value), resource, patch, options, readOnly, notNull);
        return merged.IsSuccess
            ? (await mediator.Send(replace(merged.Value, ETags.IfMatch(http)), ct)).ToHttp(http)
            : merged.Failure!.ToProblem();
    }
}
