using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Security;

// OWASP API5: every route, read from the service's own route table (not a hand-kept list), refuses the
// anonymous with 401 unless it is public, and every admin route refuses a signed-in user with 403.
public sealed partial class FunctionLevelAuthorizationTests(SlicesFixture fx)
{
    [GeneratedRegex("\\{[^}]+\\}")]
    private static partial Regex RouteParameter();

    private IEnumerable<(string Method, string Path, bool AdminOnly, bool Public)> Routes() =>
        fx.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal) || e.RoutePattern.RawText.StartsWith("/ws/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (
                Method: m,
                Path: RouteParameter().Replace(e.RoutePattern.RawText!, "1"),
                AdminOnly: e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == "admin"),
                Public: e.Metadata.GetMetadata<IAllowAnonymous>() is not null)));

    [Fact]
    public async Task Every_non_public_route_refuses_the_anonymous_with_401()
    {
        var routes = Routes().Where(r => !r.Public).ToList();
        Assert.NotEmpty(routes);
        foreach (var (method, path, _, _) in routes)
        {
            var reply = await fx.Api.SendAsync(new HttpMethod(method), path, method is "GET" or "DELETE" ? null : new { });
            Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)reply.Status} to the anonymous");
            Assert.Equal("application/problem+json", reply.Response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Every_admin_route_refuses_a_signed_in_user_with_403()
    {
        var user = await fx.NewUserAsync();
        var routes = Routes().Where(r => r.AdminOnly).ToList();
        Assert.NotEmpty(routes);
        foreach (var (method, path, _, _) in routes)
        {
            var reply = await fx.Api.SendAsync(new HttpMethod(method), path, method is "GET" or "DELETE" ? null : new { }, user.Token);
            Assert.True(reply.Status == HttpStatusCode.Forbidden, $"{method} {path} answered {(int)reply.Status} to a plain user");
        }
    }

    [Fact]
    public void Every_route_says_who_may_call_it()
    {
        var endpoints = fx.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal));
        foreach (var e in endpoints)
        {
            var declared = e.Metadata.GetMetadata<IAllowAnonymous>() is not null || e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any();
            Assert.True(declared, $"{e.DisplayName} has neither RequireAuthorization nor AllowAnonymous");
        }
    }
}
