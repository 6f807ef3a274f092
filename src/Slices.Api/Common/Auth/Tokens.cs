using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

using Slices.Api.Common;

namespace Slices.Api.Common.Auth;

public sealed class JwtSettings
{
    public required SymmetricSecurityKey Key { get; init; }

    public string Issuer { get; init; } = "slices";

    public string Audience { get; init; } = "slices-api";

    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromDays(14);

    // `Jwt:SigningKey` (≥ 32 bytes) when set. Otherwise, in Development, a key generated once and kept in
    // `.data/jwt-signing-key`; anywhere else the service refuses to start.
    public static JwtSettings Load(IConfiguration config, IHostEnvironment env, string dataRoot)
    {
        var configured = config["Jwt:SigningKey"];
        byte[] key;
        if (!string.IsNullOrEmpty(configured))
        {
            key = System.Text.Encoding.UTF8.GetBytes(configured);
        }
        else if (env.IsDevelopment())
        {
            var path = Path.Combine(dataRoot, "jwt-signing-key");
            if (!File.Exists(path))
            {
                Directory.CreateDirectory(dataRoot);
                File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)));
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }

            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        else
        {
            throw new StartupException("Jwt:SigningKey is required outside Development (at least 32 bytes).");
        }

        if (key.Length < 32)
        {
            throw new StartupException("Jwt:SigningKey must be at least 32 bytes.");
        }

        return new JwtSettings
        {
            Key = new SymmetricSecurityKey(key),
            Issuer = config["Jwt:Issuer"] ?? "slices",
            Audience = config["Jwt:Audience"] ?? "slices-api",
            AccessTokenLifetime = Settings.Duration(config, "Jwt:AccessTokenLifetime", TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(10), TimeSpan.FromDays(1)),
            RefreshTokenLifetime = Settings.Duration(config, "Jwt:RefreshTokenLifetime", TimeSpan.FromDays(14), TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650)),
        };
    }
}

// The answer to sign-up, log-in and refresh.
public sealed record TokenPair(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn);

// Issues sessions: a short-lived JWT bound to a session id, and an opaque refresh token stored as a hash.
public sealed class Tokens(JwtSettings settings, TimeProvider clock)
{
    private readonly JsonWebTokenHandler handler = new();

    public static byte[] HashRefreshToken(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));

    // Starts a new session for the user inside the caller's transaction.
    public async Task<TokenPair> StartSessionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long userId, string role, CancellationToken ct) =>
        await IssueAsync(conn, tx, await CreateSessionAsync(conn, tx, userId, ct, refreshable: true), userId, role, ct);

    // A new session row without tokens, for a sign-in that carries the session id itself (the admin panel's cookie);
    // refreshable for one that StartSessionAsync gives refresh tokens (housekeeping deletes it once they are all gone).
    public async Task<Guid> CreateSessionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long userId, CancellationToken ct, bool refreshable = false)
    {
        var sessionId = Guid.CreateVersion7();
        await conn.ExecuteAsync(new CommandDefinition(
            "INSERT INTO sessions (id, user_id, created_at, refreshable) VALUES (@sessionId, @userId, @now, @refreshable)",
            new { sessionId, userId, now = clock.GetUtcNow().UtcDateTime, refreshable }, tx, cancellationToken: ct));
        return sessionId;
    }

    // A fresh access token and refresh token for an existing session.
    public async Task<TokenPair> IssueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid sessionId, long userId, string role, CancellationToken ct)
    {
        var refresh = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow().UtcDateTime;
        await conn.ExecuteAsync(new CommandDefinition(
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (@hash, @sessionId, @expires)",
            new { hash = HashRefreshToken(refresh), sessionId, expires = now + settings.RefreshTokenLifetime }, tx, cancellationToken: ct));
        var access = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + settings.AccessTokenLifetime,
            SigningCredentials = new SigningCredentials(settings.Key, SecurityAlgorithms.HmacSha256),
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, userId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(JwtRegisteredClaimNames.Sid, sessionId.ToString()),
                new Claim("role", role),
            ]),
        });
        return new TokenPair(access, refresh, "Bearer", (int)settings.AccessTokenLifetime.TotalSeconds);
    }
}
