using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

// An event body as JSON, however it came: `application/json` as is, or a form (`multipart/form-data`,
// `application/x-www-form-urlencoded`) as the JSON object of its fields plus its `image` file.
// Form fields: `organizations` repeated or comma-separated ids, `date` as YYYY-MM-DD (empty: null),
// `description` empty: null; `image` only as a file (a text field by that name is 400, an empty one means none).
// Any other content type is 415.
public static class EventBody
{
    public static async Task<(Result<JsonElement> Fields, IFormFile? Image)> ReadAsync(HttpRequest request, JsonSerializerOptions options, CancellationToken ct)
    {
        if (request.HasJsonContentType())
        {
            return (await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, options, ct), null);
        }

        if (!request.HasFormContentType)
        {
            throw new BadHttpRequestException("Expected JSON or multipart/form-data.", StatusCodes.Status415UnsupportedMediaType);
        }

        var form = await FormOrJson.ReadFormAsync(request, ct);
        var fields = new JsonObject();
        foreach (var (key, values) in form)
        {
            var value = values.ToString();
            switch (key)
            {
                case "date" when value.Length == 0:
                    fields[key] = null;
                    break;
                case "date" when !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                    return (Failure.Invalid("date", "date must be a date as YYYY-MM-DD."), null);
                case "image" when value.Length > 0:
                    return (Failure.Invalid("image", "image must be sent as a file (a form part with a filename), not as a text field."), null);
                case "image":
                    break;
                case "organizations":
                    var ids = values.SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
                    if (ids.Any(i => !long.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                    {
                        return (Failure.Invalid("organizations", "organizations must be organization ids, repeated or comma-separated."), null);
                    }

                    fields[key] = new JsonArray(ids.Select(i => (JsonNode)long.Parse(i, CultureInfo.InvariantCulture)).ToArray());
                    break;
                default:
                    fields[key] = key == "description" && value.Length == 0 ? null : value;
                    break;
            }
        }

        return (JsonSerializer.SerializeToElement(fields, options), form.Files.GetFile("image"));
    }
}
