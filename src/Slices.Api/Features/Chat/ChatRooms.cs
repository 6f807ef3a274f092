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

    // `substring(<room> FROM OrganizationIdPattern)::bigint` is the organization of an `org-<id>` room, NULL for any
    // other name (never a cast error). Sending and delivery both check membership with it, so they cannot disagree.
    private const string OrganizationIdPattern = "'^org-([0-9]{1,18})$'";

    private const string MayUse = $"""
        SELECT EXISTS (
            SELECT 1 FROM organization_members
            WHERE organization_id = substring(@room FROM {OrganizationIdPattern})::bigint AND user_id = @userId)
        """;

    [GeneratedRegex("^[a-z0-9_-]{1,64}$")]
    public static partial Regex RoomName();

    // `org-<id>` rooms are for that organization's current members; every other valid name is open to all.
    public static async Task<bool> MayUseAsync(NpgsqlConnection conn, string room, long userId, CancellationToken ct) =>
        !room.StartsWith("org-", StringComparison.Ordinal)
        || await conn.ExecuteScalarAsync<bool>(new CommandDefinition(MayUse, new { room, userId }, cancellationToken: ct));

    private const string Columns = "m.id, m.room, m.recipient_id, m.sender_id, u.username::text AS sender_username, m.text, m.sent_at";
    private const string From = "FROM chat_messages m JOIN users u ON u.id = m.sender_id";

    // Who may receive a message now: for an `org-<id>` room its organization's current member ids, ascending (none
    // once the organization is deleted); NULL for other rooms and direct messages, which have no member filter.
    private const string Members = $"""
        CASE WHEN m.room LIKE 'org-%' THEN ARRAY(
            SELECT om.user_id FROM organization_members om
            WHERE om.organization_id = substring(m.room FROM {OrganizationIdPattern})::bigint ORDER BY om.user_id)
        END AS members
        """;

    // Messages for history (whose reader's membership is checked before); `whereAndOrder` is a WHERE on `m`.
    public static async Task<IReadOnlyList<ChatMessage>> ReadAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"SELECT {Columns}, NULL::bigint[] AS members {From} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.Message).ToList();
    }

    // One stored message for delivery, read together with its room's current members (see Members) in one query.
    public static async Task<(ChatMessage Message, long[]? Members)?> ReadForDeliveryAsync(NpgsqlConnection conn, long id, CancellationToken ct)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"SELECT {Columns}, {Members} {From} WHERE m.id = @id", new { id }, cancellationToken: ct));
        return row is null ? null : (row.Message, row.Members);
    }

    private sealed record Row(long Id, string? Room, long? RecipientId, long SenderId, string? SenderUsername, string Text, DateTime SentAt, long[]? Members)
    {
        public ChatMessage Message => new("message", Id, Room, RecipientId, new ChatSender(SenderId, SenderUsername), Text, SentAt);
    }
}
