using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Slices.Api.Features.Events;

// `GET /media/{path}`: stored uploads under `Media:Root` (EventsSettings.MediaRoot), public.
// Only image types are served (anything else under the root is 404, so a stray HTML file can never run as a page);
// no directory listing; paths that climb out of the root, dot-files and absent files are 404 problem+json (the
// status code pages answer for what the static files middleware passes on).
public static class Media
{
    public const string RequestPath = "/media";

    private static readonly Dictionary<string, string> ImageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".png"] = "image/png",
        [".webp"] = "image/webp",
    };

    // The public URL of a stored file, from its path relative to the media root.
    public static string? Url(string? relativePath) => relativePath is null ? null : $"{RequestPath}/{relativePath}";

    public static WebApplication UseMedia(this WebApplication app)
    {
        var files = new PhysicalFileProvider(app.Services.GetRequiredService<EventsSettings>().MediaRoot);
        app.Lifetime.ApplicationStopped.Register(files.Dispose);
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = RequestPath,
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(ImageTypes),
            ServeUnknownFileTypes = false,
            OnPrepareResponse = ctx =>
            {
                var headers = ctx.Context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
                // Stored names are generated and never reused: a file at a URL never changes.
                headers.CacheControl = "public, max-age=31536000, immutable";
            },
        });
        return app;
    }
}
