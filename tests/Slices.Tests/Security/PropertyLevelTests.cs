using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Security;

// OWASP API3: no response, to anyone, carries a password hash, a token hash or another secret column.
public sealed class PropertyLevelTests(SlicesFixture fx)
{
    private static readonly string[] Secrets = ["password", "pbkdf2", "token_hash", "request_hash", "signing", "secret"];

    [Fact]
    public async Task No_listing_or_profile_exposes_secret_columns()
    {
        var user = await fx.NewUserAsync();
        var admin = await fx.AdminTokenAsync();
        var doc = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!;
        var routes = doc["paths"]!.AsObject()
            .Where(p => !p.Key.Contains('{', StringComparison.Ordinal) && p.Value!["get"] is not null && p.Key.StartsWith("/api/", StringComparison.Ordinal))
            .Select(p => p.Key)
            .Append($"/api/users/{user.Username}")
            .ToList();
        Assert.True(routes.Count > 10, $"only {routes.Count} routes to read");

        foreach (var route in routes)
        {
            foreach (var token in new[] { admin, user.Token })
            {
                var reply = await fx.Api.GetAsync(route, token);
                var text = await reply.Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                foreach (var secret in Secrets)
                {
                    Assert.False(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"GET {route} mentions '{secret}': {text[..Math.Min(300, text.Length)]}");
                }
            }
        }
    }
}
