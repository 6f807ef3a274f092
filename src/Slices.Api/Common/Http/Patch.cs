using System.Text.Json;
using System.Text.Json.Nodes;

namespace Slices.Api.Common.Http;

// PATCH as "PUT of the current resource with the sent members replaced": a slice loads its replace-request for
// the current state, merges the client's members over it here, and sends it through the same validated
// replace handler. Members the client may not write are refused by name unless sent with the value the resource
// holds (resource: the resource as GET answers it), so that a client may send back what it read; members the resource
// does not have are ignored, as for POST and PUT. A `null` for a member the resource never holds null (notNull) is
// refused by name too: merged, it would read as "absent" and quietly become the member's default (stock 0, a booking
// active again).
public static class Patch
{
    public static Result<T> Merge<T>(T current, JsonElement resource, JsonElement patch, JsonSerializerOptions options, string[] readOnly, IReadOnlySet<string> notNull)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            return Failure.BadRequest("malformed_json", "A PATCH body must be a JSON object.");
        }

        var merged = JsonSerializer.SerializeToNode(current, options)!.AsObject();
        var refused = new Dictionary<string, string[]>();
        var nulls = new Dictionary<string, string[]>();
        foreach (var member in patch.EnumerateObject())
        {
            if (readOnly.Contains(member.Name, StringComparer.Ordinal))
            {
                if (!resource.TryGetProperty(member.Name, out var held) || !JsonElement.DeepEquals(held, member.Value))
                {
                    refused[member.Name] = [$"'{member.Name}' cannot be changed here."];
                }
            }
            else if (member.Value.ValueKind == JsonValueKind.Null && notNull.Contains(member.Name))
            {
                nulls[member.Name] = [$"'{member.Name}' may not be null."];
            }
            else if (merged.ContainsKey(member.Name))
            {
                merged[member.Name] = JsonNode.Parse(member.Value.GetRawText());
            }
        }

        if (refused.Count > 0)
        {
            return new Failure(StatusCodes.Status400BadRequest, "read_only_field", "The request tries to change members that are read-only.", refused);
        }

        if (nulls.Count > 0)
        {
            return Failure.Invalid(nulls);
        }

        return merged.Deserialize<T>(options)!;
    }
}
