using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Platform;

public sealed class ConventionsTests(SlicesFixture fx)
{
    [Fact]
    public async Task Unknown_route_is_a_404_problem()
    {
        var reply = (await fx.Api.GetAsync("/api/no-such-thing")).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(404, reply.Body!["status"]!.GetValue<int>());
        Assert.Equal("/api/no-such-thing", reply.Body["instance"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(reply.Body["trace_id"]!.GetValue<string>()));
        Assert.NotNull(reply.Body["title"]);
        Assert.NotNull(reply.Body["type"]);
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem()
    {
        (await fx.Api.DeleteAsync("/api/auth/signup")).IsProblem(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public async Task Wrong_content_type_is_a_415_problem()
    {
        var content = new StringContent("{}", Encoding.UTF8, "text/plain");
        (await fx.Api.PostAsync("/api/auth/signup", content)).IsProblem(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Theory]
    [InlineData("{\"username\":")]
    [InlineData("not json")]
    [InlineData("{\"username\": 12, \"password\": [1]}")]
    [InlineData("")]
    [InlineData("null")]
    public async Task Malformed_json_is_a_400_problem(string body)
    {
        (await fx.Api.PostAsync("/api/auth/signup", body)).IsProblem(HttpStatusCode.BadRequest, "malformed_json");
    }

    [Theory]
    [InlineData("/api/organizations", "")]
    [InlineData("/api/organizations", "null")]
    [InlineData("/api/restaurant/reservations", "")]
    public async Task An_empty_or_null_json_body_is_400_malformed_json_and_says_nothing_internal(string url, string body)
    {
        var user = await fx.NewUserAsync();
        var reply = (await fx.Api.PostAsync(url, body, user.Token)).IsProblem(HttpStatusCode.BadRequest, "malformed_json");
        Assert.Equal("The request body is empty or null; send a JSON object.", reply.Body!["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/events", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\ncut short")]
    [InlineData("/api/events", "multipart/form-data", "no boundary given")]
    [InlineData("/api/restaurant/reservations/cancel", "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n1.2.3")]
    [InlineData("/api/auth/login", "multipart/form-data", "no boundary given")]
    public async Task A_malformed_form_body_is_400_not_500(string url, string contentType, string body)
    {
        var user = await fx.NewUserAsync();
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        var reply = (await fx.Api.PostAsync(url, content, user.Token)).IsProblem(HttpStatusCode.BadRequest, "malformed_form");
        Assert.Equal("The form body is malformed.", reply.Body!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_body_over_one_mebibyte_is_413()
    {
        var huge = "{\"username\":\"" + new string('a', 1_100_000) + "\"}";
        (await fx.Api.PostAsync("/api/auth/signup", huge)).IsProblem(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task A_malformed_query_number_is_400_naming_the_parameter()
    {
        var reply = (await fx.Api.GetAsync("/api/users?limit=abc", await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["limit"]);
    }

    // DateOnly.TryParse alone would take these and answer for another day ("01.05.2030" is 5 January there).
    [Theory]
    [InlineData("/api/bookings?date=01.05.2030", "date")]
    [InlineData("/api/bookings?date_from=May%201%202030", "date_from")]
    [InlineData("/api/bookings?date_to=2030-5-1", "date_to")]
    [InlineData("/api/cassettes?released_to=12/31/1980", "released_to")]
    [InlineData("/api/stages/1/availability?date=2030/05/01", "date")]
    [InlineData("/api/restaurant/tables?at=01.05.2031%2019:00&duration_minutes=60", "at")]
    [InlineData("/api/restaurant/tables?at=May%201%202031%2019:00", "at")]
    public async Task A_query_date_not_written_YYYY_MM_DD_is_400_naming_the_parameter(string url, string parameter)
    {
        var reply = (await fx.Api.GetAsync(url, (await fx.NewUserAsync()).Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal([parameter], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task A_query_date_written_YYYY_MM_DD_is_taken()
    {
        (await fx.Api.GetAsync("/api/bookings?date=2030-05-01&date_from=2030-01-01&date_to=2030-12-31", (await fx.NewUserAsync()).Token)).Is(HttpStatusCode.OK);
        foreach (var at in new[] { "2031-05-01T19:00:00Z", "2031-05-01T21:00:00%2B02:00", "2031-05-01T19:00", "2031-05-01T19:00:00.5Z" })
        {
            (await fx.Api.GetAsync($"/api/restaurant/tables?at={at}&duration_minutes=60")).Is(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task An_offset_near_the_largest_int_links_back_but_not_to_a_next_page_past_the_end()
    {
        var reply = (await fx.Api.GetAsync($"/api/restaurant/tables?limit=500&offset={int.MaxValue}")).Is(HttpStatusCode.OK);
        Assert.Empty(reply.Array);
        var link = reply.Header("Link")!;
        Assert.DoesNotContain("rel=\"next\"", link, StringComparison.Ordinal);
        Assert.DoesNotContain("offset=-", link, StringComparison.Ordinal);
        Assert.Contains($"limit=500&offset={int.MaxValue - 500}>; rel=\"prev\"", link, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trailing_slash_is_accepted()
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.GetAsync("/api/users/me/", user.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Responses_carry_security_headers_and_no_server_banner()
    {
        var reply = await fx.Api.GetAsync("/health/live");
        Assert.Equal("nosniff", reply.Header("X-Content-Type-Options"));
        Assert.Equal("no-referrer", reply.Header("Referrer-Policy"));
        Assert.Null(reply.Header("Server"));
    }

    [Fact]
    public async Task Idempotent_replay_returns_the_first_response_and_creates_once()
    {
        var key = Guid.NewGuid().ToString();
        var body = new { username = $"idem_{Guid.NewGuid():N}"[..24], password = "long-enough-1" };
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = key };
        var first = (await fx.Api.PostAsync("/api/auth/signup", body, headers: headers)).Is(HttpStatusCode.Created);
        var second = (await fx.Api.PostAsync("/api/auth/signup", body, headers: headers)).Is(HttpStatusCode.Created);

        Assert.Equal("true", second.Header("Idempotent-Replayed"));
        Assert.Null(first.Header("Idempotent-Replayed"));
        Assert.Equal(first.Body!.ToJsonString(), second.Body!.ToJsonString());
        Assert.Equal(first.Header("Location"), second.Header("Location"));
    }

    [Fact]
    public async Task The_same_idempotency_key_with_another_body_is_409()
    {
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        (await fx.Api.PostAsync("/api/auth/signup", new { username = $"idem_{Guid.NewGuid():N}"[..24], password = "long-enough-1" }, headers: headers)).Is(HttpStatusCode.Created);
        (await fx.Api.PostAsync("/api/auth/signup", new { username = $"idem_{Guid.NewGuid():N}"[..24], password = "long-enough-1" }, headers: headers))
            .IsProblem(HttpStatusCode.Conflict, "idempotency_key_reused");
    }

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_execute_once()
    {
        var admin = await fx.AdminTokenAsync();
        var username = $"race_{Guid.NewGuid():N}"[..24];
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            fx.Api.PostAsync("/api/users", new { username, password = "long-enough-1" }, admin, headers)));

        Assert.All(replies, r => r.Is(HttpStatusCode.Created));
        Assert.Single(replies.Select(r => r.Id).Distinct());
        Assert.Equal(9, replies.Count(r => r.Header("Idempotent-Replayed") == "true"));
    }

    [Fact]
    public async Task An_idempotency_key_is_scoped_to_its_caller()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        // Log out is not a create route, so use the admin create for one caller and sign-up for the anonymous one.
        var anon = (await fx.Api.PostAsync("/api/auth/signup", new { username = $"k_{Guid.NewGuid():N}"[..20], password = "long-enough-1" }, headers: key)).Is(HttpStatusCode.Created);
        var admin = (await fx.Api.PostAsync("/api/users", new { username = $"k_{Guid.NewGuid():N}"[..20], password = "long-enough-1" }, await fx.AdminTokenAsync(), key)).Is(HttpStatusCode.Created);
        Assert.NotEqual(anon.Body!["user"]!["id"]!.GetValue<long>(), admin.Id);
        Assert.NotEqual(alice.Id, bob.Id);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_routes_with_bearer_security()
    {
        var doc = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!;
        Assert.StartsWith("3.1", doc["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        var paths = doc["paths"]!.AsObject();
        foreach (var route in new[] { "/api/auth/signup", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/users/me", "/api/users", "/api/users/{username}" })
        {
            Assert.True(paths.ContainsKey(route), $"{route} is missing from the OpenAPI document");
        }

        Assert.NotNull(doc["components"]!["securitySchemes"]!["Bearer"]);
        Assert.NotNull(paths["/api/users/me"]!["get"]!["security"]);
        Assert.Null(paths["/api/auth/signup"]!["post"]!["security"]);
        var schema = doc["components"]!["schemas"]!["UserProfile"]!["properties"]!.AsObject();
        Assert.True(schema.ContainsKey("phone_number"));
        // A custom converter on string once blanked every string schema to {}; members must keep their types.
        Assert.Contains("string", schema["username"]!["type"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("integer", schema["id"]!["type"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_api_route_declares_who_may_call_it()
    {
        var doc = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!;
        var publicRoutes = new[] { "/api/auth/signup", "/api/auth/login", "/api/auth/refresh" };
        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            foreach (var (method, op) in item!.AsObject())
            {
                var secured = op!["security"] is JsonArray { Count: > 0 };
                var isPublic = publicRoutes.Contains(path) || path.StartsWith("/api/restaurant", StringComparison.Ordinal) || path.StartsWith("/media", StringComparison.Ordinal);
                Assert.True(secured || isPublic, $"{method.ToUpperInvariant()} {path} is neither secured nor a known public route");
            }
        }
    }

    [Fact]
    public async Task Decimals_are_read_from_numbers_or_numeric_strings_and_written_as_numbers()
    {
        var admin = await fx.AdminTokenAsync();
        var group = (await fx.Api.PostAsync("/api/groups", new { name = $"decimals {Guid.NewGuid():N}" }, admin)).Is(HttpStatusCode.Created).Id;
        var training = new { date = "2031-12-01", start_time = "18:00", end_time = "19:00", price = "12.50", group };
        var created = (await fx.Api.PostAsync("/api/trainings", training, admin)).Is(HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Number, created.Body!["price"]!.GetValueKind());
        Assert.Equal(12.5m, created.Body["price"]!.GetValue<decimal>());
        var patched = (await fx.Api.PatchAsync($"/api/trainings/{created.Id}", new { price = "15" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(15m, patched.Body!["price"]!.GetValue<decimal>());

        var table = (await fx.Api.PostAsync("/api/restaurant/tables", new { label = $"T{Guid.NewGuid():N}"[..12], kind = "regular", seats = 2, price = "30.00" }, admin)).Is(HttpStatusCode.Created);
        Assert.Equal(30m, table.Body!["price"]!.GetValue<decimal>());
        var price = (await fx.Api.PutAsync($"/api/restaurant/tables/{table.Id}/price", new { price = "31.25" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(31.25m, price.Body!["price"]!.GetValue<decimal>());

        foreach (var bad in new[] { "12,50", "twelve", "" })
        {
            (await fx.Api.PostAsync("/api/trainings", training with { price = bad }, admin)).IsProblem(HttpStatusCode.BadRequest, "malformed_json");
        }

        // Other numbers stay numbers.
        (await fx.Api.PostAsync("/api/restaurant/tables", new { label = $"T{Guid.NewGuid():N}"[..12], kind = "regular", seats = "2" }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "malformed_json");
    }

    [Fact]
    public async Task A_path_id_that_is_not_a_64_bit_integer_is_404_on_every_route()
    {
        var admin = await fx.AdminTokenAsync();
        var doc = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!;
        var checkedRoutes = 0;
        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            foreach (var (method, op) in item!.AsObject())
            {
                var ids = (op!["parameters"]?.AsArray() ?? []).Where(p => p!["in"]!.GetValue<string>() == "path" && p["schema"]!["type"]!.ToJsonString().Contains("integer", StringComparison.Ordinal)).ToList();
                foreach (var id in ids)
                {
                    foreach (var bad in new[] { "abc", "99999999999999999999" })
                    {
                        var url = path.Replace($"{{{id!["name"]!.GetValue<string>()}}}", bad, StringComparison.Ordinal);
                        url = Regex.Replace(url, "\\{[^}]+\\}", "1");
                        var reply = await fx.Api.SendAsync(new HttpMethod(method.ToUpperInvariant()), url, null, admin);
                        Assert.True(reply.Status == HttpStatusCode.NotFound, $"{method.ToUpperInvariant()} {url} → {(int)reply.Status}");
                        reply.IsProblem(HttpStatusCode.NotFound, "not_found");
                        checkedRoutes++;
                    }
                }
            }
        }

        Assert.True(checkedRoutes > 100, $"only {checkedRoutes} requests: the OpenAPI document lost its integer path parameters");
    }

    [Fact]
    public async Task The_scalar_reference_answers_html()
    {
        using var client = fx.Host.Server.CreateClient();
        var response = await client.GetAsync(new Uri("/scalar/", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}
