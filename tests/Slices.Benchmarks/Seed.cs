using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Slices.Benchmarks;

// Bulk data through COPY: a million rows take seconds, not the hours row-by-row HTTP would.
public static class Seed
{
    public static async Task<long[]> UsersAsync(NpgsqlConnection conn, int count, string passwordHash)
    {
        var prefix = $"seed{Guid.NewGuid():N}"[..10];
        await using (var writer = await conn.BeginBinaryImportAsync("COPY users (username, email, password_hash) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync($"{prefix}_{i}", NpgsqlDbType.Text);
                await writer.WriteAsync($"{prefix}_{i}@bench.test", NpgsqlDbType.Text);
                await writer.WriteAsync(passwordHash, NpgsqlDbType.Text);
            }

            await writer.CompleteAsync();
        }

        return (await conn.QueryAsync<long>("SELECT id FROM users WHERE username LIKE @p ORDER BY id", new { p = prefix + "\\_%" })).ToArray();
    }

    public static async Task<long[]> StagesAsync(NpgsqlConnection conn, int count)
    {
        await using (var writer = await conn.BeginBinaryImportAsync("COPY stages (name, address, description, open_time, close_time) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync($"Stage {i}", NpgsqlDbType.Text);
                await writer.WriteAsync($"{i} Studio Road", NpgsqlDbType.Text);
                await writer.WriteAsync("A benchmark stage", NpgsqlDbType.Text);
                await writer.WriteAsync(new TimeOnly(0, 0), NpgsqlDbType.Time);
                await writer.WriteAsync(new TimeOnly(23, 59), NpgsqlDbType.Time);
            }

            await writer.CompleteAsync();
        }

        await conn.ExecuteAsync("INSERT INTO services (name) SELECT 'bench service ' || g FROM generate_series(1, 5) g ON CONFLICT DO NOTHING");
        await conn.ExecuteAsync("INSERT INTO stage_services (stage_id, service_id) SELECT s.id, v.id FROM stages s CROSS JOIN (SELECT id FROM services LIMIT 3) v ON CONFLICT DO NOTHING");
        return (await conn.QueryAsync<long>("SELECT id FROM stages ORDER BY id")).ToArray();
    }

    // Bookings for one user on consecutive future days, one hour each.
    public static async Task BookingsAsync(NpgsqlConnection conn, long userId, long stageId, int count)
    {
        await conn.ExecuteAsync("""
            INSERT INTO bookings (user_id, stage_id, date, start_time, finish_time)
            SELECT @userId, @stageId, current_date + 400 + g, '10:00', '11:00' FROM generate_series(1, @count) g
            """, new { userId, stageId, count });
    }

    public static async Task<long[]> CassettesAsync(NpgsqlConnection conn, int count, int quantity)
    {
        var prefix = $"bench{Guid.NewGuid():N}"[..10];
        await conn.ExecuteAsync("""
            INSERT INTO cassettes (title, director, released, quantity)
            SELECT @prefix || ' ' || g, 'Director ' || (g % 100), DATE '1990-01-01' + g % 3000, @quantity FROM generate_series(1, @count) g
            """, new { prefix, count, quantity });
        return (await conn.QueryAsync<long>("SELECT id FROM cassettes WHERE title LIKE @p ORDER BY id", new { p = prefix + " %" })).ToArray();
    }
}

public static class SeedEvents
{
    private static readonly string[] Words = ["jazz", "opera", "summer", "night", "market", "film", "poetry", "science", "family", "river", "garden", "winter", "festival", "lecture", "dance", "rock"];

    // Tops the events table up to total rows over ten years of dates, each with one organizer.
    public static async Task UpToAsync(NpgsqlConnection conn, long total, long createdBy)
    {
        var existing = await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM events");
        if (existing >= total)
        {
            return;
        }

        var random = new Random(42);
        await using (var writer = await conn.BeginBinaryImportAsync("COPY events (title, description, date, created_by) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = existing; i < total; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync($"{Words[random.Next(Words.Length)]} {Words[random.Next(Words.Length)]} {i}", NpgsqlDbType.Text);
                await writer.WriteAsync("A seeded event", NpgsqlDbType.Text);
                await writer.WriteAsync(new DateOnly(2020, 1, 1).AddDays(random.Next(3650)), NpgsqlDbType.Date);
                await writer.WriteAsync(createdBy, NpgsqlDbType.Bigint);
            }

            await writer.CompleteAsync();
        }

        await conn.ExecuteAsync("ANALYZE events", commandTimeout: 600);
    }
}

public static class SeedRestaurant
{
    // Tables of every kind with a price each, and confirmed two-hour reservations on a fifth of them at 19:00 on the search day.
    public static async Task<DateTimeOffset> TablesAsync(NpgsqlConnection conn, int count)
    {
        var day = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(60), TimeSpan.Zero);
        await conn.ExecuteAsync("""
            INSERT INTO restaurant_tables (label, kind, seats, can_be_booked, created_at)
            SELECT 'bench-' || g, (ARRAY['regular', 'cabin', 'room'])[1 + g % 3], 2 + g % 10, g % 20 <> 0, now()
            FROM generate_series(1, @count) g
            ON CONFLICT DO NOTHING;
            INSERT INTO restaurant_table_prices (table_id, price, effective_from, created_at)
            SELECT id, 20 + id % 80, now() - interval '1 day', now() FROM restaurant_tables;
            INSERT INTO restaurant_reservations (table_id, starts_at, ends_at, guests, name, phone, price, status, created_at, updated_at)
            SELECT id, @at, @at + interval '2 hours', 2, 'Bench Guest', '+4930123456', 50, 'confirmed', now(), now()
            FROM restaurant_tables WHERE id % 5 = 0;
            ANALYZE restaurant_tables; ANALYZE restaurant_table_prices; ANALYZE restaurant_reservations;
            """, new { count, at = day.AddHours(19).UtcDateTime }, commandTimeout: 300);
        return day.AddHours(19);
    }
}
