using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

// Removes a user from an organization (admin or a member; members may leave, or remove each other).
public static class RemoveOrganizationMember
{
    public sealed record RemoveOrganizationMemberCommand(long Id, long User, Caller Caller, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/organizations/{id:long}/members/{user:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, long user, HttpContext http, ClaimsPrincipal caller, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new RemoveOrganizationMemberCommand(id, user, caller.Caller(), ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("RemoveOrganizationMember").WithTags("Organizations").WithSummary("Remove a member (admin or a member)")
            .RequireAuthorization()
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<RemoveOrganizationMemberCommand, Result<bool>>
    {
        private const string Delete = "DELETE FROM organization_members WHERE organization_id = @Id AND user_id = @User";

        public async ValueTask<Result<bool>> Handle(RemoveOrganizationMemberCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                if (await Organizations.AuthorizeWriteAsync(conn, tx, c.Id, c.Caller, ct) is { } refused)
                {
                    return refused;
                }

                if (await conn.ExecuteAsync(new CommandDefinition(Delete, new { c.Id, c.User }, tx, cancellationToken: ct)) == 0)
                {
                    return Failure.NotFound("Member");
                }

                if (await conn.ExecuteAsync(new CommandDefinition(Organizations.Touch, new { c.Id, c.IfMatch }, tx, cancellationToken: ct)) == 0)
                {
                    return Failure.PreconditionFailed();
                }

                return true;
            }, ct);
        }
    }
}
