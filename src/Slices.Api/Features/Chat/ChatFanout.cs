using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Observability;

namespace Slices.Api.Features.Chat;

// Listens on PostgreSQL for stored messages and revoked sessions and delivers to this instance's sockets.
// Notifications carry only ids; the row is read back, so every instance sends the same stored message.
public sealed class ChatFanout(NpgsqlDataSource db, ChatConnections connections, IOptions<JsonOptions> json, ILogger<ChatFanout> logger) : BackgroundService
{
    private readonly Channel<NpgsqlNotificationEventArgs> received = Channel.CreateUnbounded<NpgsqlNotificationEventArgs>(new() { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var deliver = DeliverAsync(stoppingToken);
        // While the listener reconnects, messages stored meanwhile stay in history; live delivery resumes after it.
        await PgListener.RunAsync(
            db,
            "chat_messages, session_revoked",
            n => received.Writer.TryWrite(n),
            () => { },
            e => logger.LogWarning(e, "Chat listener lost its database connection; reconnecting"),
            TimeSpan.FromSeconds(1),
            TimeProvider.System,
            stoppingToken);
        received.Writer.TryComplete();
        await deliver;
    }

    private async Task DeliverAsync(CancellationToken ct)
    {
        await foreach (var n in received.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                if (n.Channel == "session_revoked" && Guid.TryParse(n.Payload, out var session))
                {
                    foreach (var c in connections.OfSession(session))
                    {
                        c.Close(WebSocketCloseStatus.PolicyViolation, "session ended");
                    }
                }
                else if (n.Channel == "chat_messages" && long.TryParse(n.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    await DeliverMessageAsync(id, ct);
                }
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                logger.LogWarning(e, "Could not deliver chat notification {Channel} {Payload}", n.Channel, n.Payload);
            }
        }
    }

    // An `org-<id>` room's message goes only to sockets whose user is a member now: membership is checked at join,
    // but a member removed later (or the members of a deleted organization) may still have the room joined.
    private async Task DeliverMessageAsync(long id, CancellationToken ct)
    {
        // An instance without sockets has no one to deliver to: it does not read the message at all. A socket opened
        // meanwhile has joined no room yet and finds the message in history.
        if (connections.IsEmpty)
        {
            return;
        }

        // A trace of its own per message (NOTIFY carries only the id, not the sender's trace).
        using var activity = Telemetry.Source.StartActivity("chat.fanout", ActivityKind.Consumer);
        activity?.SetTag("chat.message_id", id);
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await ChatRooms.ReadForDeliveryAsync(conn, id, ct) is not { } delivery)
        {
            return;
        }

        var (message, members) = delivery;

        var frame = JsonSerializer.SerializeToUtf8Bytes(message, json.Value.SerializerOptions);
        var targets = message.Room is { } room ? connections.InRoom(room) : connections.OfUsers(message.From.Id, message.To!.Value);
        var sent = 0;
        foreach (var c in targets)
        {
            // Members come sorted from the query.
            if (members is null || Array.BinarySearch(members, c.UserId) >= 0)
            {
                c.Send(frame);
                sent++;
            }
        }

        activity?.SetTag("chat.sockets", sent);
        Telemetry.ChatFrames.Add(sent);
    }
}
