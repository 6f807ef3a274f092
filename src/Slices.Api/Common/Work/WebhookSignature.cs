using System.Security.Cryptography;
using System.Text;

namespace Slices.Api.Common.Work;

// `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, for webhooks sent and callbacks received.
public static class WebhookSignature
{
    public const string Header = "X-Signature";
    private const string Prefix = "sha256=";

    public static string Sign(string secret, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
    }

    // True when header is the signature of body; compared in constant time.
    public static bool Verify(string secret, ReadOnlySpan<byte> body, string? header)
    {
        if (string.IsNullOrEmpty(secret) || header is null || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, body)[Prefix.Length..]);
        var given = Encoding.ASCII.GetBytes(header[Prefix.Length..].Trim().ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
