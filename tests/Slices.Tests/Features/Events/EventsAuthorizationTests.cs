using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

public sealed class EventsAuthorizationTests(SlicesFixture fx)
{
    [Theory]
    [InlineData("GET", "/api/organizations")]
    [InlineData("POST", "/api/organizations")]
    [InlineData("GET", "/api/organizations/1")]
    [InlineData("PUT", "/api/organizations/1")]
    [InlineData("PATCH", "/api/organizations/1")]
    [InlineData("DELETE", "/api/organizations/1")]
    [InlineData("POST", "/api/organizations/1/members")]
    [InlineData("DELETE", "/api/organizations/1/members/1")]
    [InlineData("GET", "/api/events")]
    [InlineData("GET", "/api/events/1")]
    [InlineData("PUT", "/api/events/1")]
    [InlineData("PATCH", "/api/events/1")]
    [InlineData("DELETE", "/api/events/1")]
    public async Task Every_events_directory_route_refuses_the_anonymous_with_401(string method, string url)
    {
        var reply = await fx.Api.SendAsync(new HttpMethod(method), url, method is "GET" or "DELETE" ? null : new { title = "x" });
        reply.IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }

    [Fact]
    public async Task A_deactivated_member_can_no_longer_manage_the_organization()
    {
        var member = await fx.NewUserAsync();
        var id = await fx.NewOrganizationAsync(member.Token);
        (await fx.Api.DeleteAsync($"/api/users/{member.Username}", await fx.AdminTokenAsync())).Is(HttpStatusCode.NoContent);
        (await fx.Api.PatchAsync($"/api/organizations/{id}", new { title = "Ghost" }, member.Token)).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
    }
}
