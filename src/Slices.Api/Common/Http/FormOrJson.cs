using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Slices.Api.Common.Http;

// Bodies that browsers and old clients post as forms and newer clients as JSON (log in, cancel link):
// either becomes the same record. Anything else is 415.
public static class FormOrJson
{
    public static readonly string[] ContentTypes = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];

    public static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken ct)
    {
        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        if (request.HasFormContentType)
        {
            var form = await ReadFormAsync(request, ct);
            var node = new JsonObject();
            foreach (var (key, value) in form)
            {
                node[key] = value.ToString();
            }

            return node.Deserialize<T>(options);
        }

        if (request.HasJsonContentType())
        {
            return await request.ReadFromJsonAsync<T>(options, ct);
        }

        throw new BadHttpRequestException("Expected JSON or a form.", StatusCodes.Status415UnsupportedMediaType);
    }

    // The request's form; a form that does not parse (no boundary, a part cut short) is a MalformedFormException,
    // which answers 400 malformed_form. The framework throws InvalidDataException and IOException for those; its own
    // BadHttpRequestException (413, a body cut short) keeps its meaning.
    public static async Task<IFormCollection> ReadFormAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await request.ReadFormAsync(ct);
        }
        catch (Exception e) when (e is InvalidDataException || (e is IOException and not BadHttpRequestException))
        {
            throw new MalformedFormException(e);
        }
    }
}

public sealed class MalformedFormException(Exception inner) : Exception("The form body is malformed.", inner);
