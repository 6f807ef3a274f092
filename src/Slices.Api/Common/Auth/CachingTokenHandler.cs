using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Slices.Api.Common.Auth;

// Remembers tokens that validated, until they expire, so a client's repeated token is not parsed and its HMAC not
// recomputed on every request. Only successes are kept, keyed by the exact token string; each request gets its own
// copy of the identity (the session check edits its claims). The session itself is still checked every time.
public sealed class CachingTokenHandler(TimeProvider clock) : JsonWebTokenHandler
{
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, (ClaimsIdentity Identity, SecurityToken Token, DateTime ValidTo)> valid = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (valid.TryGetValue(token, out var hit))
        {
            if (hit.ValidTo > now)
            {
                return new TokenValidationResult { IsValid = true, ClaimsIdentity = hit.Identity.Clone(), SecurityToken = hit.Token };
            }

            valid.TryRemove(token, out _);
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { } parsed && result.ClaimsIdentity is { } identity)
        {
            if (valid.Count >= MaxEntries)
            {
                valid.Clear();
            }

            // Expire a little early rather than late: the clock skew the validator allows is not granted here.
            valid[token] = (identity.Clone(), parsed, parsed.ValidTo);
            return new TokenValidationResult { IsValid = true, ClaimsIdentity = identity, SecurityToken = parsed };
        }

        return result;
    }
}
