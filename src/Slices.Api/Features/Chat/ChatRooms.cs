using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace Slices.Api.Features.Chat;

// A message as clients see it, over the socket and in history. `room` or `to` is set, the other is null.
public sealed record ChatMessage(string Type, long Id, string? Room, long? To, ChatSender From, string Text, DateTime SentAt);

public sealed record ChatSender(long Id, string? Username);

// What the chat slices share: room names, who may use a room, and reading stored messages.
public static partial class ChatRooms
{
    public const int MaxText = 4000;
    private const string OrgPrefix = "org-";

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    public static partial Regex RoomName();

    // `org-<id>` rooms are for that organization's members; every other valid name is open to all.
    public static async Task<bool> MayUseAsync(NpgsqlConnection conn, string room, long userId, CancellationToken ct)
    {
        if (!room.StartsWith(OrgPrefix, StringComparison.Ordinal))
        {
            return true;
        }

        return long.TryParse(room.AsSpan(OrgPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var organization)
            && await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM organization_members WHERE organization_id = @organization AND user_id = @userId)",
                new { organization, userId }, cancellationToken: ct));
    }

    // Selects messages; append a WHERE on `m`.
    public const string Select = """
        SELECT m.id, m.room, m.recipient_id, m.sender_id, u.username::text AS sender_username, m.text, m.sent_at
        FROM chat_messages m JOIN users u ON u.id = m.sender_id
        """;

    public static async Task<IReadOnlyList<ChatMessage>> ReadAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => new ChatMessage("message", r.Id, r.Room, r.RecipientId, new ChatSender(r.SenderId, r.SenderUsername), r.Text, r.SentAt)).ToList();
    }

    private sealed record Row(long Id, string? Room, long? RecipientId, long SenderId, string? SenderUsername, string Text, DateTime SentAt);
}
