using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Auth;

public static class AuthSetup
{
    public static IServiceCollection AddSlicesAuth(this IServiceCollection services, JwtSettings jwt, int passwordHashIterations)
    {
        services.AddSingleton(jwt);
        services.AddSingleton<SessionCache>();
        services.AddPgSubscriber<SessionCache>();
        services.AddSingleton<Tokens>();
        services.AddSingleton(new Passwords(passwordHashIterations));
        services.AddSingleton<Credentials>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.MapInboundClaims = false;
            o.TokenHandlers.Clear();
            o.TokenHandlers.Add(new CachingTokenHandler(TimeProvider.System));
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = jwt.Issuer,
                ValidAudience = jwt.Audience,
                IssuerSigningKey = jwt.Key,
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                ClockSkew = TimeSpan.FromSeconds(30),
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                NameClaimType = "sub",
                RoleClaimType = "role",
            };
            o.Events = new JwtBearerEvents
            {
                OnMessageReceived = ctx =>
                {
                    var header = ctx.Request.Headers.Authorization.ToString();
                    if (header.StartsWith("Token ", StringComparison.OrdinalIgnoreCase))
                    {
                        // Clients written for Django REST Framework send "Token <key>".
                        ctx.Token = header["Token ".Length..].Trim();
                    }
                    else if (header.Length == 0 && ctx.Request.Path.StartsWithSegments("/ws") && ctx.Request.Query["access_token"] is { Count: > 0 } q)
                    {
                        // Browsers cannot set headers on a WebSocket upgrade.
                        ctx.Token = q.ToString();
                    }

                    return Task.CompletedTask;
                },
                OnTokenValidated = CheckSessionAsync,
                OnChallenge = async ctx =>
                {
                    ctx.HandleResponse();
                    if (ctx.AuthenticateFailure is { } outage && PgErrors.IsUnavailable(outage))
                    {
                        ctx.Response.Headers.RetryAfter = "5";
                    }
                    else
                    {
                        ctx.Response.Headers.WWWAuthenticate = "Bearer";
                    }

                    var failure = ctx.AuthenticateFailure switch
                    {
                        // The session check could not reach the database: that is an outage, not a bad token.
                        { } e when PgErrors.IsUnavailable(e) => new Failure(503, "database_unavailable", "The database is not reachable right now; try again shortly."),
                        SecurityTokenExpiredException => new Failure(401, "token_expired", "The access token has expired; refresh it."),
                        null when string.IsNullOrEmpty(ctx.Request.Headers.Authorization) => new Failure(401, "not_authenticated", "This route needs an access token (Authorization: Bearer <token>)."),
                        _ => new Failure(401, "invalid_token", "The access token is invalid or its session has ended."),
                    };
                    await ProblemHandling.WriteAsync(ctx.HttpContext, failure);
                },
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(CurrentUser.AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole("admin"));
        return services;
    }

    // A token is only as good as its session: logging out, reuse of a refresh token or deactivating the user ends
    // it at once. One primary-key lookup per request; the role is taken from the database, not the token.
    private static async Task CheckSessionAsync(TokenValidatedContext ctx)
    {
        var principal = ctx.Principal!;
        if (!Guid.TryParse(principal.FindFirstValue("sid"), out var sid) || !long.TryParse(principal.FindFirstValue("sub"), out var sub))
        {
            ctx.Fail("The token has no session.");
            return;
        }

        var role = await ctx.HttpContext.RequestServices.GetRequiredService<SessionCache>().LiveRoleAsync(sid, sub, ctx.HttpContext.RequestAborted);
        if (role is null)
        {
            ctx.Fail("The session has ended.");
            return;
        }

        var identity = (ClaimsIdentity)principal.Identity!;
        foreach (var claim in identity.FindAll("role").ToList())
        {
            identity.RemoveClaim(claim);
        }

        identity.AddClaim(new Claim("role", role));
    }
}
