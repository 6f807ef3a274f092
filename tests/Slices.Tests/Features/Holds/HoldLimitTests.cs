using System.Net;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Holds;

public sealed class HoldLimitTests(SlicesFixture fx)
{
    [Fact]
    public async Task Holds_made_are_rate_limited_per_user()
    {
        var settings = new Dictionary<string, string?> { ["RateLimits:Holds:PermitLimit"] = "3", ["RateLimits:Holds:Window"] = "00:10:00" };
        await using var host = await WorkHost.StartAsync(fx, settings: settings);
        var admin = (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var alice = await host.Api.SignUpAsync();
        var bob = await host.Api.SignUpAsync();
        var cassette = (await host.Api.PostAsync("/api/cassettes", new { title = "Tape", director = "Someone", released = "1985-01-01", quantity = 10 }, admin))
            .Is(HttpStatusCode.Created).Id;
        for (var i = 0; i < 3; i++)
        {
            var hold = await host.Api.HoldIdAsync(alice.Token, HoldTestData.Cassette(cassette, 1));
            (await host.Api.DeleteAsync($"/api/holds/{hold}", alice.Token)).Is(HttpStatusCode.NoContent);
        }

        var limited = (await host.Api.HoldAsync(alice.Token, HoldTestData.Cassette(cassette, 1))).IsProblem(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.NotNull(limited.Header("Retry-After"));
        // Another user has a budget of their own.
        (await host.Api.HoldAsync(bob.Token, HoldTestData.Cassette(cassette, 1))).Is(HttpStatusCode.Created);
    }
}
