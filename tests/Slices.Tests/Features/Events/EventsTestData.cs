using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Slices.Api.Features.Events;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

// Test data for the events directory: events go in by SQL (their creation route comes later), organizations over HTTP.
internal static class EventsTestData
{
    // A 1×1 PNG, and the leading bytes of a JPEG (JFIF) and a WebP (RIFF/WEBP) padded to a plausible file.
    public static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
    public static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, .. new byte[64], 0xFF, 0xD9];
    public static readonly byte[] Webp = [.. "RIFF"u8, 0x24, 0x00, 0x00, 0x00, .. "WEBPVP8 "u8, .. new byte[32]];

    // A 320×180 PNG that shows something (a stage under lights), for the pages and screenshots that show event images.
    public static readonly byte[] Poster = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAUAAAAC0CAIAAABqhmJGAAACJ0lEQVR42u3csQ2EMBREQTcCCRRAAeQugG5oiwIozaTEBoJFc5p8pW9eemXeDiBUcQIQMCBgQMAgYEDAgIABAYOAAQEDAgYBAwIGBAwIGAQMCBgQMCBgEDAgYEDAIGBAwICAAQGDgAEBAwIGBAwCBgQMCBgEDAgYEDAgYBAwIGAgOuD24GfXrl0B27UrYIe2a1fAHtiuXQHbtStgAdu1K2CHtmtXwB7Yrl0B27UrYAHbtStgD2zXroDt2hWwgO3aFbBD27UrYA9s166A7doVsIDt2hUw4C91AAHDvwJuZwVCCRgEDAgYEDAIGBAwIGBAwCBgQMCAgEHAgIABAQMCBgEDAgYEDAgYBAwIGBAwCBgQMCBgQMAgYEDAgIABAYOAAQEDAgYBAwIGBAwIGAQMCBgQMAjYFUDAgIABAYOAAQEDAgYEDAIGBNxrmBZ4nYAFjIAFLGAELGAQsIARsIAFjIAFLGAELGAQsIARsIAFjID7Ax73NY5PjS8ktiBgELCAEbCABYyABQwCFjACFrCAEbCABYyABQwCFjACFrCAEbCAQcACBgELGAELWMAIWMAgYAEjYAELGAELWMAIWMAgYAEjYAELGAELGAQsYAQsYAEjYAELGAELGAQsYAQsYAEjYAH72hBwbsCAgEHAgIABAYOAAQEDAgYEDAIGBAwIGATsBCBgQMCAgEHAgIABAQMCBgEDAgYEDAIGBAwIGBAwCBgQMCBg4OYCACtkLR0oKLcAAAAASUVORK5CYII=");

    public static string Tag() => Guid.NewGuid().ToString("N")[..12];

    public static async Task<long> InsertEventAsync(this SlicesFixture fx, long createdBy, string title, DateOnly? date, params long[] organizations) =>
        await fx.InsertEventAsync(createdBy, title, date, null, organizations);

    public static async Task<long> InsertEventAsync(this SlicesFixture fx, long createdBy, string title, DateOnly? date, string? image, long[] organizations)
    {
        const string sql = """
            WITH e AS (
                INSERT INTO events (title, description, date, image, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id
            ), links AS (
                INSERT INTO event_organizations (event_id, organization_id) SELECT e.id, o FROM e, unnest($6::bigint[]) AS o
            )
            SELECT id FROM e
            """;
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn)
        {
            Parameters =
            {
                new() { Value = title },
                new() { Value = $"About {title}" },
                new() { Value = (object?)date ?? DBNull.Value },
                new() { Value = (object?)image ?? DBNull.Value },
                new() { Value = createdBy },
                new() { Value = organizations },
            },
        };
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    // Stores image under the media root as an upload is stored; returns what `events.image` holds.
    public static async Task<string> SaveImageAsync(this SlicesFixture fx, byte[] image)
    {
        using var content = new MemoryStream(image);
        return (await EventImages.SaveAsync(fx.MediaRoot(), content, TestContext.Current.CancellationToken)).Value;
    }

    // A new organization created by token's owner (who becomes a member unless admin).
    public static async Task<long> NewOrganizationAsync(this SlicesFixture fx, string token, string? title = null, long[]? users = null, string? postcode = null, string? address = null) =>
        (await fx.Api.PostAsync("/api/organizations", new { title = title ?? $"Org {Tag()}", users, postcode, address }, token)).Is(HttpStatusCode.Created).Id;

    public static string MediaRoot(this SlicesFixture fx) =>
        fx.Host.Services.GetRequiredService<EventsSettings>().MediaRoot;

    public static long[] Ids(this Reply reply) => reply.Array.Select(e => e!["id"]!.GetValue<long>()).ToArray();

    public static long[] LongArray(this System.Text.Json.Nodes.JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
}
