using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Holds;

// Hold bodies and helpers for the hold tests.
internal static class HoldTestData
{
    public static object StageSlot(long stage, string date, string start = "10:00", string end = "11:00", int? ttl = null) =>
        new { kind = "stage_slot", stage, date, start_time = start, end_time = end, ttl_seconds = ttl };

    public static object TrainingPlace(long training, int? ttl = null) => new { kind = "training_place", training, ttl_seconds = ttl };

    public static object Cassette(long cassette, int quantity, int? ttl = null) => new { kind = "cassette", cassette, quantity, ttl_seconds = ttl };

    public static object Table(long table, DateTimeOffset startsAt, int duration = 120, int? ttl = null) =>
        new { kind = "restaurant_table", table, starts_at = startsAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), duration, ttl_seconds = ttl };

    public static Task<Reply> HoldAsync(this ApiClient api, string token, object body) => api.PostAsync("/api/holds", body, token);

    public static async Task<long> HoldIdAsync(this ApiClient api, string token, object body) =>
        (await api.HoldAsync(token, body)).Is(HttpStatusCode.Created).Id;

    public static Task<Reply> ConfirmHoldAsync(this ApiClient api, string token, long hold, object? body = null) =>
        api.PostAsync($"/api/holds/{hold}/confirm", body, token);

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        return (await conn.ExecuteScalarAsync<T>(new CommandDefinition(sql, args, cancellationToken: TestContext.Current.CancellationToken)))!;
    }

    public static string Status(this Reply reply) => reply.Body!["status"]!.GetValue<string>();

    public static JsonNode Member(this Reply reply, string name) => reply.Body![name]!;
}
