using Dapper;
using Npgsql;

namespace Slices.Api.Features.Orders;

// An order as every order route shows it.
public sealed record Order(long Id, long User, string Status, IReadOnlyList<OrderItem> Items, DateTime CreatedAt);

// A line as sold: the cassette's id and its title when the order was placed, which survive the cassette's deletion.
public sealed record OrderItem(long Cassette, string Title, int Quantity);

public static class Orders
{
    public const string Placed = "placed";
    public const string Cancelled = "cancelled";

    // What a caller may see: their own orders, or any order for an admin. Parameters `@uid`, `@admin`.
    public const string Visible = "(@admin OR o.user_id = @uid)";

    private const string Select = "SELECT o.id, o.user_id, o.status, o.created_at, o.xmin::text::bigint AS version FROM orders o";

    private const string SelectLines = """
        SELECT l.order_id, l.cassette_id, l.title, l.quantity
        FROM order_lines l WHERE l.order_id = ANY (@ids) ORDER BY l.order_id, l.line_no
        """;

    // Orders matching whereAndOrder (on `o`), each with its lines and row version.
    public static async Task<IReadOnlyList<(Order Order, long Version)>> LoadAsync(
        NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var rows = (await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, tx, cancellationToken: ct))).ToList();
        var ids = rows.Select(r => r.Id).ToArray();
        var lines = (await conn.QueryAsync<LineRow>(new CommandDefinition(SelectLines, new { ids }, tx, cancellationToken: ct)))
            .ToLookup(l => l.OrderId, l => new OrderItem(l.CassetteId, l.Title, l.Quantity));
        return rows.Select(r => (new Order(r.Id, r.UserId, r.Status, lines[r.Id].ToList(), r.CreatedAt), r.Version)).ToList();
    }

    private sealed record Row(long Id, long UserId, string Status, DateTime CreatedAt, long Version);

    private sealed record LineRow(long OrderId, long CassetteId, string Title, int Quantity);
}
