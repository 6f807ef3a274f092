using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Auth;

public sealed class TokenValidationTests(SlicesFixture fx)
{
    private static string Forge(TestUser user, string sid, Action<SecurityTokenDescriptor>? change = null, string key = SlicesFixture.SigningKey)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "slices",
            Audience = "slices-api",
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(15),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
            Subject = new ClaimsIdentity([new Claim("sub", user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim("sid", sid), new Claim("role", "admin")]),
        };
        change?.Invoke(descriptor);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static string SessionOf(TestUser user) => new JsonWebToken(user.Token).GetClaim("sid").Value;

    [Fact]
    public async Task A_token_forged_the_same_way_as_ours_is_accepted_so_the_refusals_below_mean_something()
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.GetAsync("/api/users/me", Forge(user, SessionOf(user)))).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_role_in_a_token_is_not_trusted_the_database_decides()
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.GetAsync("/api/users", Forge(user, SessionOf(user)))).IsProblem(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Expired_token_is_401_token_expired()
    {
        var user = await fx.NewUserAsync();
        var token = Forge(user, SessionOf(user), d =>
        {
            d.IssuedAt = DateTime.UtcNow.AddHours(-2);
            d.NotBefore = DateTime.UtcNow.AddHours(-2);
            d.Expires = DateTime.UtcNow.AddHours(-1);
        });
        (await fx.Api.GetAsync("/api/users/me", token)).IsProblem(HttpStatusCode.Unauthorized, "token_expired");
    }

    [Fact]
    public async Task Not_yet_valid_token_is_401()
    {
        var user = await fx.NewUserAsync();
        var token = Forge(user, SessionOf(user), d =>
        {
            d.NotBefore = DateTime.UtcNow.AddHours(1);
            d.Expires = DateTime.UtcNow.AddHours(2);
        });
        (await fx.Api.GetAsync("/api/users/me", token)).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Theory]
    [InlineData("wrong-audience")]
    [InlineData("wrong-issuer")]
    [InlineData("wrong-key")]
    public async Task Tokens_with_the_wrong_audience_issuer_or_key_are_401(string fault)
    {
        var user = await fx.NewUserAsync();
        var token = fault switch
        {
            "wrong-audience" => Forge(user, SessionOf(user), d => d.Audience = "someone-else"),
            "wrong-issuer" => Forge(user, SessionOf(user), d => d.Issuer = "someone-else"),
            _ => Forge(user, SessionOf(user), key: "another-key-that-is-long-enough-0123456789"),
        };
        (await fx.Api.GetAsync("/api/users/me", token)).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task An_unsigned_alg_none_token_is_401()
    {
        var user = await fx.NewUserAsync();
        static string B64(string s) => Base64UrlEncoder.Encode(s);
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var token = $"{B64("""{"alg":"none","typ":"JWT"}""")}.{B64($$"""{"sub":"{{user.Id}}","sid":"{{SessionOf(user)}}","role":"admin","iss":"slices","aud":"slices-api","exp":{{exp}}}""")}.";
        (await fx.Api.GetAsync("/api/users/me", token)).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task A_tampered_payload_is_401()
    {
        var user = await fx.NewUserAsync();
        var parts = user.Token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace($"\"sub\":\"{user.Id}\"", "\"sub\":\"1\"", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
        Assert.NotEqual(user.Token, tampered);
        (await fx.Api.GetAsync("/api/users/me", tampered)).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task The_django_style_Token_prefix_is_accepted()
    {
        var user = await fx.NewUserAsync();
        var reply = await fx.Api.GetAsync("/api/users/me", headers: new Dictionary<string, string> { ["Authorization"] = $"Token {user.Token}" });
        reply.Is(HttpStatusCode.OK);
    }
}
