using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class CreateService
{
    public sealed record CreateServiceCommand(ServiceChanges Changes) : ICommand<StageService>, IServiceWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/services",
                async Task<Created<StageService>> (ServiceChanges body, ISender mediator, CancellationToken ct) =>
                {
                    var service = await mediator.Send(new CreateServiceCommand(body), ct);
                    return TypedResults.Created($"/api/services/{service.Id}", service);
                })
            .WithName("CreateService").WithTags("Stages").WithSummary("Add a service; names are unique case-insensitively")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateServiceCommand>
    {
        public Validator() => Include(new ServiceChangesRules());
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<CreateServiceCommand, StageService>
    {
        // A duplicate name violates services_name_key, which StageService.cs declares as 409 duplicate_name.
        private const string Insert = "INSERT INTO services (name) VALUES (@Name) RETURNING id, name::text AS name";

        public async ValueTask<StageService> Handle(CreateServiceCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await conn.QuerySingleAsync<StageService>(new CommandDefinition(Insert, new { c.Changes.Name }, cancellationToken: ct));
        }
    }
}
