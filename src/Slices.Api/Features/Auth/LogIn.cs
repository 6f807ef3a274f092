using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Users;

namespace Slices.Api.Features.Auth;

public static class LogIn
{
    private const int MaxFailures = 10;
    private static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(15);

    public sealed record LogInRequest(string? Username, string? Email, string Password) : ICommand<Result<AuthResponse>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/auth/login",
                async Task<Results<Ok<AuthResponse>, ProblemHttpResult>> (HttpContext http, ISender mediator, CancellationToken ct) =>
                {
                    var request = await FormOrJson.ReadAsync<LogInRequest>(http.Request, ct)
                        ?? throw new BadHttpRequestException("The request body is empty.");
                    var result = await mediator.Send(request, ct);
                    if (result.Failure?.Status == StatusCodes.Status429TooManyRequests)
                    {
                        http.Response.Headers.RetryAfter = ((int)FailureWindow.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }

                    return result.ToHttp(TypedResults.Ok);
                })
            .WithName("LogIn").WithTags("Auth").WithSummary("Log in with a username or email and a password (JSON or form)")
            .AllowAnonymous()
            .Accepts<LogInRequest>(FormOrJson.ContentTypes[0], FormOrJson.ContentTypes[1..])
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(HttpPipeline.LoginPolicy);
    }

    public sealed class Validator : AbstractValidator<LogInRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Username).NotEmpty().When(x => string.IsNullOrEmpty(x.Email)).WithMessage("Give a username or an email.");
            RuleFor(x => x.Username).MaximumLength(254);
            RuleFor(x => x.Email).MaximumLength(254);
            RuleFor(x => x.Password).NotEmpty().MaximumLength(128);
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Passwords passwords, Tokens tokens, TimeProvider clock) : ICommandHandler<LogInRequest, Result<AuthResponse>>
    {
        private const string FindUser = """
            SELECT id, password_hash, is_active FROM users
            WHERE username = @account::citext OR email = @account::citext
            ORDER BY (username = @account::citext) DESC NULLS LAST
            LIMIT 1
            """;

        private const string RecentFailures = "SELECT failures FROM login_failures WHERE account = @account::citext AND window_start > @since";

        private const string RecordFailure = """
            INSERT INTO login_failures AS f (account, failures, window_start) VALUES (@account, 1, @now)
            ON CONFLICT (account) DO UPDATE SET
                failures = CASE WHEN f.window_start > @since THEN f.failures + 1 ELSE 1 END,
                window_start = CASE WHEN f.window_start > @since THEN f.window_start ELSE @now END
            """;

        private static readonly Failure InvalidCredentials = new(401, "invalid_credentials", "The username/email or password is wrong.");

        public async ValueTask<Result<AuthResponse>> Handle(LogInRequest r, CancellationToken ct)
        {
            var account = string.IsNullOrEmpty(r.Username) ? r.Email! : r.Username;
            var now = clock.GetUtcNow().UtcDateTime;
            var since = now - FailureWindow;
            await using var conn = await db.OpenConnectionAsync(ct);
            var failures = await conn.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(RecentFailures, new { account, since }, cancellationToken: ct));
            if (failures >= MaxFailures)
            {
                return new Failure(429, "too_many_attempts", "Too many failed log-ins for this account; try again later.");
            }

            var user = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(FindUser, new { account }, cancellationToken: ct));
            var valid = user is { IsActive: true } ? passwords.Verify(r.Password, user.PasswordHash) : VerifyNothing(r.Password);
            if (!valid)
            {
                await conn.ExecuteAsync(new CommandDefinition(RecordFailure, new { account, now, since }, cancellationToken: ct));
                return InvalidCredentials;
            }

            await conn.ExecuteAsync(new CommandDefinition("DELETE FROM login_failures WHERE account = @account::citext", new { account }, cancellationToken: ct));
            return await db.InTransactionAsync<Result<AuthResponse>>(async (c, tx) =>
            {
                var (profile, _) = (await UserProfiles.FindAsync(c, "u.id = @id", new { id = user!.Id }, ct, tx))!.Value;
                return AuthResponse.From(profile, await tokens.StartSessionAsync(c, tx, profile.Id, profile.Role, ct));
            }, ct);
        }

        private bool VerifyNothing(string password)
        {
            passwords.VerifyNothing(password);
            return false;
        }

        private sealed record Row(long Id, string PasswordHash, bool IsActive);
    }
}
