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

public static class Refresh
{
    public sealed record RefreshRequest(string RefreshToken) : ICommand<Result<AuthResponse>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/auth/refresh",
                async Task<Results<Ok<AuthResponse>, ProblemHttpResult>> (RefreshRequest request, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(request, ct)).ToHttp(TypedResults.Ok))
            .WithName("RefreshTokens").WithTags("Auth")
            .WithSummary("Trade a refresh token for a new pair; a spent token presented again ends the whole session")
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<RefreshRequest>
    {
        public Validator() => RuleFor(x => x.RefreshToken).NotEmpty().MaximumLength(200);
    }

    public sealed class Handler(NpgsqlDataSource db, Tokens tokens, SessionCache sessions, TimeProvider clock) : ICommandHandler<RefreshRequest, Result<AuthResponse>>
    {
        // Spending is a compare-and-swap: of two requests with one token, exactly one gets a row back.
        private const string Spend = """
            UPDATE refresh_tokens rt SET spent_at = @now
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE rt.token_hash = @hash AND rt.spent_at IS NULL AND rt.expires_at > @now
              AND s.id = rt.session_id AND s.revoked_at IS NULL AND u.is_active
            RETURNING s.id AS session_id, u.id AS user_id, u.role
            """;

        private const string RevokeOnReuse = """
            UPDATE sessions SET revoked_at = @now
            WHERE revoked_at IS NULL AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = @hash AND spent_at IS NOT NULL)
            RETURNING id
            """;

        public async ValueTask<Result<AuthResponse>> Handle(RefreshRequest r, CancellationToken ct)
        {
            var hash = Tokens.HashRefreshToken(r.RefreshToken);
            var now = clock.GetUtcNow().UtcDateTime;
            var result = await db.InTransactionAsync<Result<AuthResponse>>(async (conn, tx) =>
            {
                var spent = await conn.QuerySingleOrDefaultAsync<Spent>(new CommandDefinition(Spend, new { hash, now }, tx, cancellationToken: ct));
                if (spent is null)
                {
                    return InvalidToken;
                }

                var (profile, _) = (await UserProfiles.FindAsync(conn, "u.id = @id", new { id = spent.UserId }, ct, tx))!.Value;
                return AuthResponse.From(profile, await tokens.IssueAsync(conn, tx, spent.SessionId, spent.UserId, spent.Role, ct));
            }, ct);
            if (result.IsSuccess)
            {
                return result;
            }

            // A token that was already spent is being replayed: someone holds a stolen copy, so the whole session
            // ends. This must stick although the refresh itself failed, so it runs on its own, not in the rollback.
            await using var c = await db.OpenConnectionAsync(ct);
            var revoked = await c.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(RevokeOnReuse, new { hash, now }, cancellationToken: ct));
            if (revoked is { } session)
            {
                sessions.EvictSession(session);
            }

            return revoked is not null
                ? new Failure(401, "refresh_token_reused", "This refresh token was already used; the session has been ended. Log in again.")
                : result;
        }

        private static readonly Failure InvalidToken = new(401, "invalid_refresh_token", "The refresh token is unknown, expired or its session has ended.");

        private sealed record Spent(Guid SessionId, long UserId, string Role);
    }
}
