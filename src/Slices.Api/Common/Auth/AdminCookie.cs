using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Npgsql;

namespace Slices.Api.Common.Auth;

// The admin panel's own sign-in: a cookie scheme beside the API's JWT (which stays the default scheme, so no API
// route ever reads the cookie). The cookie carries a row of the same `sessions` table the API's tokens use and is
// checked against it on every request, so signing out, deactivating the user or taking away the admin role ends it at once.
public static class AdminCookie
{
    public const string Scheme = "AdminCookie";

    // The policy of every panel page: signed in through the cookie, as an admin.
    public const string Policy = "admin-panel";

    public const string SignInPath = "/admin/signin";

    public static IServiceCollection AddAdminCookie(this IServiceCollection services)
    {
        services.AddAuthentication().AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "slices_admin";
            o.Cookie.Path = "/admin";
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.LoginPath = SignInPath;
            o.LogoutPath = "/admin/signout";
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = CheckSessionAsync;
            // Reached only if a page ever asks for more than the admin role; there is no access-denied page to send anyone to.
            o.Events.OnRedirectToAccessDenied = ctx =>
            {
                ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole("admin"));
        return services;
    }

    // What the cookie holds: the user, the session, and a name to show.
    public static ClaimsPrincipal Principal(long userId, Guid sessionId, string name) => new(new ClaimsIdentity(
        [
            new Claim("sub", userId.ToString(CultureInfo.InvariantCulture)),
            new Claim("sid", sessionId.ToString()),
            new Claim("name", name),
            new Claim("role", "admin"),
        ],
        Scheme,
        "name",
        "role"));

    // True when user came from this cookie (not from a bearer token).
    public static bool IsSignedIn(ClaimsPrincipal user) => user.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == Scheme);

    private static async Task CheckSessionAsync(CookieValidatePrincipalContext ctx)
    {
        var principal = ctx.Principal!;
        var open = Guid.TryParse(principal.FindFirstValue("sid"), out var sid) && long.TryParse(principal.FindFirstValue("sub"), out var sub)
            && await ctx.HttpContext.RequestServices.GetRequiredService<SessionCache>().LiveRoleAsync(sid, sub, ctx.HttpContext.RequestAborted) == "admin";
        if (!open)
        {
            ctx.RejectPrincipal();
            await ctx.HttpContext.SignOutAsync(Scheme);
        }
    }
}
