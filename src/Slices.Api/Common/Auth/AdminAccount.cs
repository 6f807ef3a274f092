using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace Slices.Api.Common.Auth;

public static class AdminAccount
{
    // Ensures the admin account from `Admin:Username`/`Admin:Password`. In Development without a
    // configured password, a generated one is printed once, when the account is first created.
    public static async Task EnsureAsync(NpgsqlDataSource db, Passwords passwords, IConfiguration config, IHostEnvironment env, ILogger logger, CancellationToken ct = default)
    {
        var username = config["Admin:Username"] ?? "admin";
        var password = config["Admin:Password"];
        await using var conn = await db.OpenConnectionAsync(ct);
        var existing = await conn.QuerySingleOrDefaultAsync<AdminRow>(new CommandDefinition(
            "SELECT id, password_hash FROM users WHERE username = @username", new { username }, cancellationToken: ct));
        if (existing is { } user)
        {
            if (password is not null && !passwords.Verify(password, user.PasswordHash))
            {
                await conn.ExecuteAsync(new CommandDefinition(
                    "UPDATE users SET password_hash = @hash, role = 'admin', is_active = true WHERE id = @id",
                    new { hash = passwords.Hash(password), id = user.Id }, cancellationToken: ct));
                logger.LogInformation("Admin account {Username}: password updated from configuration", username);
            }

            return;
        }

        if (password is null)
        {
            if (!env.IsDevelopment())
            {
                logger.LogWarning("No Admin:Password configured: no admin account was created");
                return;
            }

            password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(15));
            // Printed once, on purpose: this is the only way a newcomer learns the generated password.
            Console.WriteLine($"Created admin account '{username}' with password: {password}");
        }

        await conn.ExecuteAsync(new CommandDefinition(
            "INSERT INTO users (username, password_hash, role) VALUES (@username, @hash, 'admin') ON CONFLICT DO NOTHING",
            new { username, hash = passwords.Hash(password) }, cancellationToken: ct));
    }

    private sealed record AdminRow(long Id, string PasswordHash);
}
