using System.Diagnostics;
using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Auth;

public sealed class LogInTests(SlicesFixture fx)
{
    [Fact]
    public async Task Log_in_by_username_with_json()
    {
        var user = await fx.NewUserAsync();
        var reply = (await fx.Api.PostAsync("/api/auth/login", new { username = user.Username, password = user.Password })).Is(HttpStatusCode.OK);
        Assert.Equal(user.Id, reply.Body!["user"]!["id"]!.GetValue<long>());
        (await fx.Api.GetAsync("/api/users/me", reply.Body["access_token"]!.GetValue<string>())).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Log_in_by_email_with_a_form_and_any_letter_case()
    {
        var email = $"{Guid.NewGuid():N}@Example.com";
        (await fx.Api.PostAsync("/api/auth/signup", new { email, password = "long-enough-1" })).Is(HttpStatusCode.Created);
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = email.ToUpperInvariant(), ["password"] = "long-enough-1" });
        var reply = (await fx.Api.PostAsync("/api/auth/login", form)).Is(HttpStatusCode.OK);
        Assert.False(string.IsNullOrEmpty(reply.Body!["refresh_token"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Log_in_with_a_multipart_form()
    {
        var user = await fx.NewUserAsync();
        using var form = new MultipartFormDataContent { { new StringContent(user.Username), "username" }, { new StringContent(user.Password), "password" } };
        (await fx.Api.PostAsync("/api/auth/login", form)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_get_the_same_answer()
    {
        var user = await fx.NewUserAsync();
        var wrong = (await fx.Api.PostAsync("/api/auth/login", new { username = user.Username, password = "wrong-password" }))
            .IsProblem(HttpStatusCode.Unauthorized, "invalid_credentials");
        var unknown = (await fx.Api.PostAsync("/api/auth/login", new { username = $"nobody_{Guid.NewGuid():N}", password = "wrong-password" }))
            .IsProblem(HttpStatusCode.Unauthorized, "invalid_credentials");
        Assert.Equal(wrong.Body!["detail"]!.GetValue<string>(), unknown.Body!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_user_costs_as_much_time_as_a_wrong_password()
    {
        // The shared host hashes cheaply for speed; this needs the production cost to mean anything.
        await using var host = await SlicesFixture.StartHostAsync(fx.Database.ConnectionString, new Dictionary<string, string?>
        {
            ["Auth:PasswordHashIterations"] = "600000",
        });
        using var api = new ApiClient(host.Server.CreateClient());
        var username = $"slow_{Guid.NewGuid():N}"[..24];
        (await api.PostAsync("/api/auth/signup", new { username, password = "long-enough-1" })).Is(HttpStatusCode.Created);

        async Task<TimeSpan> Median(string name)
        {
            var times = new List<TimeSpan>();
            for (var i = 0; i < 5; i++)
            {
                var sw = Stopwatch.StartNew();
                (await api.PostAsync("/api/auth/login", new { username = name, password = "wrong-password" })).Is(HttpStatusCode.Unauthorized);
                times.Add(sw.Elapsed);
            }

            return times.Order().ElementAt(2);
        }

        var wrong = await Median(username);
        var unknown = await Median($"nobody_{Guid.NewGuid():N}");
        // Both run one full PBKDF2 verification (~0.3 s); without the dummy hash an unknown account answers in a
        // few ms. The margin is wide because two shared cores make single timings noisy.
        Assert.True(unknown > wrong * 0.2, $"unknown {unknown.TotalMilliseconds} ms vs wrong password {wrong.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Repeated_failures_for_one_account_are_throttled_with_429()
    {
        var user = await fx.NewUserAsync();
        for (var i = 0; i < 10; i++)
        {
            (await fx.Api.PostAsync("/api/auth/login", new { username = user.Username, password = "wrong-password" })).Is(HttpStatusCode.Unauthorized);
        }

        var reply = (await fx.Api.PostAsync("/api/auth/login", new { username = user.Username, password = user.Password }))
            .IsProblem(HttpStatusCode.TooManyRequests, "too_many_attempts");
        Assert.NotNull(reply.Header("Retry-After"));
    }

    [Fact]
    public async Task A_body_that_is_neither_json_nor_a_form_is_415()
    {
        var content = new StringContent("username=x", System.Text.Encoding.UTF8, "text/plain");
        (await fx.Api.PostAsync("/api/auth/login", content)).IsProblem(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task A_deactivated_user_cannot_log_in()
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.DeleteAsync($"/api/users/{user.Username}", await fx.AdminTokenAsync())).Is(HttpStatusCode.NoContent);
        (await fx.Api.PostAsync("/api/auth/login", new { username = user.Username, password = user.Password }))
            .IsProblem(HttpStatusCode.Unauthorized, "invalid_credentials");
        (await fx.Api.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.Unauthorized);
    }
}

public sealed class LogInRateLimitTests(SlicesFixture fx)
{
    [Fact]
    public async Task Log_ins_from_one_address_past_the_limit_get_429_with_retry_after()
    {
        await using var host = await SlicesFixture.StartHostAsync(fx.Database.ConnectionString, new Dictionary<string, string?>
        {
            ["RateLimits:Login:PermitLimit"] = "3",
            ["RateLimits:Login:Window"] = "00:10:00",
        });
        using var api = new ApiClient(host.Server.CreateClient());
        var replies = new List<Reply>();
        for (var i = 0; i < 4; i++)
        {
            replies.Add(await api.PostAsync("/api/auth/login", new { username = $"nobody_{i}", password = "whatever-1" }));
        }

        Assert.All(replies.Take(3), r => r.Is(HttpStatusCode.Unauthorized));
        var limited = replies[3].IsProblem(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.True(int.Parse(limited.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
    }
}
