using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Platform;

public sealed class PlatformTests(SlicesFixture fx)
{
    [Fact]
    public async Task Readiness_reports_a_reachable_migrated_database()
    {
        var reply = await fx.Api.GetAsync("/health/ready");
        reply.Is(HttpStatusCode.OK);
        Assert.Equal("Healthy", await reply.Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        (await fx.Api.GetAsync("/health/live")).Is(HttpStatusCode.OK);
    }
}
