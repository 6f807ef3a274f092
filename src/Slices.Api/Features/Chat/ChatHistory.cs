using System.Globalization;
using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Chat;

// History of a room or of a direct conversation, newest first, paged by `?before=<id>&limit=`
// (the `Link: rel="next"` header carries the next cursor). Only for those who may use the room, or the two ends.
public static class ChatHistory
{
    public sealed record ChatHistoryQuery(long CallerId, string? Room, long? WithUser, long? Before, int? Limit) : IQuery<Result<Page<ChatMessage>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapGet("/api/chat/rooms/{room}/messages",
                    async Task<Results<Ok<IReadOnlyList<ChatMessage>>, ProblemHttpResult>> (string room, long? before, int? limit, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        Answer(http, limit, await mediator.Send(new ChatHistoryQuery(user.UserId(), room, null, before, limit), ct)))
                .WithName("ListRoomMessages").ReadsFromStandby().WithTags("Chat").WithSummary("A room's messages, newest first")
                .RequireAuthorization()
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status404NotFound);
            app.MapGet("/api/chat/direct/{user:long}/messages",
                    async Task<Results<Ok<IReadOnlyList<ChatMessage>>, ProblemHttpResult>> (long user, long? before, int? limit, HttpContext http, ClaimsPrincipal caller, ISender mediator, CancellationToken ct) =>
                        Answer(http, limit, await mediator.Send(new ChatHistoryQuery(caller.UserId(), null, user, before, limit), ct)))
                .WithName("ListDirectMessages").ReadsFromStandby().WithTags("Chat").WithSummary("Your direct messages with one user, newest first")
                .RequireAuthorization()
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status404NotFound);
        }

        private static Results<Ok<IReadOnlyList<ChatMessage>>, ProblemHttpResult> Answer(HttpContext http, int? limit, Result<Page<ChatMessage>> result)
        {
            if (!result.IsSuccess)
            {
                return result.Failure!.ToProblem();
            }

            var page = result.Value;
            http.Response.Headers["X-Total-Count"] = page.Total.ToString(CultureInfo.InvariantCulture);
            // A full page may have more behind it: the next one starts before its oldest message.
            if (page.Items.Count > 0 && page.Items.Count == (limit ?? Paging.DefaultLimit))
            {
                var next = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{http.Request.Path}?before={page.Items[^1].Id}&limit={page.Items.Count}";
                http.Response.Headers.Link = $"<{next}>; rel=\"next\"";
            }

            return TypedResults.Ok(page.Items);
        }
    }

    public sealed class Validator : AbstractValidator<ChatHistoryQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Room).Must(r => r is null || ChatRooms.RoomName().IsMatch(r)).WithMessage("room must be 1–64 characters of a-z, 0-9, _ and -.");
            RuleFor(x => x.Limit).InclusiveBetween(1, Paging.MaxLimit);
            RuleFor(x => x.Before).GreaterThan(0);
        }
    }

    // May be a moment stale: reads from a standby when one is configured (ReadReplicas); new messages arrive on the socket.
    // Who may read a room is not: that is the primary's answer, or a member removed a moment ago could read on from a
    // standby that has not replayed the removal.
    public sealed class Handler(NpgsqlDataSource db, ReadReplicas replicas) : IQueryHandler<ChatHistoryQuery, Result<Page<ChatMessage>>>
    {
        private const string InRoom = "m.room = @Room";
        private const string Between = """
            m.recipient_id IS NOT NULL
            AND least(m.sender_id, m.recipient_id) = least(@CallerId, @WithUser::bigint)
            AND greatest(m.sender_id, m.recipient_id) = greatest(@CallerId, @WithUser::bigint)
            """;

        public async ValueTask<Result<Page<ChatMessage>>> Handle(ChatHistoryQuery q, CancellationToken ct)
        {
            if (q.Room is not null)
            {
                await using var primary = await db.OpenConnectionAsync(ct);
                if (!await ChatRooms.MayUseAsync(primary, q.Room, q.CallerId, ct))
                {
                    return Failure.NotFound("Room");
                }
            }

            return await replicas.ReadAsync(conn => ReadAsync(conn, q, ct), ct);
        }

        private static async Task<Result<Page<ChatMessage>>> ReadAsync(NpgsqlConnection conn, ChatHistoryQuery q, CancellationToken ct)
        {
            if (q.WithUser is { } peer && !await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM users WHERE id = @peer)", new { peer }, cancellationToken: ct)))
            {
                return Failure.NotFound("User");
            }

            var filter = q.Room is not null ? InRoom : Between;
            var args = new { q.Room, q.CallerId, q.WithUser, q.Before, Limit = q.Limit ?? Paging.DefaultLimit };
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM chat_messages m WHERE {filter}", args, cancellationToken: ct));
            var items = await ChatRooms.ReadAsync(conn, $"WHERE {filter} AND (@Before::bigint IS NULL OR m.id < @Before) ORDER BY m.id DESC LIMIT @Limit", args, ct);
            return new Page<ChatMessage>(items, total);
        }
    }
}
