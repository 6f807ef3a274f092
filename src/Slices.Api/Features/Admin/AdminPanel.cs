using System.Security.Cryptography;
using Slices.Api.Common.Auth;
using Slices.Api.Features.Admin.Shell;

namespace Slices.Api.Features.Admin;

// The admin panel at `/admin`: Razor components rendered on the server (static SSR, no script), signed in through
// AdminCookie, every form carrying an antiforgery token. Pages live in `Pages/` and send the same
// mediator messages as the API's slices; AdminSections lists them for the navigation.
public static class AdminPanel
{
    public static IServiceCollection AddAdminPanel(this IServiceCollection services)
    {
        services.AddRazorComponents();
        services.AddAdminCookie();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "slices_admin_csrf";
            o.Cookie.Path = "/admin";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // The platform already answers X-Frame-Options: DENY for every response.
            o.SuppressXFrameOptionsHeader = true;
        });
        return services;
    }

    public static IEndpointRouteBuilder MapAdminPanel(this IEndpointRouteBuilder app)
    {
        app.MapGet(StyleSheet.Route, (HttpContext http) =>
            {
                // The URL carries the content's hash, so the file can be cached for good.
                http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
                return TypedResults.Bytes(StyleSheet.Content, "text/css; charset=utf-8");
            })
            .AllowAnonymous().ExcludeFromDescription();
        app.MapRazorComponents<AdminApp>().ExcludeFromDescription();
        return app;
    }

    // The panel's one stylesheet, embedded in the assembly (no static-files pipeline, no build step).
    public static class StyleSheet
    {
        public const string Route = "/admin/admin.css";

        public static byte[] Content { get; } = Load();

        public static string Href { get; } = $"{Route}?v={Convert.ToHexStringLower(SHA256.HashData(Content))[..12]}";

        private static byte[] Load()
        {
            using var stream = typeof(StyleSheet).Assembly.GetManifestResourceStream("admin.css")
                ?? throw new InvalidOperationException("The embedded resource admin.css is missing.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }
}
