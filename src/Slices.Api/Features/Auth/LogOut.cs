using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;

namespace Slices.Api.Features.Auth;

public static class LogOut
{
    public sealed record LogOutRequest(Guid SessionId) : ICommand;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/auth/logout",
                async Task<NoContent> (ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                {
                    await mediator.Send(new LogOutRequest(user.SessionId()), ct);
                    return TypedResults.NoContent();
                })
            .WithName("LogOut").WithTags("Auth").WithSummary("End this session: its access and refresh tokens stop working at once")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Handler(NpgsqlDataSource db, SessionCache sessions, TimeProvider clock) : ICommandHandler<LogOutRequest>
    {
        public async ValueTask<Unit> Handle(LogOutRequest r, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE sessions SET revoked_at = @now WHERE id = @SessionId AND revoked_at IS NULL",
                new { r.SessionId, now = clock.GetUtcNow().UtcDateTime }, cancellationToken: ct));
            sessions.EvictSession(r.SessionId);
            return Unit.Value;
        }
    }
}
