using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Slices.Tests.Features.Events;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Chat;

// Room `org-<id>` is for the organization's members at the time of delivery and of sending, not at the time of
// joining: sockets already open must stop receiving (and sending) once their user leaves the organization.
// Absence is proven by order, not by waiting: the fanout delivers in commit order, so a marker message sent to a
// plain room afterwards must be the next frame a removed user gets.
public sealed class OrganizationRoomTests(SlicesFixture fx)
{
    private static string Room() => $"room-{Guid.NewGuid():N}"[..20];

    // The next frame that is not a JoinAsync probe (clients sharing a room see each other's probes).
    private static async Task<JsonNode> NextFrameAsync(ChatClient client)
    {
        while (true)
        {
            var frame = (await client.ReceiveAsync())!;
            if (frame["text"]?.GetValue<string>() is not { } text || !text.StartsWith("probe-", StringComparison.Ordinal))
            {
                return frame;
            }
        }
    }

    private static async Task JoinAllAsync(ChatClient[] clients, params string[] rooms)
    {
        foreach (var client in clients)
        {
            foreach (var room in rooms)
            {
                await client.JoinAsync(room);
            }
        }
    }

    private static void AssertRoomNotAllowed(JsonNode frame)
    {
        Assert.Equal("error", frame["type"]!.GetValue<string>());
        Assert.Equal("room_not_allowed", frame["code"]!.GetValue<string>());
    }

    private static void AssertMessage(JsonNode frame, string room, string text)
    {
        Assert.Equal("message", frame["type"]!.GetValue<string>());
        Assert.Equal(room, frame["room"]!.GetValue<string>());
        Assert.Equal(text, frame["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_member_removed_from_the_organization_stops_receiving_its_room_on_an_open_socket()
    {
        var owner = await fx.NewUserAsync();
        var stays = await fx.NewUserAsync();
        var removed = await fx.NewUserAsync();
        var orgId = await fx.NewOrganizationAsync(owner.Token, users: [stays.Id, removed.Id]);
        var org = $"org-{orgId}";
        var plain = Room();
        await using var staying = await ChatClient.ConnectAsync(fx.Host, stays.Token);
        await using var leaving = await ChatClient.ConnectAsync(fx.Host, removed.Token);
        await JoinAllAsync([staying, leaving], org, plain);

        (await fx.Api.DeleteAsync($"/api/organizations/{orgId}/members/{removed.Id}", owner.Token)).Is(HttpStatusCode.NoContent);

        await using var sender = await ChatClient.ConnectAsync(fx.Host, owner.Token);
        await sender.SendAsync(new { type = "message", room = org, text = "members only" });
        await sender.SendAsync(new { type = "message", room = plain, text = "marker" });

        AssertMessage(await NextFrameAsync(staying), org, "members only");
        AssertMessage(await NextFrameAsync(staying), plain, "marker");
        AssertMessage(await NextFrameAsync(leaving), plain, "marker");
    }

    [Fact]
    public async Task After_the_organization_is_deleted_its_room_neither_accepts_nor_delivers_messages_on_open_sockets()
    {
        var owner = await fx.NewUserAsync();
        var member = await fx.NewUserAsync();
        var orgId = await fx.NewOrganizationAsync(owner.Token, users: [member.Id]);
        var org = $"org-{orgId}";
        var plain = Room();
        await using var a = await ChatClient.ConnectAsync(fx.Host, owner.Token);
        await using var b = await ChatClient.ConnectAsync(fx.Host, member.Token);
        await JoinAllAsync([a, b], org, plain);

        (await fx.Api.DeleteAsync($"/api/organizations/{orgId}", owner.Token)).Is(HttpStatusCode.NoContent);

        await b.SendAsync(new { type = "message", room = org, text = "anyone?" });
        AssertRoomNotAllowed(await NextFrameAsync(b));

        // A message stored just before the deletion but delivered after it (the fanout reads it back by id later).
        await using (var conn = new NpgsqlConnection(fx.Database.ConnectionString))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken);
            await using var insert = new NpgsqlCommand(
                "WITH m AS (INSERT INTO chat_messages (room, sender_id, text) VALUES ($1, $2, 'in flight') RETURNING id) " +
                "SELECT pg_notify('chat_messages', id::text) FROM m", conn)
            {
                Parameters = { new() { Value = org }, new() { Value = owner.Id } },
            };
            await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await a.SendAsync(new { type = "message", room = plain, text = "marker" });
        AssertMessage(await NextFrameAsync(a), plain, "marker");
        AssertMessage(await NextFrameAsync(b), plain, "marker");
    }

    [Fact]
    public async Task A_removed_member_sending_on_an_open_socket_gets_room_not_allowed_and_nothing_is_stored()
    {
        var owner = await fx.NewUserAsync();
        var removed = await fx.NewUserAsync();
        var orgId = await fx.NewOrganizationAsync(owner.Token, users: [removed.Id]);
        var org = $"org-{orgId}";
        await using var client = await ChatClient.ConnectAsync(fx.Host, removed.Token);
        await client.JoinAsync(org);
        var before = (await fx.Api.GetAsync($"/api/chat/rooms/{org}/messages", owner.Token)).Is(HttpStatusCode.OK);

        (await fx.Api.DeleteAsync($"/api/organizations/{orgId}/members/{removed.Id}", owner.Token)).Is(HttpStatusCode.NoContent);
        await client.SendAsync(new { type = "message", room = org, text = "still here?" });

        AssertRoomNotAllowed((await client.ReceiveAsync())!);
        var after = (await fx.Api.GetAsync($"/api/chat/rooms/{org}/messages", owner.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("1", after.Header("X-Total-Count"));
        Assert.Equal(before.Array.ToJsonString(), after.Array.ToJsonString());
        (await fx.Api.GetAsync($"/api/chat/rooms/{org}/messages", removed.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }
}
