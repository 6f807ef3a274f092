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

// Any signed-in user may create an organization; a creator who is not an admin becomes a member, or could not manage it.
public static class CreateOrganization
{
    public sealed record CreateOrganizationRequest(string Title, string? Description, string? Address, string? Postcode, long[]? Users)
        : ICommand<Versioned<OrganizationView>>, IOrganizationFields
    {
        [JsonIgnore]
        public Caller Caller { get; init; }
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/organizations",
                async Task<Created<OrganizationView>> (CreateOrganizationRequest request, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                {
                    var (organization, version) = await mediator.Send(request with { Caller = user.Caller() }, ct);
                    ETags.Set(http, version);
                    return TypedResults.Created($"/api/organizations/{organization.Id}", organization);
                })
            .WithName("CreateOrganization").WithTags("Organizations").WithSummary("Create an organization; you become a member unless you are an admin")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateOrganizationRequest>
    {
        public Validator() => Include(new OrganizationFieldsValidator());
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<CreateOrganizationRequest, Versioned<OrganizationView>>
    {
        private const string Insert = """
            INSERT INTO organizations (title, description, address, postcode)
            VALUES (@Title, @Description, @Address, @Postcode)
            RETURNING id
            """;

        public async ValueTask<Versioned<OrganizationView>> Handle(CreateOrganizationRequest r, CancellationToken ct)
        {
            var members = (r.Users ?? []).Concat(r.Caller.IsAdmin ? [] : [r.Caller.Id]);
            return await db.InTransactionAsync(async (conn, tx) =>
            {
                var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Insert, new { r.Title, r.Description, r.Address, r.Postcode }, tx, cancellationToken: ct));
                await Organizations.SetMembersAsync(conn, tx, id, members, ct);
                return (await Organizations.FindAsync(conn, id, ct, tx))!;
            }, ct);
        }
    }
}
