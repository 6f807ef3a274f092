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

// Deletes an organization (admin or a member); the events it organized stay, without it.
public static class DeleteOrganization
{
    public sealed record DeleteOrganizationCommand(long Id, Caller Caller, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/organizations/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteOrganizationCommand(id, user.Caller(), ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteOrganization").WithTags("Organizations").WithSummary("Delete an organization (admin or a member); its events stay")
            .RequireAuthorization()
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteOrganizationCommand, Result<bool>>
    {
        private const string Delete = $"DELETE FROM organizations WHERE id = @Id AND {ETags.Guard}";

        public async ValueTask<Result<bool>> Handle(DeleteOrganizationCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                if (await Organizations.AuthorizeWriteAsync(conn, tx, c.Id, c.Caller, ct) is { } refused)
                {
                    return refused;
                }

                var deleted = await conn.ExecuteAsync(new CommandDefinition(Delete, new { c.Id, c.IfMatch }, tx, cancellationToken: ct));
                return deleted == 0 ? Failure.PreconditionFailed() : true;
            }, ct);
        }
    }
}
