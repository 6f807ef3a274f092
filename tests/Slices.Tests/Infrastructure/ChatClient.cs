using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;

namespace Slices.Tests.Infrastructure;

// A real WebSocket client of /ws/chat: the test server's client (same handshake, frames and close codes), or a
// ClientWebSocket over TCP for a service running as a process.
public sealed class ChatClient : IAsyncDisposable
{
    private readonly WebSocket socket;

    private ChatClient(WebSocket socket) => this.socket = socket;

    public WebSocketState State => socket.State;

    public WebSocketCloseStatus? CloseStatus => socket.CloseStatus;

    public static async Task<ChatClient> ConnectAsync(IAlbaHost host, string? token, bool tokenInQuery = false)
    {
        var client = host.Server.CreateWebSocketClient();
        if (token is not null && !tokenInQuery)
        {
            client.ConfigureRequest = r => r.Headers.Authorization = $"Bearer {token}";
        }

        var query = token is not null && tokenInQuery ? $"?access_token={Uri.EscapeDataString(token)}" : string.Empty;
        return new ChatClient(await client.ConnectAsync(new Uri($"ws://localhost/ws/chat{query}"), CancellationToken.None));
    }

    public static async Task<ChatClient> ConnectAsync(Uri service, string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await socket.ConnectAsync(new UriBuilder(service) { Scheme = "ws", Path = "/ws/chat" }.Uri, CancellationToken.None);
        return new ChatClient(socket);
    }

    public Task SendAsync(object frame) => SendRawAsync(JsonSerializer.Serialize(frame));

    public Task SendRawAsync(string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    // The next frame, or null when the server closed the connection.
    public async Task<JsonNode?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        var length = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), cts.Token);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        return result.MessageType == WebSocketMessageType.Close ? null : JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, length));
    }

    // Joins a room and waits until the join took effect (its own probe message comes back).
    public async Task JoinAsync(string room)
    {
        await SendAsync(new { type = "join", room });
        var probe = $"probe-{Guid.NewGuid():N}";
        await SendAsync(new { type = "message", room, text = probe });
        while ((await ReceiveAsync())?["text"]?.GetValue<string>() != probe)
        {
        }
    }

    // Answers the close frame the server sent, as a client does (the server waits a few seconds for it).
    public Task AnswerCloseAsync() => socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // Already going away.
            }
        }

        socket.Dispose();
    }
}
