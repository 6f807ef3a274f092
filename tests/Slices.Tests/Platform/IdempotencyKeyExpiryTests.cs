using System.Net;
using Dapper;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Platform;

// A key replays for 24 h. A key older than that counts as absent even while Housekeeping has not purged it yet:
// the claim takes it over in the same statement. Keys are aged by moving their created_at back.
public sealed class IdempotencyKeyExpiryTests(SlicesFixture fx)
{
    private static object Cassette(string title) => new { title, director = "d", released = "1990-01-01", quantity = 1 };

    private async Task AgeAsync(string key, TimeSpan by)
    {
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        var aged = await conn.ExecuteAsync(
            "UPDATE idempotency_keys SET created_at = created_at - @by WHERE key = @key", new { key, by });
        Assert.Equal(1, aged);
    }

    // A cassette created by the admin with a fresh Idempotency-Key.
    private async Task<(string Admin, string Key, Dictionary<string, string> Headers, object Body, Reply First)> CreateWithKeyAsync()
    {
        var admin = await fx.AdminTokenAsync();
        var key = Guid.NewGuid().ToString();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = key };
        var body = Cassette($"Expiry {Guid.NewGuid():N}");
        return (admin, key, headers, body, (await fx.Api.PostAsync("/api/cassettes", body, admin, headers)).Is(HttpStatusCode.Created));
    }

    [Fact]
    public async Task A_repeat_after_24_hours_is_processed_as_new_and_its_answer_is_then_replayed()
    {
        var (admin, key, headers, body, first) = await CreateWithKeyAsync();

        await AgeAsync(key, TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        var second = (await fx.Api.PostAsync("/api/cassettes", body, admin, headers)).Is(HttpStatusCode.Created);
        var third = (await fx.Api.PostAsync("/api/cassettes", body, admin, headers)).Is(HttpStatusCode.Created);

        Assert.Null(second.Header("Idempotent-Replayed"));
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal("true", third.Header("Idempotent-Replayed"));
        Assert.Equal(second.Id, third.Id);
        Assert.Equal(second.Header("Location"), third.Header("Location"));
    }

    [Fact]
    public async Task An_expired_key_with_another_body_is_processed_as_new_instead_of_409()
    {
        var (admin, key, headers, _, _) = await CreateWithKeyAsync();

        await AgeAsync(key, TimeSpan.FromDays(3));
        var title = $"Expiry {Guid.NewGuid():N}";
        var other = (await fx.Api.PostAsync("/api/cassettes", Cassette(title), admin, headers)).Is(HttpStatusCode.Created);

        Assert.Null(other.Header("Idempotent-Replayed"));
        Assert.Equal(title, other.Body!["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_key_just_under_24_hours_old_still_replays()
    {
        var (admin, key, headers, body, first) = await CreateWithKeyAsync();

        await AgeAsync(key, TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1));
        var again = (await fx.Api.PostAsync("/api/cassettes", body, admin, headers)).Is(HttpStatusCode.Created);

        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.Body!.ToJsonString(), again.Body!.ToJsonString());
    }

    [Fact]
    public async Task Concurrent_repeats_of_an_expired_key_create_one_new_cassette_and_replay_it()
    {
        var (admin, key, headers, body, first) = await CreateWithKeyAsync();

        await AgeAsync(key, TimeSpan.FromDays(2));
        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => fx.Api.PostAsync("/api/cassettes", body, admin, headers)));

        Assert.All(replies, r => r.Is(HttpStatusCode.Created));
        var id = Assert.Single(replies.Select(r => r.Id).Distinct());
        Assert.NotEqual(first.Id, id);
        Assert.Equal(9, replies.Count(r => r.Header("Idempotent-Replayed") == "true"));
    }
}
