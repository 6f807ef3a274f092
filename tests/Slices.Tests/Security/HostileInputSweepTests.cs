using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Security;

// Every route in the OpenAPI document (read at test time, so new routes are covered without a change here)
// gets malformed and hostile input, signed in as admin so that it reaches the handlers. The rule: never a 5xx,
// always problem+json for an error, and a refused request changes nothing in the database. The sweep runs on
// its own database so that other tests' writes cannot blur "changed nothing".
public sealed class HostileInputSweepTests(SlicesFixture fx) : IAsyncLifetime
{
    // A NUL in the path is refused by the server before routing (the test host throws on it), so it is not swept.
    private static readonly string[] PathValues = ["0", "-1", "99999999999999999999", "abc", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", new string('9', 400)];
    private static readonly string[] QueryValues = ["abc", "-1", "0", "99999999999999999999", "2026-13-45", "25:61", "' OR 1=1 --", "%00", new string('x', 5000)];

    // Tables that a refused request may legitimately touch: the caller's session and throttling bookkeeping.
    private static readonly string[] Bookkeeping = ["sessions", "refresh_tokens", "login_failures", "idempotency_keys", "schemaversions"];

    private IAlbaHost host = null!;
    private string connectionString = null!;

    public async ValueTask InitializeAsync()
    {
        connectionString = await fx.Database.CreateDatabaseAsync($"sweep_{Guid.NewGuid():N}");
        host = await SlicesFixture.StartHostAsync(connectionString);
    }

    public async ValueTask DisposeAsync() => await host.DisposeAsync();

    private static IEnumerable<JsonNode?> HostileBodies(JsonObject? schema)
    {
        yield return JsonValue.Create("{");
        yield return JsonValue.Create("[]");
        yield return JsonValue.Create("null");
        yield return JsonValue.Create("{}");
        yield return JsonValue.Create("\"just a string\"");
        var properties = schema?["properties"]?.AsObject().Select(p => p.Key).ToList() ?? [];
        foreach (var wrong in new JsonNode?[] { "x", 99999999999999999999m, -1, 0, true, new JsonArray(), new JsonObject(), null, new string('x', 100_000), "\u0000\u202e\ud83d\ude00", "2026-02-30", "99:99" })
        {
            var body = new JsonObject();
            foreach (var p in properties)
            {
                body[p] = wrong?.DeepClone();
            }

            yield return body;
        }
    }

    [Fact]
    public async Task No_route_answers_hostile_input_with_a_5xx_or_a_non_problem_error_or_a_change()
    {
        using var api = new ApiClient(host.Server.CreateClient());
        var admin = (await api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var doc = (await api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!;
        var failures = new List<string>();
        var requests = 0;

        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (path.StartsWith("/ws/", StringComparison.Ordinal))
                {
                    continue;
                }

                var parameters = operation!["parameters"]?.AsArray().Select(p => p!).ToList() ?? [];
                var queryNames = parameters.Where(p => p["in"]!.GetValue<string>() == "query").Select(p => p["name"]!.GetValue<string>()).ToList();
                var schema = Resolve(doc, operation["requestBody"]?["content"]?["application/json"]?["schema"]);
                var cases = new List<(string Url, HttpContent? Body, string What)>();
                foreach (var v in PathValues)
                {
                    cases.Add((Fill(path, v), null, $"path={v[..Math.Min(20, v.Length)]}"));
                }

                var concrete = Fill(path, "1");
                foreach (var name in queryNames)
                {
                    foreach (var v in QueryValues)
                    {
                        cases.Add(($"{concrete}?{name}={Uri.EscapeDataString(v)}", null, $"{name}={v[..Math.Min(20, v.Length)]}"));
                    }
                }

                if (operation["requestBody"] is not null)
                {
                    foreach (var body in HostileBodies(schema))
                    {
                        var text = body is JsonValue raw && raw.TryGetValue<string>(out var s) ? s : body!.ToJsonString();
                        cases.Add((concrete, new StringContent(text, Encoding.UTF8, "application/json"), $"body={text[..Math.Min(40, text.Length)]}"));
                    }

                    cases.Add((concrete, new StringContent("<xml/>", Encoding.UTF8, "application/xml"), "content-type=xml"));
                    cases.Add((concrete, new StringContent(new string('x', 2_000_000), Encoding.UTF8, "application/json"), "body=2MB"));
                }

                foreach (var (url, body, what) in cases)
                {
                    requests++;
                    var before = await FingerprintAsync();
                    var reply = await api.SendAsync(new HttpMethod(method.ToUpperInvariant()), url, body, admin);
                    var status = (int)reply.Status;
                    var label = $"{method.ToUpperInvariant()} {path} [{what}] → {status}";
                    if (status >= 500)
                    {
                        failures.Add($"{label}: {reply.Body?.ToJsonString()}");
                    }
                    else if (status >= 400 && reply.Response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    {
                        failures.Add($"{label}: not problem+json ({reply.Response.Content.Headers.ContentType})");
                    }
                    else if (status >= 400 && await FingerprintAsync() != before)
                    {
                        failures.Add($"{label}: refused, but the database changed");
                    }
                }
            }
        }

        Assert.True(requests > 100, $"only {requests} requests were generated");
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} hostile requests misbehaved:\n" + string.Join("\n", failures.Take(40)));
    }

    private static string Fill(string path, string value) =>
        System.Text.RegularExpressions.Regex.Replace(path, "\\{[^}]+\\}", value);

    private static JsonObject? Resolve(JsonNode doc, JsonNode? schema)
    {
        var reference = schema?["$ref"]?.GetValue<string>();
        return reference is null ? schema as JsonObject : doc["components"]!["schemas"]![reference.Split('/')[^1]] as JsonObject;
    }

    // Row counts and content hashes of every table but the bookkeeping ones.
    private async Task<string> FingerprintAsync()
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", conn))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var parts = tables.Where(t => !Bookkeeping.Contains(t))
            .Select(t => $"SELECT '{t}' || ':' || count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) FROM \"{t}\" x");
        await using var cmd = new NpgsqlCommand(string.Join(" UNION ALL ", parts), conn);
        var sb = new StringBuilder();
        await using var rows = await cmd.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            sb.Append(rows.GetString(0)).Append('|');
        }

        return sb.ToString();
    }
}
