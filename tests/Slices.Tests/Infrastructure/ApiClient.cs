using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Slices.Tests.Infrastructure;

public sealed record TestUser(long Id, string Username, string Password, string Token, string RefreshToken);

// The answer to one request: status, headers and the parsed JSON body (null when empty or not JSON).
public sealed record Reply(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)
{
    public string? Header(string name) =>
        Response.Headers.TryGetValues(name, out var v) || Response.Content.Headers.TryGetValues(name, out v) ? string.Join(", ", v) : null;

    public string? ProblemCode => Body?["code"]?.GetValue<string>();

    public JsonArray Array => Body!.AsArray();

    public long Id => Body!["id"]!.GetValue<long>();

    public Reply Is(HttpStatusCode expected)
    {
        Assert.True(expected == Status, $"Expected {(int)expected} but got {(int)Status}: {Body?.ToJsonString()}");
        return this;
    }

    // Asserts a problem+json answer with this status and code.
    public Reply IsProblem(HttpStatusCode expected, string code)
    {
        Is(expected);
        Assert.Equal("application/problem+json", Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, ProblemCode);
        return this;
    }
}

// A client of the service as an HTTP user sees it: JSON in and out, snake_case, bearer tokens.
public sealed class ApiClient(HttpClient http) : IDisposable
{
    public HttpClient Http { get; } = http;

    public Task<Reply> GetAsync(string url, string? token = null, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Get, url, null, token, headers);

    public Task<Reply> PostAsync(string url, object? body, string? token = null, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Post, url, body, token, headers);

    public Task<Reply> PutAsync(string url, object? body, string? token = null, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Put, url, body, token, headers);

    public Task<Reply> PatchAsync(string url, object? body, string? token = null, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Patch, url, body, token, headers);

    public Task<Reply> DeleteAsync(string url, string? token = null, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Delete, url, null, token, headers);

    // body: an object (sent as JSON), a string (sent as raw JSON text) or an HttpContent.
    public async Task<Reply> SendAsync(HttpMethod method, string url, object? body, string? token = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Content = body switch
        {
            null => null,
            HttpContent c => c,
            string raw => new StringContent(raw, Encoding.UTF8, "application/json"),
            _ => JsonContent.Create(body),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            json = JsonNode.Parse(text);
        }

        return new Reply(response.StatusCode, json, response);
    }

    public async Task<TestUser> SignUpAsync(string? prefix = null)
    {
        var username = $"{prefix ?? "user"}_{Guid.NewGuid():N}"[..Math.Min(40, (prefix?.Length ?? 4) + 33)];
        const string password = "correct-horse-1";
        var reply = (await PostAsync("/api/auth/signup", new { username, password })).Is(HttpStatusCode.Created);
        return new TestUser(
            reply.Body!["user"]!["id"]!.GetValue<long>(),
            username,
            password,
            reply.Body["access_token"]!.GetValue<string>(),
            reply.Body["refresh_token"]!.GetValue<string>());
    }

    public async Task<TestUser> LogInAsync(string username, string password)
    {
        var reply = (await PostAsync("/api/auth/login", new { username, password })).Is(HttpStatusCode.OK);
        return new TestUser(
            reply.Body!["user"]!["id"]!.GetValue<long>(),
            username,
            password,
            reply.Body["access_token"]!.GetValue<string>(),
            reply.Body["refresh_token"]!.GetValue<string>());
    }

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web);

    public void Dispose() => Http.Dispose();
}
