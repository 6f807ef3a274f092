using Dapper;
using FluentValidation;
using Mediator;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Chat;

// Stores a room or direct message and announces its id on `chat_messages` in the same transaction, so a
// message is delivered (by ChatFanout, on every instance) only once it is stored.
public static class SendChatMessage
{
    public sealed record SendChatMessageCommand(long SenderId, string? Room, long? To, string? Text) : ICommand<Result<long>>;

    public sealed class Validator : AbstractValidator<SendChatMessageCommand>
    {
        public Validator()
        {
            RuleFor(x => x.Text).NotEmpty().MaximumLength(ChatRooms.MaxText);
            RuleFor(x => x.Room).Must(r => r is null || ChatRooms.RoomName().IsMatch(r))
                .WithMessage("room must be 1–64 characters of a-z, 0-9, _ and -.");
            RuleFor(x => x.To).NotNull().When(x => x.Room is null).WithMessage("Give a room or a recipient (to).");
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<SendChatMessageCommand, Result<long>>
    {
        private const string Insert = """
            WITH m AS (
                INSERT INTO chat_messages (room, sender_id, recipient_id, text)
                SELECT @Room, @SenderId, @To, @Text
                WHERE @To::bigint IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = @To AND is_active)
                RETURNING id
            )
            SELECT id, pg_notify('chat_messages', id::text) FROM m
            """;

        public async ValueTask<Result<long>> Handle(SendChatMessageCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<long>>(async (conn, tx) =>
            {
                if (c.Room is not null && !await ChatRooms.MayUseAsync(conn, c.Room, c.SenderId, ct))
                {
                    return Failure.Forbidden("That room is for its organization's members only.") with { Code = "room_not_allowed" };
                }

                var id = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                    Insert, new { Room = c.Room, c.SenderId, To = c.Room is null ? c.To : null, c.Text }, tx, cancellationToken: ct));
                return id is { } stored ? stored : Failure.NotFound("Recipient") with { Code = "unknown_recipient" };
            }, ct);
        }
    }
}
