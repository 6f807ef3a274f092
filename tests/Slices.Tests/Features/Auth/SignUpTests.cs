using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Auth;

public sealed class SignUpTests(SlicesFixture fx)
{
    private static string Unique(string prefix = "u") => $"{prefix}{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task Sign_up_returns_the_user_and_a_token_pair()
    {
        var username = Unique();
        var reply = (await fx.Api.PostAsync("/api/auth/signup", new
        {
            username,
            email = $"{username}@example.com",
            password = "long-enough-1",
            phone_number = "+4915112345678",
            first_name = "Ada",
            last_name = "Lovelace",
            third_name = "Augusta",
            birth_date = "1990-12-10",
        })).Is(HttpStatusCode.Created);

        var user = reply.Body!["user"]!;
        Assert.Equal(username, user["username"]!.GetValue<string>());
        Assert.Equal("+4915112345678", user["phone_number"]!.GetValue<string>());
        Assert.Equal("1990-12-10", user["birth_date"]!.GetValue<string>());
        Assert.Equal("user", user["role"]!.GetValue<string>());
        Assert.Empty(user["groups"]!.AsArray());
        Assert.Null(user["password_hash"]);
        Assert.Equal("Bearer", reply.Body["token_type"]!.GetValue<string>());
        Assert.Equal(900, reply.Body["expires_in"]!.GetValue<int>());
        Assert.Equal($"/api/users/{username}", reply.Header("Location"));
        (await fx.Api.GetAsync("/api/users/me", reply.Body["access_token"]!.GetValue<string>())).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sign_up_with_only_an_email_works()
    {
        var email = $"{Unique()}@example.com";
        var reply = (await fx.Api.PostAsync("/api/auth/signup", new { email, password = "long-enough-1" })).Is(HttpStatusCode.Created);
        Assert.Null(reply.Body!["user"]!["username"]);
        Assert.Equal(email, reply.Body["user"]!["email"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"password":"long-enough-1"}""", "username")]
    [InlineData("""{"username":"has space","password":"long-enough-1"}""", "username")]
    [InlineData("""{"username":"ok_name","password":"short"}""", "password")]
    [InlineData("""{"username":"ok_name"}""", "password")]
    [InlineData("""{"username":"ok_name","email":"not-an-email","password":"long-enough-1"}""", "email")]
    [InlineData("""{"username":"ok_name","password":"long-enough-1","phone_number":"12345"}""", "phone_number")]
    [InlineData("""{"username":"ok_name","password":"long-enough-1","birth_date":"2999-01-01"}""", "birth_date")]
    public async Task Invalid_sign_up_is_400_naming_the_field_and_creates_nothing(string body, string field)
    {
        var reply = (await fx.Api.PostAsync("/api/auth/signup", body)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
        (await fx.Api.PostAsync("/api/auth/login", new { username = "ok_name", password = "long-enough-1" })).Is(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_username_longer_than_150_characters_is_refused()
    {
        var reply = await fx.Api.PostAsync("/api/auth/signup", new { username = new string('a', 151), password = "long-enough-1" });
        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Duplicate_username_is_409_case_insensitively()
    {
        var username = Unique("Dup");
        (await fx.Api.PostAsync("/api/auth/signup", new { username, password = "long-enough-1" })).Is(HttpStatusCode.Created);
        (await fx.Api.PostAsync("/api/auth/signup", new { username = username.ToUpperInvariant(), password = "long-enough-1" }))
            .IsProblem(HttpStatusCode.Conflict, "duplicate_username");
    }

    [Fact]
    public async Task Duplicate_email_is_409_case_insensitively()
    {
        var email = $"{Unique()}@example.com";
        (await fx.Api.PostAsync("/api/auth/signup", new { email, password = "long-enough-1" })).Is(HttpStatusCode.Created);
        (await fx.Api.PostAsync("/api/auth/signup", new { username = Unique(), email = email.ToUpperInvariant(), password = "long-enough-1" }))
            .IsProblem(HttpStatusCode.Conflict, "duplicate_email");
    }

    [Fact]
    public async Task A_client_cannot_make_itself_admin_at_sign_up()
    {
        var reply = (await fx.Api.PostAsync("/api/auth/signup", new { username = Unique(), password = "long-enough-1", role = "admin", is_active = false }))
            .Is(HttpStatusCode.Created);
        Assert.Equal("user", reply.Body!["user"]!["role"]!.GetValue<string>());
        Assert.True(reply.Body["user"]!["is_active"]!.GetValue<bool>());
    }
}
