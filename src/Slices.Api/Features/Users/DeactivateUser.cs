using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Users;

public static class DeactivateUser
{
    public sealed record DeactivateUserCommand(string Key, Caller Caller, long? IfMatch) : ICommand<Result<bool>>;

    // Also UpdateUser's answer to `is_active: false` on the caller's own profile.
    public static Failure DeactivatingSelf { get; } = Failure.Conflict("cannot_deactivate_self", "An admin cannot deactivate their own account.");

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/users/{username}",
                async Task<Results<NoContent, ProblemHttpResult>> (string username, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeactivateUserCommand(username, user.Caller(), ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeactivateUser").WithTags("Users").WithSummary("Deactivate a user (is_active = false) and end their sessions; history is kept")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db, SessionCache sessions, TimeProvider clock) : ICommandHandler<DeactivateUserCommand, Result<bool>>
    {
        private const string Deactivate = $"""
            UPDATE users u SET is_active = false WHERE {UserProfiles.ByKey} AND {ETags.Guard} RETURNING id
            """;

        public async ValueTask<Result<bool>> Handle(DeactivateUserCommand c, CancellationToken ct)
        {
            long? deactivated = null;
            var result = await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                var row = await conn.QuerySingleOrDefaultAsync<(long Id, long Version)?>(new CommandDefinition(
                    $"SELECT u.id, u.xmin::text::bigint FROM users u WHERE {UserProfiles.ByKey}", new { key = c.Key }, tx, cancellationToken: ct));
                if (row is not { Id: var target, Version: var version })
                {
                    return Failure.NotFound("User");
                }

                if (ETags.IsStale(c.IfMatch, version))
                {
                    return Failure.PreconditionFailed();
                }

                if (target == c.Caller.Id)
                {
                    return DeactivatingSelf;
                }

                if (await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(Deactivate, new { key = c.Key, c.IfMatch }, tx, cancellationToken: ct)) is null)
                {
                    return Failure.PreconditionFailed();
                }

                await conn.ExecuteAsync(new CommandDefinition(
                    "UPDATE sessions SET revoked_at = @now WHERE user_id = @id AND revoked_at IS NULL",
                    new { id = target, now = clock.GetUtcNow().UtcDateTime }, tx, cancellationToken: ct));
                deactivated = target;
                return true;
            }, ct);

            // After the commit, so that no request can cache the session again from the old row.
            if (result.IsSuccess && deactivated is { } id)
            {
                sessions.EvictUser(id);
            }

            return result;
        }
    }
}
