using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using Slices.Api.Common.Observability;

namespace Slices.Api.Features.Chat;

// One open socket: its user and session, the rooms it joined, and a bounded queue of frames to send.
public sealed class ChatConnection(long userId, Guid sessionId, int queueCapacity)
{
    private readonly Channel<ReadOnlyMemory<byte>> outgoing = Channel.CreateBounded<ReadOnlyMemory<byte>>(
        new BoundedChannelOptions(queueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public long UserId { get; } = userId;

    public Guid SessionId { get; } = sessionId;

    public ConcurrentDictionary<string, bool> Rooms { get; } = new(StringComparer.Ordinal);

    public ChannelReader<ReadOnlyMemory<byte>> Outgoing => outgoing.Reader;

    // Set when the server ends the connection; the reason becomes the close frame.
    public (WebSocketCloseStatus Status, string Reason)? Closing { get; private set; }

    public CancellationTokenSource Stop { get; } = new();

    // Queues a frame; a client too slow to keep up is dropped rather than slowing everyone else.
    public void Send(ReadOnlyMemory<byte> frame)
    {
        if (!outgoing.Writer.TryWrite(frame))
        {
            Close(WebSocketCloseStatus.PolicyViolation, "send queue overflow");
        }
    }

    public void Close(WebSocketCloseStatus status, string reason)
    {
        Closing ??= (status, reason);
        outgoing.Writer.TryComplete();
    }
}

// The sockets open on this instance. Every instance has its own; PostgreSQL NOTIFY reaches them all. When the host
// starts stopping (SIGTERM), every socket is closed with 1001 (going away) so that its client reconnects to another
// instance, and a socket opened after that is closed the same way at once; the host waits for the close handshakes
// before it stops.
public sealed class ChatConnections
{
    private const string ShutdownReason = "server shutting down";
    private readonly ConcurrentDictionary<ChatConnection, bool> open = new();
    private int stopping;

    public ChatConnections(IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        lifetime.ApplicationStopping.Register(CloseAll);
    }

    public void Add(ChatConnection c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (open.TryAdd(c, true))
        {
            Telemetry.ChatSockets.Add(1);
        }

        // Both sides write, then read with a full fence between: a socket CloseAll's pass missed sees the flag here.
        if (Interlocked.CompareExchange(ref stopping, 0, 0) == 1)
        {
            c.Close(WebSocketCloseStatus.EndpointUnavailable, ShutdownReason);
        }
    }

    public void Remove(ChatConnection c)
    {
        if (open.TryRemove(c, out _))
        {
            Telemetry.ChatSockets.Add(-1);
        }
    }

    public bool IsEmpty => open.IsEmpty;

    public IEnumerable<ChatConnection> InRoom(string room) => All.Where(c => c.Rooms.ContainsKey(room));

    public IEnumerable<ChatConnection> OfUsers(long a, long b) => All.Where(c => c.UserId == a || c.UserId == b);

    public IEnumerable<ChatConnection> OfSession(Guid session) => All.Where(c => c.SessionId == session);

    // The dictionary's own enumerator: no lock and no copy (`Keys` would snapshot every socket under all the
    // dictionary's locks, once per delivery). A socket added or removed meanwhile may be seen or not.
    private IEnumerable<ChatConnection> All => open.Select(static p => p.Key);

    private void CloseAll()
    {
        Interlocked.Exchange(ref stopping, 1);
        foreach (var c in All)
        {
            c.Close(WebSocketCloseStatus.EndpointUnavailable, ShutdownReason);
        }
    }
}
