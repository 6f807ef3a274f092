using System.Globalization;
using System.Security.Claims;

namespace Slices.Api.Common.Auth;

public static class CurrentUser
{
    public const string AdminPolicy = "admin";

    // The signed-in user's id (the token's `sub`); only call on routes that require authentication.
    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue("sub") ?? throw new InvalidOperationException("No signed-in user."), CultureInfo.InvariantCulture);

    public static Guid SessionId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue("sid") ?? throw new InvalidOperationException("No session."));

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole("admin");

    // Who is asking, as handlers need it: the id, and whether admin rules apply.
    public static Caller Caller(this ClaimsPrincipal user) => new(user.UserId(), user.IsAdmin());
}

public readonly record struct Caller(long Id, bool IsAdmin);
