using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Slices.Api.Common.Auth;

namespace Slices.Api.Features.Restaurant;

// The token of a cancel link: `<reservation id>.<expiry, unix seconds>.<MAC>`, where the MAC is
// HMAC-SHA256 over a purpose label and the first two parts, base64url. It names one reservation, can only cancel
// (the purpose is inside the MAC), and expires when the reservation starts. Nothing is stored: a token is used up
// when its reservation is no longer cancellable.
public sealed class CancelTokens(IOptions<RestaurantOptions> options, JwtSettings jwt)
{
    private static readonly byte[] Purpose = "slices.restaurant.reservation.cancel\n"u8.ToArray();

    private readonly byte[] key = options.Value.CancelTokenKey is { Length: > 0 } configured
        ? Encoding.UTF8.GetBytes(configured)
        // A key of its own, derived from the JWT key every instance already shares: a cancel link is never a JWT key.
        : HKDF.DeriveKey(HashAlgorithmName.SHA256, jwt.Key.Key, 32, salt: [], info: Purpose);

    public sealed record Claims(long ReservationId, long ExpiresAtUnixSeconds)
    {
        public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(ExpiresAtUnixSeconds);

        // Whether the token was issued for a reservation starting at startsAt.
        public bool IsFor(DateTime startsAt) => ExpiresAtUnixSeconds == Expiry(startsAt);
    }

    public string Issue(long reservationId, DateTime startsAt)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $"{reservationId}.{Expiry(startsAt)}");
        return body + "." + Base64Url.EncodeToString(Mac(body));
    }

    // The token's claims when it is well-formed and its MAC is ours (compared in constant time); otherwise null.
    public Claims? Read(string? token)
    {
        var parts = token?.Trim().Split('.');
        if (parts is not { Length: 3 }
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || parts[2].Length != 43)
        {
            return null;
        }

        var given = new byte[32];
        try
        {
            if (!Base64Url.TryDecodeFromChars(parts[2], given, out var written) || written != given.Length)
            {
                return null;
            }
        }
        catch (FormatException)
        {
            // TryDecode throws rather than answering false for a character outside base64url, or a last character
            // whose bits past the 32 bytes are set: anyone can type those into a link.
            return null;
        }

        return CryptographicOperations.FixedTimeEquals(Mac($"{parts[0]}.{parts[1]}"), given) ? new Claims(id, expires) : null;
    }

    private static long Expiry(DateTime startsAt) => new DateTimeOffset(DateTime.SpecifyKind(startsAt, DateTimeKind.Utc)).ToUnixTimeSeconds();

    private byte[] Mac(string body) => HMACSHA256.HashData(key, (byte[])[.. Purpose, .. Encoding.ASCII.GetBytes(body)]);
}
