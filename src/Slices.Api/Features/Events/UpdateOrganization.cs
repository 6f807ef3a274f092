using System.Security.Claims;
using System.Text.Json;
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

// PUT and PATCH of an organization, by an admin or a member; PUT replaces the member list too.
public static class UpdateOrganization
{
    private static readonly string[] ReadOnly = ["id", "full_address"];

    public sealed record ReplaceOrganizationRequest(string Title, string? Description, string? Address, string? Postcode, long[]? Users)
        : ICommand<Result<Versioned<OrganizationView>>>, IOrganizationFields
    {
        [JsonIgnore]
        public long Id { get; init; }

        [JsonIgnore]
        public Caller Caller { get; init; }

        [JsonIgnore]
        public long? IfMatch { get; init; }

        public static ReplaceOrganizationRequest From(OrganizationView o) => new(o.Title, o.Description, o.Address, o.Postcode, o.Users);
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/organizations/{id:long}",
                    async Task<Results<Ok<OrganizationView>, StatusCodeHttpResult, ProblemHttpResult>> (long id, ReplaceOrganizationRequest body, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(body with { Id = id, Caller = user.Caller(), IfMatch = ETags.IfMatch(http) }, ct)).ToHttp(http))
                .WithName("ReplaceOrganization").WithTags("Organizations").WithSummary("Replace an organization and its member list (admin or a member)")
                .RequireAuthorization()
                .WithProblems();
            app.MapPatch("/api/organizations/{id:long}",
                    (long id, JsonElement patch, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        mediator.MergeAndReplaceAsync(http, patch, new GetOrganization.GetOrganizationQuery(id), ReplaceOrganizationRequest.From,
                            (changes, ifMatch) => changes with { Id = id, Caller = user.Caller(), IfMatch = ifMatch }, ReadOnly, ct))
                .WithName("UpdateOrganization").WithTags("Organizations").WithSummary("Change only the members sent (admin or a member)")
                .RequireAuthorization()
                .Accepts<ReplaceOrganizationRequest>("application/json")
                .WithProblems();
        }
    }

    public sealed class Validator : AbstractValidator<ReplaceOrganizationRequest>
    {
        public Validator()
        {
            Include(new OrganizationFieldsValidator());
            RuleFor(x => x.Users).NotNull().WithMessage("users is required: PUT replaces the member list (PATCH leaves it as it is).");
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<ReplaceOrganizationRequest, Result<Versioned<OrganizationView>>>
    {
        private const string Update = $"""
            UPDATE organizations SET title = @Title, description = @Description, address = @Address, postcode = @Postcode
            WHERE id = @Id AND {ETags.Guard}
            """;

        public async ValueTask<Result<Versioned<OrganizationView>>> Handle(ReplaceOrganizationRequest r, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<Versioned<OrganizationView>>>(async (conn, tx) =>
            {
                if (await Organizations.AuthorizeWriteAsync(conn, tx, r.Id, r.Caller, ct) is { } refused)
                {
                    return refused;
                }

                var updated = await conn.ExecuteAsync(new CommandDefinition(
                    Update, new { r.Id, r.Title, r.Description, r.Address, r.Postcode, r.IfMatch }, tx, cancellationToken: ct));
                if (updated == 0)
                {
                    return Failure.PreconditionFailed();
                }

                await Organizations.SetMembersAsync(conn, tx, r.Id, r.Users!, ct);
                return (await Organizations.FindAsync(conn, r.Id, ct, tx))!;
            }, ct);
        }
    }
}
