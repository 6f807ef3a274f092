using System.Security.Claims;
using System.Text.Json.Serialization;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

// Adds a user to an organization (admin or a member); answers the organization with its new member list.
public static class AddOrganizationMember
{
    public sealed record AddOrganizationMemberRequest(long User) : ICommand<Result<Versioned<OrganizationView>>>
    {
        [JsonIgnore]
        public long Id { get; init; }

        [JsonIgnore]
        public Caller Caller { get; init; }

        [JsonIgnore]
        public long? IfMatch { get; init; }
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/organizations/{id:long}/members",
                async Task<Results<Created<OrganizationView>, ProblemHttpResult>> (long id, AddOrganizationMemberRequest body, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(body with { Id = id, Caller = user.Caller(), IfMatch = ETags.IfMatch(http) }, ct)).ToHttp(o =>
                    {
                        ETags.Set(http, o.Version);
                        return TypedResults.Created($"/api/organizations/{id}/members/{body.User}", o.Value);
                    }))
            .WithName("AddOrganizationMember").WithTags("Organizations").WithSummary("Add a member (admin or a member; 409 already_member); answers the organization")
            .RequireAuthorization()
            .WithProblems()
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<AddOrganizationMemberRequest>
    {
        public Validator() => RuleFor(x => x.User).GreaterThan(0);
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<AddOrganizationMemberRequest, Result<Versioned<OrganizationView>>>
    {
        // A second membership inserts nothing (the primary key decides, so two concurrent adds cannot both win);
        // an unknown user is the foreign key: 400 unknown_user.
        private const string Insert = """
            INSERT INTO organization_members (organization_id, user_id) VALUES (@Id, @User) ON CONFLICT DO NOTHING
            """;

        public async ValueTask<Result<Versioned<OrganizationView>>> Handle(AddOrganizationMemberRequest r, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<Versioned<OrganizationView>>>(async (conn, tx) =>
            {
                if (await Organizations.AuthorizeWriteAsync(conn, tx, r.Id, r.Caller, ct) is { } refused)
                {
                    return refused;
                }

                if (await conn.ExecuteAsync(new CommandDefinition(Insert, new { r.Id, r.User }, tx, cancellationToken: ct)) == 0)
                {
                    return Failure.Conflict("already_member", "The user is already a member of this organization.");
                }

                if (await conn.ExecuteAsync(new CommandDefinition(Organizations.Touch, new { r.Id, r.IfMatch }, tx, cancellationToken: ct)) == 0)
                {
                    return Failure.PreconditionFailed();
                }

                return (await Organizations.FindAsync(conn, r.Id, ct, tx))!;
            }, ct);
        }
    }
}
