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

// Hears of stored messages and revoked sessions through the instance's PgListener and delivers to its sockets.
// Notifications carry only ids; the row is read back, so every instance sends the same stored message.
public sealed class ChatFanout(NpgsqlDataSource db, ChatConnections connections, IOptions<JsonOptions> json, ILogger<ChatFanout> logger)
    : BackgroundService, IPgSubscriber
{
    private readonly Channel<NpgsqlNotificationEventArgs> received = Channel.CreateUnbounded<NpgsqlNotificationEventArgs>(new() { SingleReader = true });

    public IReadOnlyCollection<string> Channels { get; } = ["chat_messages", "session_revoked"];

    public void OnNotification(NpgsqlNotificationEventArgs notification) => received.Writer.TryWrite(notification);

    // While the listener reconnects, messages stored meanwhile stay in history; live delivery resumes after it.
    public void OnListening()
    {
    }

    public void OnLost()
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var n in received.Reader.ReadAllAsync(stoppingToken))
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
                    await DeliverMessageAsync(id, stoppingToken);
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
