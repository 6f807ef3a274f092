using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;

namespace Slices.Tests.Features.Restaurant;

public sealed class TablesAdminTests(SlicesFixture fx)
{
    public static TheoryData<string, string> AdminRoutes => new()
    {
        { "POST", "/api/restaurant/tables" },
        { "PATCH", "/api/restaurant/tables/1" },
        { "PUT", "/api/restaurant/tables/1/price" },
        { "GET", "/api/restaurant/tables/1/prices" },
        { "GET", "/api/restaurant/reservations" },
        { "GET", "/api/restaurant/reservations/1" },
        { "POST", "/api/restaurant/reservations/1/confirm" },
        { "POST", "/api/restaurant/reservations/1/cancel" },
    };

    [Theory]
    [MemberData(nameof(AdminRoutes))]
    public async Task Admin_routes_answer_401_to_the_anonymous_and_403_to_users(string method, string url)
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.SendAsync(new HttpMethod(method), url, new { })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.SendAsync(new HttpMethod(method), url, new { }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task The_openapi_document_describes_the_restaurant_routes_and_who_may_call_them()
    {
        var paths = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!["paths"]!;
        (string Path, string Method, bool Secured)[] routes =
        [
            ("/api/restaurant/tables", "get", false), ("/api/restaurant/tables", "post", true),
            ("/api/restaurant/tables/{id}", "get", false), ("/api/restaurant/tables/{id}", "patch", true),
            ("/api/restaurant/tables/{id}/price", "put", true), ("/api/restaurant/tables/{id}/prices", "get", true),
            ("/api/restaurant/reservations", "post", false), ("/api/restaurant/reservations", "get", true),
            ("/api/restaurant/reservations/{id}", "get", true),
            ("/api/restaurant/reservations/{id}/confirm", "post", true), ("/api/restaurant/reservations/{id}/cancel", "post", true),
            ("/api/restaurant/reservations/cancel", "get", false), ("/api/restaurant/reservations/cancel", "post", false),
            ("/api/restaurant/accounting/callback", "post", false),
        ];
        foreach (var (path, method, secured) in routes)
        {
            var operation = paths[path]?[method];
            Assert.True(operation is not null, $"{method.ToUpperInvariant()} {path} is missing");
            Assert.Equal(secured, operation["security"] is not null);
        }

        Assert.NotNull(paths["/api/restaurant/reservations/cancel"]!["get"]!["responses"]!["200"]!["content"]!["text/html"]);
        Assert.NotNull(paths["/api/restaurant/accounting/callback"]!["post"]!["requestBody"]!["content"]!["application/json"]);
    }

    [Fact]
    public async Task An_admin_adds_a_table_that_is_open_unless_told_otherwise()
    {
        var admin = await fx.AdminTokenAsync();
        var label = UniqueLabel("Window");
        var reply = (await fx.Api.PostAsync("/api/restaurant/tables", new { label, kind = "regular", seats = 2 }, admin)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/restaurant/tables/{reply.Id}", reply.Header("Location"));
        Assert.Equal(label, reply.Body!["label"]!.GetValue<string>());
        Assert.Equal("regular", reply.Body["kind"]!.GetValue<string>());
        Assert.Equal(2, reply.Body["seats"]!.GetValue<int>());
        Assert.True(reply.Body["can_be_booked"]!.GetValue<bool>());
        Assert.Null(reply.Body["price"]);

        var read = (await fx.Api.GetAsync($"/api/restaurant/tables/{reply.Id}")).Is(HttpStatusCode.OK);
        Assert.Equal(reply.Body.ToJsonString(), read.Body!.ToJsonString());
        Assert.NotNull(read.Header("ETag"));
    }

    [Fact]
    public async Task A_label_is_unique_whatever_its_case()
    {
        var admin = await fx.AdminTokenAsync();
        var label = UniqueLabel("Cabin");
        await fx.Api.NewTableAsync(admin, label: label);
        (await fx.Api.PostAsync("/api/restaurant/tables", new { label = label.ToUpperInvariant(), kind = "cabin", seats = 4 }, admin))
            .IsProblem(HttpStatusCode.Conflict, "duplicate_label");
        var other = (await fx.Api.NewTableAsync(admin))["id"]!.GetValue<long>();
        (await fx.Api.PatchAsync($"/api/restaurant/tables/{other}", new { label }, admin)).IsProblem(HttpStatusCode.Conflict, "duplicate_label");
    }

    [Theory]
    [InlineData("""{"kind":"regular","seats":4}""", "label")]
    [InlineData("""{"label":"","kind":"regular","seats":4}""", "label")]
    [InlineData("""{"label":"x","kind":"terrace","seats":4}""", "kind")]
    [InlineData("""{"label":"x","kind":"regular"}""", "seats")]
    [InlineData("""{"label":"x","kind":"regular","seats":0}""", "seats")]
    [InlineData("""{"label":"x","kind":"regular","seats":51}""", "seats")]
    [InlineData("""{"label":"x","kind":"regular","seats":4,"price":-1}""", "price")]
    [InlineData("""{"label":"x","kind":"regular","seats":4,"price":1.001}""", "price")]
    public async Task A_table_that_breaks_a_rule_is_400_naming_the_field(string body, string field)
    {
        var reply = (await fx.Api.PostAsync("/api/restaurant/tables", body, await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
    }

    [Fact]
    public async Task Patch_changes_only_the_members_sent_and_closing_a_table_hides_it()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableAsync(admin, "cabin", 6, price: 40m);
        var id = table["id"]!.GetValue<long>();

        var closed = (await fx.Api.PatchAsync($"/api/restaurant/tables/{id}", new { can_be_booked = false, seats = 8 }, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.False(closed["can_be_booked"]!.GetValue<bool>());
        Assert.Equal(8, closed["seats"]!.GetValue<int>());
        Assert.Equal(table["label"]!.GetValue<string>(), closed["label"]!.GetValue<string>());
        Assert.Equal("cabin", closed["kind"]!.GetValue<string>());
        Assert.Equal(40m, closed["price"]!.GetValue<decimal>());
        (await fx.Api.GetAsync($"/api/restaurant/tables/{id}")).IsProblem(HttpStatusCode.NotFound, "not_found");

        var reopened = (await fx.Api.PatchAsync($"/api/restaurant/tables/{id}", new { can_be_booked = true }, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.True(reopened["can_be_booked"]!.GetValue<bool>());
        (await fx.Api.GetAsync($"/api/restaurant/tables/{id}")).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Patch_refuses_the_price_and_bad_values_and_unknown_tables()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.NewTableIdAsync(admin);
        var price = (await fx.Api.PatchAsync($"/api/restaurant/tables/{id}", new { price = 1 }, admin)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(price.Body!["errors"]!["price"]);
        var seats = (await fx.Api.PatchAsync($"/api/restaurant/tables/{id}", new { seats = 51 }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(seats.Body!["errors"]!["seats"]);
        (await fx.Api.PatchAsync($"/api/restaurant/tables/{id}", new { kind = "bar" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await fx.Api.PatchAsync("/api/restaurant/tables/999999999", new { seats = 2 }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Patch_with_a_stale_if_match_is_412_and_with_the_current_one_succeeds()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.NewTableIdAsync(admin);
        var etag = (await fx.Api.GetAsync($"/api/restaurant/tables/{id}", admin)).Header("ETag")!;
        (await fx.Api.PatchAsync($"/api/restaurant/tables/{id}", new { seats = 5 }, admin, new Dictionary<string, string> { ["If-Match"] = etag })).Is(HttpStatusCode.OK);
        (await fx.Api.PatchAsync($"/api/restaurant/tables/{id}", new { seats = 6 }, admin, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
    }

    [Fact]
    public async Task A_price_holds_from_now_and_a_scheduled_one_only_from_its_date()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.NewTableIdAsync(admin, price: 20m);
        var now = (await fx.Api.PutAsync($"/api/restaurant/tables/{id}/price", new { price = 22.5m }, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(22.5m, now["price"]!.GetValue<decimal>());
        Assert.Equal(id, now["table"]!.GetValue<long>());
        Assert.True(now["effective_from"]!.GetValue<DateTime>() <= DateTime.UtcNow.AddSeconds(5));

        var next = Future(days: 10, hour: 0);
        var scheduled = (await fx.Api.PutAsync($"/api/restaurant/tables/{id}/price", new { price = 30, effective_from = Iso(next) }, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(next.UtcDateTime, scheduled["effective_from"]!.GetValue<DateTime>().ToUniversalTime());

        Assert.Equal(22.5m, (await fx.Api.GetAsync($"/api/restaurant/tables/{id}")).Body!["price"]!.GetValue<decimal>());
        var history = (await fx.Api.GetAsync($"/api/restaurant/tables/{id}/prices", admin)).Is(HttpStatusCode.OK);
        Assert.Equal([20m, 22.5m, 30m], history.Array.Select(p => p!["price"]!.GetValue<decimal>()));
        Assert.Equal("3", history.Header("X-Total-Count"));
    }

    [Fact]
    public async Task A_price_in_the_past_or_negative_or_for_an_unknown_table_is_refused()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.NewTableIdAsync(admin);
        var past = (await fx.Api.PutAsync($"/api/restaurant/tables/{id}/price", new { price = 10, effective_from = Iso(DateTimeOffset.UtcNow.AddHours(-1)) }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(past.Body!["errors"]!["effective_from"]);
        var negative = (await fx.Api.PutAsync($"/api/restaurant/tables/{id}/price", new { price = -5 }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(negative.Body!["errors"]!["price"]);
        var missing = (await fx.Api.PutAsync($"/api/restaurant/tables/{id}/price", new { }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(missing.Body!["errors"]!["price"]);
        (await fx.Api.PutAsync("/api/restaurant/tables/999999999/price", new { price = 5 }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.GetAsync("/api/restaurant/tables/999999999/prices", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_price_change_does_not_alter_existing_reservations()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin, price: 25m);
        var before = (await fx.Api.RequestAsync(Request(table, Future(days: 12)))).Is(HttpStatusCode.Created).Body!;
        Assert.Equal(25m, before["price"]!.GetValue<decimal>());

        (await fx.Api.PutAsync($"/api/restaurant/tables/{table}/price", new { price = 31 }, admin)).Is(HttpStatusCode.OK);
        (await fx.Api.PutAsync($"/api/restaurant/tables/{table}/price", new { price = 99, effective_from = Iso(Future(days: 1)) }, admin)).Is(HttpStatusCode.OK);

        var kept = (await fx.Api.GetAsync($"/api/restaurant/reservations/{before["id"]}", admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(25m, kept["price"]!.GetValue<decimal>());
        // A new request takes the price that holds when it is made, even for a day the scheduled price will cover.
        var after = (await fx.Api.RequestAsync(Request(table, Future(days: 14)))).Is(HttpStatusCode.Created).Body!;
        Assert.Equal(31m, after["price"]!.GetValue<decimal>());
    }
}
