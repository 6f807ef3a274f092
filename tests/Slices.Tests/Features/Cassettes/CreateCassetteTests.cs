using System.Net;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Cassettes;

public sealed class CreateCassetteTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_creates_a_cassette_with_quantity_defaulting_to_zero()
    {
        var title = Catalogue.Unique("Blade Runner");
        var reply = (await fx.Api.PostAsync("/api/cassettes", new { title, director = "Ridley Scott", released = "1982-06-25" }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.Created);

        Assert.Equal($"/api/cassettes/{reply.Id}", reply.Header("Location"));
        Assert.Equal(title, reply.Body!["title"]!.GetValue<string>());
        Assert.Equal("Ridley Scott", reply.Body["director"]!.GetValue<string>());
        Assert.Equal("1982-06-25", reply.Body["released"]!.GetValue<string>());
        Assert.Equal(0, reply.Body["quantity"]!.GetValue<int>());
        var stored = (await fx.Api.GetAsync($"/api/cassettes/{reply.Id}", (await fx.NewUserAsync()).Token)).Is(HttpStatusCode.OK);
        Assert.Equal(reply.Body.ToJsonString(), stored.Body!.ToJsonString());
        Assert.NotNull(stored.Header("ETag"));
    }

    [Fact]
    public async Task Missing_title_and_director_are_rejected_by_name()
    {
        var reply = await fx.Api.PostAsync("/api/cassettes", new { released = "1982-06-25" }, await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        var errors = reply.Body!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("title"));
        Assert.True(errors.ContainsKey("director"));
    }

    [Fact]
    public async Task Title_and_director_longer_than_255_characters_are_rejected()
    {
        var tooLong = new string('x', 256);
        var reply = await fx.Api.PostAsync("/api/cassettes", new { title = tooLong, director = tooLong, released = "1982-06-25" }, await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["director", "title"], reply.Body!["errors"]!.AsObject().Select(e => e.Key).Order());
        (await fx.Api.PostAsync("/api/cassettes", new { title = new string('x', 255), director = "d", released = "1982-06-25" }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_release_date_in_the_future_is_rejected()
    {
        var tomorrow = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var reply = await fx.Api.PostAsync("/api/cassettes", new { title = Catalogue.Unique("Future"), director = "d", released = tomorrow }, await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["released"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task A_release_date_that_does_not_exist_is_rejected()
    {
        var reply = await fx.Api.PostAsync("/api/cassettes", new { title = Catalogue.Unique("Leap"), director = "d", released = "2023-02-30" }, await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "malformed_json");
        Assert.Contains("released", reply.Body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_release_date_is_rejected()
    {
        var reply = await fx.Api.PostAsync("/api/cassettes", new { title = Catalogue.Unique("Undated"), director = "d" }, await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["released"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task A_negative_quantity_is_rejected()
    {
        var reply = await fx.Api.PostAsync("/api/cassettes", new { title = Catalogue.Unique("Negative"), director = "d", released = "1990-01-01", quantity = -1 }, await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["quantity"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task The_database_refuses_a_negative_quantity_too()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new NpgsqlCommand("UPDATE cassettes SET quantity = quantity - 2 WHERE id = $1", conn) { Parameters = { new() { Value = id } } };

        var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));

        Assert.Equal("cassettes_quantity_not_negative", e.ConstraintName);
        Assert.Equal(1, await Catalogue.StockAsync(fx, id));
    }

    [Fact]
    public async Task Only_admins_create_cassettes()
    {
        var body = new { title = Catalogue.Unique("Forbidden"), director = "d", released = "1990-01-01" };

        (await fx.Api.PostAsync("/api/cassettes", body, (await fx.NewUserAsync()).Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PostAsync("/api/cassettes", body)).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        var listed = (await fx.Api.GetAsync($"/api/cassettes?search={Uri.EscapeDataString(body.title)}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        Assert.Empty(listed.Array);
    }

    [Fact]
    public async Task A_repeated_create_with_the_same_idempotency_key_makes_one_cassette()
    {
        var title = Catalogue.Unique("Once");
        var body = new { title, director = "d", released = "1990-01-01", quantity = 3 };
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var token = await fx.AdminTokenAsync();

        var first = (await fx.Api.PostAsync("/api/cassettes", body, token, headers)).Is(HttpStatusCode.Created);
        var again = (await fx.Api.PostAsync("/api/cassettes", body, token, headers)).Is(HttpStatusCode.Created);

        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        Assert.Equal(first.Id, again.Id);
        var listed = (await fx.Api.GetAsync($"/api/cassettes?search={Uri.EscapeDataString(title)}", token)).Is(HttpStatusCode.OK);
        Assert.Single(listed.Array);
    }
}
