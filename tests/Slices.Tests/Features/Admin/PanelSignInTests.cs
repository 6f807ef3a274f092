using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Admin;

public sealed class PanelSignInTests(SlicesFixture fx)
{
    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/users")]
    [InlineData("/admin/users/admin")]
    [InlineData("/admin/bookings")]
    [InlineData("/admin/trainings")]
    [InlineData("/admin/events")]
    [InlineData("/admin/events/1")]
    [InlineData("/admin/organizations")]
    [InlineData("/admin/organizations/1")]
    [InlineData("/admin/signout")]
    public async Task An_anonymous_visitor_is_sent_to_sign_in(string url)
    {
        using var panel = new PanelClient(fx.Host);

        var page = (await panel.GetAsync(url)).IsSentToSignIn();

        Assert.EndsWith("ReturnUrl=" + Uri.EscapeDataString(url), page.Location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_signs_in_and_lands_on_the_page_asked_for()
    {
        using var panel = new PanelClient(fx.Host);

        var signedIn = (await panel.SignInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword, "/admin/signin?ReturnUrl=%2Fadmin%2Fusers"))
            .Is(HttpStatusCode.Found);

        Assert.Equal("/admin/users", new Uri(new Uri("http://localhost"), signedIn.Location).PathAndQuery);
        Assert.Equal("localhost", new Uri(new Uri("http://localhost"), signedIn.Location).Host);
        var cookie = signedIn.Response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("slices_admin=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/admin", cookie, StringComparison.OrdinalIgnoreCase);
        var users = (await panel.GetAsync("/admin/users")).Is(HttpStatusCode.OK);
        Assert.Contains("<h1>Users</h1>", users.Html, StringComparison.Ordinal);
        Assert.Contains("Sign out", users.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_return_url_keeps_its_query()
    {
        using var panel = new PanelClient(fx.Host);

        var signedIn = (await panel.SignInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword,
            "/admin/signin?ReturnUrl=" + Uri.EscapeDataString("/admin/bookings?stage=1&active=true"))).Is(HttpStatusCode.Found);

        Assert.Equal("/admin/bookings?stage=1&active=true", new Uri(new Uri("http://localhost"), signedIn.Location).PathAndQuery);
    }

    [Theory]
    [InlineData("https://evil.example/admin")]
    [InlineData("//evil.example/admin")]
    [InlineData("/api/users")]
    [InlineData("/admin/../api/users")]
    [InlineData("/\\evil.example/admin")]
    [InlineData("/administrator")]
    public async Task A_return_url_outside_the_panel_is_ignored(string returnUrl)
    {
        using var panel = new PanelClient(fx.Host);

        var signedIn = (await panel.SignInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword, "/admin/signin?ReturnUrl=" + Uri.EscapeDataString(returnUrl)))
            .Is(HttpStatusCode.Found);

        Assert.Equal("http://localhost/admin", new Uri(new Uri("http://localhost"), signedIn.Location).ToString());
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_401_and_no_cookie()
    {
        var user = await fx.NewUserAsync();
        using var panel = new PanelClient(fx.Host);

        var page = (await panel.SignInAsync(user.Username, "wrong-password-1")).Is(HttpStatusCode.Unauthorized);

        Assert.Contains("password is wrong", page.Html, StringComparison.Ordinal);
        Assert.Contains("role=\"alert\"", page.Html, StringComparison.Ordinal);
        Assert.Null(panel.SessionCookie);
    }

    [Fact]
    public async Task An_empty_form_is_a_400_naming_what_is_missing()
    {
        using var panel = new PanelClient(fx.Host);

        var page = (await panel.SignInAsync("", "")).Is(HttpStatusCode.BadRequest);

        Assert.Contains("Give a username or an email.", page.Html, StringComparison.Ordinal);
        Assert.Contains("Give the password.", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_without_the_admin_role_is_refused_and_gets_no_session()
    {
        var user = await fx.NewUserAsync();
        using var panel = new PanelClient(fx.Host);

        var page = (await panel.SignInAsync(user.Username, user.Password)).Is(HttpStatusCode.Forbidden);

        Assert.Contains("Only admins may use the admin panel.", page.Html, StringComparison.Ordinal);
        Assert.Null(panel.SessionCookie);
        Assert.Equal(1, await SessionsOfAsync(user.Id)); // the one sign-up started, nothing more
        (await panel.GetAsync("/admin/users")).IsSentToSignIn();
    }

    [Fact]
    public async Task A_bearer_token_does_not_open_the_panel()
    {
        using var panel = new PanelClient(fx.Host);

        (await panel.GetAsync("/admin/users", await fx.AdminTokenAsync())).IsSentToSignIn();
    }

    [Fact]
    public async Task Signing_in_without_the_antiforgery_token_is_refused()
    {
        using var panel = new PanelClient(fx.Host);
        (await panel.GetAsync("/admin/signin")).Is(HttpStatusCode.OK);

        var page = await panel.PostAsync("/admin/signin", "signin", token: null,
            new() { ["username"] = SlicesFixture.AdminUsername, ["password"] = SlicesFixture.AdminPassword });

        page.Is(HttpStatusCode.BadRequest);
        Assert.Null(panel.SessionCookie);
    }

    [Fact]
    public async Task A_token_from_another_visitor_is_refused()
    {
        using var attacker = new PanelClient(fx.Host);
        var stolen = (await attacker.GetAsync("/admin/signin")).Token;
        using var victim = await PanelClient.SignedInAsync(fx);

        (await victim.PostAsync("/admin/signout", "signout", stolen)).Is(HttpStatusCode.BadRequest);

        (await victim.GetAsync("/admin/users")).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Signing_out_ends_the_session_even_for_a_copied_cookie()
    {
        using var panel = await PanelClient.SignedInAsync(fx);
        var copied = panel.SessionCookie!;
        var page = (await panel.GetAsync("/admin/users")).Is(HttpStatusCode.OK);

        var signedOut = (await panel.PostAsync("/admin/signout", "signout", page.Token)).IsSentToSignIn();

        Assert.Contains("signed_out=1", signedOut.Location, StringComparison.Ordinal);
        Assert.Null(panel.SessionCookie);
        using var replay = new PanelClient(fx.Host);
        replay.Cookies.Add(new Uri("http://localhost/admin"), new Cookie(copied.Name, copied.Value, "/admin"));
        (await replay.GetAsync("/admin/users")).IsSentToSignIn();
        Assert.Contains("You have signed out.", (await panel.GetAsync(signedOut.Location!)).Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Taking_away_the_admin_role_closes_the_panel_at_once()
    {
        var admin = await fx.AdminTokenAsync();
        var username = $"boss_{Guid.NewGuid():N}"[..24];
        (await fx.Api.PostAsync("/api/users", new { username, password = "long-enough-1", role = "admin" }, admin)).Is(HttpStatusCode.Created);
        using var panel = await PanelClient.SignedInAsync(fx, username, "long-enough-1");
        (await panel.GetAsync("/admin")).Is(HttpStatusCode.OK);

        (await fx.Api.PatchAsync($"/api/users/{username}", new { role = "user" }, admin)).Is(HttpStatusCode.OK);

        (await panel.GetAsync("/admin")).IsSentToSignIn();
    }

    [Fact]
    public async Task Panel_pages_carry_the_content_security_policy_and_no_script()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        foreach (var url in new[] { "/admin", "/admin/users", "/admin/bookings", "/admin/trainings", "/admin/events", "/admin/organizations", "/admin/signin" })
        {
            var page = (await panel.GetAsync(url)).Is(HttpStatusCode.OK);
            Assert.Contains("default-src 'self'", page.Response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("DENY", page.Response.Headers.GetValues("X-Frame-Options").Single());
            Assert.True(page.Response.Headers.CacheControl?.NoStore, $"{url} may be cached");
            Assert.DoesNotContain("<script", page.Html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("<h1>", page.Html, StringComparison.Ordinal);
            Assert.Contains("<meta name=\"viewport\"", page.Html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_sign_in_page_has_the_api_log_ins_rate_limit()
    {
        var signIn = fx.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == "/admin/signin");

        Assert.Equal("login", signIn.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName);
        Assert.NotNull(signIn.Metadata.GetMetadata<IAllowAnonymous>());
    }

    [Fact]
    public async Task The_stylesheet_is_served_to_anyone_and_cached()
    {
        using var panel = new PanelClient(fx.Host);
        var signIn = (await panel.GetAsync("/admin/signin")).Html;
        var href = System.Text.RegularExpressions.Regex.Match(signIn, "href=\"(/admin/admin.css\\?v=[0-9a-f]+)\"").Groups[1].Value;

        var css = (await panel.GetAsync(href)).Is(HttpStatusCode.OK);

        Assert.Equal("text/css", css.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", css.Response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Contains("@media", css.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Panel_routes_are_not_in_the_openapi_document()
    {
        var paths = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!["paths"]!.AsObject();

        Assert.NotEmpty(paths);
        Assert.DoesNotContain(paths, p => p.Key.StartsWith("/admin", StringComparison.Ordinal));
    }

    private async Task<long> SessionsOfAsync(long userId)
    {
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM sessions WHERE user_id = @id", conn);
        cmd.Parameters.AddWithValue("id", userId);
        return (long)(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
