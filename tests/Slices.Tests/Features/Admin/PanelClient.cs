using System.Net;
using System.Text.RegularExpressions;
using Alba;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Admin;

// One response of the panel: status, redirect target and the HTML.
public sealed partial record PanelPage(HttpStatusCode Status, string Html, HttpResponseMessage Response)
{
    public string? Location => Response.Headers.Location?.OriginalString;

    // The HTML with its character references decoded, for asserting what a reader sees.
    public string Text => WebUtility.HtmlDecode(Html);

    // The antiforgery token rendered into the page's forms.
    public string Token => AntiforgeryToken().Match(Html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("The page has no antiforgery token.");

    public PanelPage Is(HttpStatusCode expected)
    {
        Assert.True(expected == Status, $"Expected {(int)expected} but got {(int)Status}: {Response.Headers}\n{Html}");
        return this;
    }

    // Asserts a redirect to the sign-in page, as an anonymous visitor gets.
    public PanelPage IsSentToSignIn()
    {
        Is(HttpStatusCode.Found);
        Assert.StartsWith("/admin/signin", new Uri(new Uri("http://localhost"), Location).PathAndQuery, StringComparison.Ordinal);
        return this;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}

// The admin panel as a browser without script uses it, over the test host: keeps cookies, does not follow redirects,
// and posts forms the way the pages render them (`_handler` names the form; the page's antiforgery token).
public sealed class PanelClient : IDisposable
{
    private readonly HttpClient http;

    public PanelClient(IAlbaHost host)
    {
        Cookies = new CookieContainer();
        http = new HttpClient(new CookieContainerHandler(Cookies) { InnerHandler = host.Server.CreateHandler() }) { BaseAddress = new Uri("http://localhost") };
    }

    public CookieContainer Cookies { get; }

    public Cookie? SessionCookie => Cookies.GetCookies(new Uri("http://localhost/admin")).FirstOrDefault(c => c.Name == "slices_admin");

    // A client signed in as the suite's admin.
    public static Task<PanelClient> SignedInAsync(SlicesFixture fx, string username = SlicesFixture.AdminUsername, string password = SlicesFixture.AdminPassword) =>
        SignedInAsync(fx.Host, username, password);

    // A client of host (a host of its own, say) signed in as the suite's admin.
    public static async Task<PanelClient> SignedInAsync(IAlbaHost host, string username = SlicesFixture.AdminUsername, string password = SlicesFixture.AdminPassword)
    {
        var panel = new PanelClient(host);
        (await panel.SignInAsync(username, password)).Is(HttpStatusCode.Found);
        return panel;
    }

    public async Task<PanelPage> SignInAsync(string username, string password, string url = "/admin/signin")
    {
        var form = (await GetAsync(url)).Is(HttpStatusCode.OK);
        return await PostAsync(url, "signin", form.Token, new() { ["username"] = username, ["password"] = password });
    }

    public async Task<PanelPage> GetAsync(string url, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }

        return await SendAsync(request);
    }

    // Posts the form handler to url; token null leaves the antiforgery token out.
    public async Task<PanelPage> PostAsync(string url, string handler, string? token, Dictionary<string, string>? fields = null)
    {
        var body = new Dictionary<string, string>(fields ?? []) { ["_handler"] = handler };
        if (token is not null)
        {
            body["__RequestVerificationToken"] = token;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(body) };
        return await SendAsync(request);
    }

    public void Dispose() => http.Dispose();

    private async Task<PanelPage> SendAsync(HttpRequestMessage request)
    {
        var response = await http.SendAsync(request);
        return new PanelPage(response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }
}
