using System.Net;
using System.Net.WebSockets;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Chat;

public sealed class ChatTests(SlicesFixture fx)
{
    private static string Room() => $"room-{Guid.NewGuid():N}"[..20];

    private async Task<long> OrganizationWithMemberAsync(long userId)
    {
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new NpgsqlCommand(
            "WITH o AS (INSERT INTO organizations (title) VALUES ('Chat org') RETURNING id) " +
            "INSERT INTO organization_members (organization_id, user_id) SELECT id, $1 FROM o RETURNING organization_id", conn)
        {
            Parameters = { new() { Value = userId } },
        };
        return (long)(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    [Fact]
    public async Task Two_users_in_a_room_receive_each_others_messages_in_order()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var room = Room();
        await using var a = await ChatClient.ConnectAsync(fx.Host, alice.Token);
        await using var b = await ChatClient.ConnectAsync(fx.Host, bob.Token, tokenInQuery: true);
        await a.JoinAsync(room);
        await b.JoinAsync(room);

        for (var i = 0; i < 5; i++)
        {
            await a.SendAsync(new { type = "message", room, text = $"hello {i}" });
        }

        await b.SendAsync(new { type = "message", room, text = "hi alice" });

        // Each sender's messages arrive in the order sent; the two senders interleave by commit order.
        foreach (var client in new[] { a, b })
        {
            var frames = new List<System.Text.Json.Nodes.JsonNode>();
            while (frames.Count(f => f["text"]!.GetValue<string>() is var t && (t.StartsWith("hello", StringComparison.Ordinal) || t == "hi alice")) < 6)
            {
                frames.Add((await client.ReceiveAsync())!);
            }

            var fromAlice = frames.Where(f => f["from"]!["id"]!.GetValue<long>() == alice.Id && !f["text"]!.GetValue<string>().StartsWith("probe", StringComparison.Ordinal)).ToList();
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"hello {i}"), fromAlice.Select(f => f["text"]!.GetValue<string>()));
            Assert.All(fromAlice, f =>
            {
                Assert.Equal("message", f["type"]!.GetValue<string>());
                Assert.Equal(room, f["room"]!.GetValue<string>());
                Assert.Equal(alice.Username, f["from"]!["username"]!.GetValue<string>());
                Assert.EndsWith("Z", f["sent_at"]!.GetValue<string>(), StringComparison.Ordinal);
            });
            Assert.True(fromAlice.Select(f => f["id"]!.GetValue<long>()).Order().SequenceEqual(fromAlice.Select(f => f["id"]!.GetValue<long>())));
            Assert.Contains(frames, f => f["text"]!.GetValue<string>() == "hi alice" && f["from"]!["id"]!.GetValue<long>() == bob.Id);
        }
    }

    [Fact]
    public async Task A_direct_message_reaches_only_its_two_ends()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var eve = await fx.NewUserAsync();
        await using var a = await ChatClient.ConnectAsync(fx.Host, alice.Token);
        await using var b = await ChatClient.ConnectAsync(fx.Host, bob.Token);
        await using var e = await ChatClient.ConnectAsync(fx.Host, eve.Token);

        await a.SendAsync(new { type = "direct", to = bob.Id, text = "psst" });
        var atBob = (await b.ReceiveAsync())!;
        Assert.Equal("psst", atBob["text"]!.GetValue<string>());
        Assert.Equal(bob.Id, atBob["to"]!.GetValue<long>());
        Assert.Null(atBob["room"]);
        Assert.Equal("psst", (await a.ReceiveAsync())!["text"]!.GetValue<string>());

        await e.SendAsync(new { type = "direct", to = eve.Id, text = "note to self" });
        Assert.Equal("note to self", (await e.ReceiveAsync())!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task History_pages_newest_first_and_is_only_for_those_allowed()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var eve = await fx.NewUserAsync();
        var room = Room();
        await using (var a = await ChatClient.ConnectAsync(fx.Host, alice.Token))
        {
            await a.JoinAsync(room);
            for (var i = 0; i < 5; i++)
            {
                await a.SendAsync(new { type = "message", room, text = $"m{i}" });
                await a.SendAsync(new { type = "direct", to = bob.Id, text = $"d{i}" });
            }

            for (var i = 0; i < 10; i++)
            {
                await a.ReceiveAsync();
            }
        }

        var first = (await fx.Api.GetAsync($"/api/chat/rooms/{room}/messages?limit=3", bob.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(["m4", "m3", "m2"], first.Array.Select(m => m!["text"]!.GetValue<string>()));
        Assert.Equal("6", first.Header("X-Total-Count"));
        var before = first.Array[^1]!["id"]!.GetValue<long>();
        Assert.Contains($"before={before}", first.Header("Link"), StringComparison.Ordinal);
        var second = (await fx.Api.GetAsync($"/api/chat/rooms/{room}/messages?before={before}&limit=3", bob.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("m1", second.Array[0]!["text"]!.GetValue<string>());

        var direct = (await fx.Api.GetAsync($"/api/chat/direct/{alice.Id}/messages", bob.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(["d4", "d3", "d2", "d1", "d0"], direct.Array.Select(m => m!["text"]!.GetValue<string>()));
        var fromEve = (await fx.Api.GetAsync($"/api/chat/direct/{alice.Id}/messages", eve.Token)).Is(HttpStatusCode.OK);
        Assert.Empty(fromEve.Array);
        (await fx.Api.GetAsync($"/api/chat/rooms/{room}/messages")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync("/api/chat/rooms/Bad Room!/messages", bob.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task A_direct_history_with_a_user_that_is_not_a_user_id_or_does_not_exist_is_404()
    {
        var bob = await fx.NewUserAsync();
        (await fx.Api.GetAsync("/api/chat/direct/bob/messages", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.GetAsync($"/api/chat/direct/{long.MaxValue}/messages", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var stranger = await fx.NewUserAsync();
        Assert.Empty((await fx.Api.GetAsync($"/api/chat/direct/{stranger.Id}/messages", bob.Token)).Is(HttpStatusCode.OK).Array);
    }

    [Fact]
    public async Task An_upgrade_without_a_valid_token_is_refused_with_401()
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ChatClient.ConnectAsync(fx.Host, null));
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
        var forged = await Assert.ThrowsAnyAsync<Exception>(() => ChatClient.ConnectAsync(fx.Host, "not.a.token", tokenInQuery: true));
        Assert.Contains("401", forged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_organization_room_is_refused_to_non_members_and_open_to_members()
    {
        var member = await fx.NewUserAsync();
        var outsider = await fx.NewUserAsync();
        var org = await OrganizationWithMemberAsync(member.Id);
        await using var inside = await ChatClient.ConnectAsync(fx.Host, member.Token);
        await using var outside = await ChatClient.ConnectAsync(fx.Host, outsider.Token);

        await outside.SendAsync(new { type = "join", room = $"org-{org}" });
        Assert.Equal("room_not_allowed", (await outside.ReceiveAsync())!["code"]!.GetValue<string>());
        await outside.SendAsync(new { type = "message", room = $"org-{org}", text = "let me in" });
        Assert.Equal("room_not_allowed", (await outside.ReceiveAsync())!["code"]!.GetValue<string>());

        await inside.JoinAsync($"org-{org}");
        (await fx.Api.GetAsync($"/api/chat/rooms/org-{org}/messages", outsider.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var history = (await fx.Api.GetAsync($"/api/chat/rooms/org-{org}/messages", member.Token)).Is(HttpStatusCode.OK);
        Assert.Single(history.Array);
    }

    [Theory]
    [InlineData("not json", "malformed_json")]
    [InlineData("""{"type":"shout","room":"x"}""", "unknown_type")]
    [InlineData("""{"type":"join","room":"UPPER case"}""", "invalid_room")]
    [InlineData("""{"type":"message","room":"ok-room","text":""}""", "invalid_text")]
    [InlineData("""{"type":"direct","text":"to nobody"}""", "invalid_recipient")]
    [InlineData("""{"type":"direct","to":999999999,"text":"ghost"}""", "unknown_recipient")]
    public async Task Bad_frames_get_an_error_frame_and_the_socket_stays_usable(string frame, string code)
    {
        var user = await fx.NewUserAsync();
        await using var client = await ChatClient.ConnectAsync(fx.Host, user.Token);
        await client.SendRawAsync(frame);
        var error = (await client.ReceiveAsync())!;
        Assert.Equal("error", error["type"]!.GetValue<string>());
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(error["detail"]!.GetValue<string>()));

        await client.JoinAsync(Room());
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task Text_over_4000_characters_is_refused()
    {
        var user = await fx.NewUserAsync();
        await using var client = await ChatClient.ConnectAsync(fx.Host, user.Token);
        await client.SendAsync(new { type = "message", room = Room(), text = new string('x', 4001) });
        Assert.Equal("invalid_text", (await client.ReceiveAsync())!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_flooding_client_is_warned_then_closed_with_policy_violation()
    {
        var user = await fx.NewUserAsync();
        await using var client = await ChatClient.ConnectAsync(fx.Host, user.Token);
        for (var i = 0; i < 60; i++)
        {
            await client.SendAsync(new { type = "leave", room = "nowhere" });
        }

        var codes = new List<string>();
        while (await client.ReceiveAsync() is { } frame)
        {
            codes.Add(frame["code"]!.GetValue<string>());
        }

        Assert.Contains("rate_limited", codes);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
    }

    [Fact]
    public async Task Logging_out_closes_the_socket()
    {
        var user = await fx.NewUserAsync();
        await using var client = await ChatClient.ConnectAsync(fx.Host, user.Token);
        await client.JoinAsync(Room());
        (await fx.Api.PostAsync("/api/auth/logout", null, user.Token)).Is(HttpStatusCode.NoContent);
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
    }

    [Fact]
    public async Task A_message_sent_through_one_instance_reaches_a_client_of_another()
    {
        await using var second = await SlicesFixture.StartHostAsync(fx.Database.ConnectionString);
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var room = Room();
        await using var onA = await ChatClient.ConnectAsync(fx.Host, alice.Token);
        await using var onB = await ChatClient.ConnectAsync(second, bob.Token);
        await onB.JoinAsync(room);

        await onA.SendAsync(new { type = "message", room, text = "across instances" });
        Assert.Equal("across instances", (await onB.ReceiveAsync())!["text"]!.GetValue<string>());
        await onA.SendAsync(new { type = "direct", to = bob.Id, text = "direct across" });
        Assert.Equal("direct across", (await onB.ReceiveAsync())!["text"]!.GetValue<string>());
    }
}
