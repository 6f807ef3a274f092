using Microsoft.AspNetCore.Http.Features;

namespace Slices.Api.Common.Http;

public static class RequestLimits
{
    public const long MaxJsonBytes = 1024 * 1024;
    public const long MaxUploadBytes = 5 * 1024 * 1024;

    // JSON and form bodies are held to 1 MiB; only multipart uploads may reach 5 MiB. Over it: 413.
    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var multipart = http.Request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true;
        var limit = multipart ? MaxUploadBytes : MaxJsonBytes;
        if (http.Request.ContentLength > limit)
        {
            await ProblemHandling.WriteAsync(http, new Failure(413, "payload_too_large", $"The request body is over the limit of {limit} bytes."));
            return;
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        await next(http);
    });
}
