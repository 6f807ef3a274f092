using System.Globalization;
using System.Security.Claims;

namespace Slices.Api.Common.Auth;

public static class CurrentUser
{
    public const string AdminPolicy = "admin";

    /// <summary>The signed-in user's id (the token's <c>sub</c>); only call on routes that require authentication.</summary>
    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue("sub") ?? throw new InvalidOperationException("No signed-in user."), CultureInfo.InvariantCulture);

    public static Guid SessionId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue("sid") ?? throw new InvalidOperationException("No session."));

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole("admin");

    /// <summary>Who is asking, as handlers need it: the id, and whether admin rules apply.</summary>
    public static Caller Caller(this ClaimsPrincipal user) => new(user.UserId(), user.IsAdmin());
}

public readonly record struct Caller(long Id, bool IsAdmin);
