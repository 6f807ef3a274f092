using System.Buffers;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Chat;

// `GET /ws/chat`: a WebSocket for a signed-in user. Client frames: join, leave, message (to a room), direct
// (to a user). Bad frames get an error frame and the socket stays open; a flooding client is warned, then closed.
public static class ConnectChat
{
    public sealed record ClientFrame(string? Type, string? Room, string? Text, long? To);

    public sealed record ErrorFrame(string Type, string Code, string Detail);

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/ws/chat", async Task<IResult> (HttpContext http, ClaimsPrincipal user) =>
            {
                if (!http.WebSockets.IsWebSocketRequest)
                {
                    return Failure.BadRequest("websocket_required", "This route only accepts WebSocket upgrades.").ToProblem();
                }

                using var socket = await http.WebSockets.AcceptWebSocketAsync();
                await ActivatorUtilities.CreateInstance<Session>(http.RequestServices, socket, user.UserId(), user.SessionId()).RunAsync(http.RequestAborted);
                return Results.Empty;
            })
            .WithName("ChatSocket").WithTags("Chat")
            .WithSummary("WebSocket chat: token in the Authorization header or ?access_token=; frames as in the contract")
            .RequireAuthorization()
            .Produces(StatusCodes.Status101SwitchingProtocols)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    private sealed class Session(WebSocket socket, long userId, Guid sessionId, ChatConnections connections, ISender mediator,
        NpgsqlDataSource db, IOptions<JsonOptions> json, ChatSettings settings, TimeProvider clock)
    {
        private const int MaxFrameBytes = 32 * 1024;
        private readonly JsonSerializerOptions options = json.Value.SerializerOptions;
        private readonly int perSecond = settings.MessagesPerSecond;
        private readonly ChatConnection connection = new(userId, sessionId, settings.SendQueueCapacity);
        private long windowStart;
        private int inWindow;

        public async Task RunAsync(CancellationToken aborted)
        {
            connections.Add(connection);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted, connection.Stop.Token);
            var writer = WriteAsync(stop.Token);
            try
            {
                await ReadAsync(stop.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The client went away or the server closed the connection: nothing to answer.
            }
            finally
            {
                connections.Remove(connection);
                connection.Close(WebSocketCloseStatus.NormalClosure, "bye");
                await writer;
            }
        }

        private async Task ReadAsync(CancellationToken ct)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(MaxFrameBytes);
            try
            {
                while (socket.State == WebSocketState.Open && connection.Closing is null)
                {
                    var length = 0;
                    var tooLarge = false;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(tooLarge ? 0 : length, MaxFrameBytes - (tooLarge ? 0 : length)), ct);
                        if (!tooLarge)
                        {
                            length += result.Count;
                            tooLarge = length >= MaxFrameBytes && !result.EndOfMessage;
                        }
                    }
                    while (!result.EndOfMessage);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    if (Flooding())
                    {
                        continue;
                    }

                    if (tooLarge || result.MessageType != WebSocketMessageType.Text)
                    {
                        SendError(tooLarge ? "frame_too_large" : "text_frames_only", tooLarge ? $"Frames are limited to {MaxFrameBytes} bytes." : "Send JSON text frames.");
                        continue;
                    }

                    await HandleAsync(buffer.AsMemory(0, length), ct);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        // Counts frames per second: past the limit a client is warned, past twice the limit it is closed.
        private bool Flooding()
        {
            var now = clock.GetTimestamp();
            if (clock.GetElapsedTime(windowStart, now) >= TimeSpan.FromSeconds(1))
            {
                windowStart = now;
                inWindow = 0;
            }

            inWindow++;
            if (inWindow > 2 * perSecond)
            {
                connection.Close(WebSocketCloseStatus.PolicyViolation, "rate limit exceeded");
                return true;
            }

            if (inWindow > perSecond)
            {
                SendError("rate_limited", $"At most {perSecond} frames per second; slow down or the connection is closed.");
                return true;
            }

            return false;
        }

        private async Task HandleAsync(ReadOnlyMemory<byte> raw, CancellationToken ct)
        {
            ClientFrame? frame;
            try
            {
                frame = JsonSerializer.Deserialize<ClientFrame>(raw.Span, options);
            }
            catch (JsonException)
            {
                SendError("malformed_json", "A frame must be a JSON object with a type.");
                return;
            }

            switch (frame?.Type)
            {
                case "join" or "leave" when frame.Room is null || !ChatRooms.RoomName().IsMatch(frame.Room):
                    SendError("invalid_room", "room must be 1–64 characters of a-z, 0-9, _ and -.");
                    break;
                case "join":
                    await using (var conn = await db.OpenConnectionAsync(ct))
                    {
                        if (await ChatRooms.MayUseAsync(conn, frame.Room, userId, ct))
                        {
                            connection.Rooms[frame.Room] = true;
                        }
                        else
                        {
                            SendError("room_not_allowed", "That room is for its organization's members only.");
                        }
                    }

                    break;
                case "leave":
                    connection.Rooms.TryRemove(frame.Room, out _);
                    break;
                case "message" when frame.Room is null:
                    SendError("invalid_room", "A message needs a room; use type direct to write to a user.");
                    break;
                case "direct" when frame.To is null:
                    SendError("invalid_recipient", "A direct message needs to: <user id>.");
                    break;
                case "message" or "direct":
                    await SendAsync(new SendChatMessage.SendChatMessageCommand(userId, frame.Type == "message" ? frame.Room : null, frame.To, frame.Text), ct);
                    break;
                default:
                    SendError("unknown_type", "type must be join, leave, message or direct.");
                    break;
            }
        }

        private async Task SendAsync(SendChatMessage.SendChatMessageCommand command, CancellationToken ct)
        {
            try
            {
                var result = await mediator.Send(command, ct);
                if (!result.IsSuccess)
                {
                    SendError(result.Failure!.Code, result.Failure.Detail);
                }
            }
            catch (ValidationException e)
            {
                SendError(e.Errors.Any(x => x.PropertyName == "Text") ? "invalid_text" : "validation_failed", string.Join(" ", e.Errors.Select(x => x.ErrorMessage)));
            }
        }

        private void SendError(string code, string detail) =>
            connection.Send(JsonSerializer.SerializeToUtf8Bytes(new ErrorFrame("error", code, detail), options));

        private async Task WriteAsync(CancellationToken ct)
        {
            try
            {
                await foreach (var frame in connection.Outgoing.ReadAllAsync(ct))
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, ct);
                }

                if (connection.Closing is { } closing && socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    // Only the close frame is sent here: the reader is still receiving and sees the client's answer.
                    await socket.CloseOutputAsync(closing.Status, closing.Reason, CancellationToken.None);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The client is gone; the reader ends on its own.
            }
            finally
            {
                // A client that never answers the close frame is cut off after a grace period.
                connection.Stop.CancelAfter(TimeSpan.FromSeconds(5));
            }
        }
    }
}
