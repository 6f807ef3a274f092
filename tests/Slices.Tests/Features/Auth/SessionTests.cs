using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Auth;

public sealed class SessionTests(SlicesFixture fx)
{
    [Fact]
    public async Task Refresh_rotates_the_pair_and_spends_the_old_refresh_token()
    {
        var user = await fx.NewUserAsync();
        var first = (await fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = user.RefreshToken })).Is(HttpStatusCode.OK);
        var newRefresh = first.Body!["refresh_token"]!.GetValue<string>();
        var newAccess = first.Body["access_token"]!.GetValue<string>();
        Assert.NotEqual(user.RefreshToken, newRefresh);
        (await fx.Api.GetAsync("/api/users/me", newAccess)).Is(HttpStatusCode.OK);

        (await fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = newRefresh })).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Reusing_a_spent_refresh_token_revokes_the_whole_session()
    {
        var user = await fx.NewUserAsync();
        var rotated = (await fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = user.RefreshToken })).Is(HttpStatusCode.OK);

        (await fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = user.RefreshToken }))
            .IsProblem(HttpStatusCode.Unauthorized, "refresh_token_reused");

        // Everything the session issued is dead: the stolen-token holder and the victim both log in again.
        (await fx.Api.GetAsync("/api/users/me", rotated.Body!["access_token"]!.GetValue<string>())).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
        (await fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = rotated.Body["refresh_token"]!.GetValue<string>() }))
            .IsProblem(HttpStatusCode.Unauthorized, "invalid_refresh_token");
        (await fx.Api.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Concurrent_refreshes_with_one_token_have_exactly_one_winner()
    {
        var user = await fx.NewUserAsync();
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = user.RefreshToken })));
        Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
    }

    [Fact]
    public async Task An_unknown_refresh_token_is_401()
    {
        (await fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = "not-a-token" })).IsProblem(HttpStatusCode.Unauthorized, "invalid_refresh_token");
        (await fx.Api.PostAsync("/api/auth/refresh", new { })).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Log_out_stops_the_access_and_refresh_token_at_once()
    {
        var user = await fx.NewUserAsync();
        var other = await fx.Api.LogInAsync(user.Username, user.Password);
        (await fx.Api.PostAsync("/api/auth/logout", null, user.Token)).Is(HttpStatusCode.NoContent);

        (await fx.Api.GetAsync("/api/users/me", user.Token)).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
        (await fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = user.RefreshToken })).Is(HttpStatusCode.Unauthorized);
        // Only that session ends: another log-in of the same user keeps working.
        (await fx.Api.GetAsync("/api/users/me", other.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Log_out_needs_a_token()
    {
        (await fx.Api.PostAsync("/api/auth/logout", null)).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

public sealed class CachedSessionTests(SlicesFixture fx)
{
    [Fact]
    public async Task Logging_out_on_one_instance_ends_the_session_on_another_that_had_cached_it()
    {
        await using var other = await SlicesFixture.StartHostAsync(fx.Database.ConnectionString);
        using var second = new ApiClient(other.Server.CreateClient());
        var user = await fx.NewUserAsync();
        (await second.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK);
        (await second.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK);

        (await fx.Api.PostAsync("/api/auth/logout", null, user.Token)).Is(HttpStatusCode.NoContent);

        // The other instance hears of it through PostgreSQL NOTIFY: within milliseconds, asserted within two seconds.
        var deadline = DateTime.UtcNow.AddSeconds(2);
        Reply reply;
        while ((reply = await second.GetAsync("/api/users/me", user.Token)).Status == HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the other instance still accepts a logged-out token");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        reply.IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task A_role_change_reaches_an_instance_that_had_cached_the_session()
    {
        await using var other = await SlicesFixture.StartHostAsync(fx.Database.ConnectionString);
        using var second = new ApiClient(other.Server.CreateClient());
        var admin = await fx.AdminTokenAsync();
        var username = $"promo_{Guid.NewGuid():N}"[..24];
        (await fx.Api.PostAsync("/api/users", new { username, password = "long-enough-1", role = "admin" }, admin)).Is(HttpStatusCode.Created);
        var staff = await fx.Api.LogInAsync(username, "long-enough-1");
        (await second.GetAsync("/api/users", staff.Token)).Is(HttpStatusCode.OK);

        (await fx.Api.PatchAsync($"/api/users/{username}", new { role = "user" }, admin)).Is(HttpStatusCode.OK);

        var deadline = DateTime.UtcNow.AddSeconds(2);
        while ((await second.GetAsync("/api/users", staff.Token)).Status == HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the other instance still treats a demoted user as admin");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        (await second.GetAsync("/api/users", staff.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
    }
}
