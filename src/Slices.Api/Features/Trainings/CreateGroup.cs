using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class CreateGroup
{
    public sealed record CreateGroupRequest(string Name, string? Description) : ICommand<TrainingGroup>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/groups",
                async Task<Created<TrainingGroup>> (CreateGroupRequest request, ISender mediator, CancellationToken ct) =>
                {
                    var group = await mediator.Send(request, ct);
                    return TypedResults.Created($"/api/groups/{group.Id}", group);
                })
            .WithName("CreateGroup").WithTags("Groups").WithSummary("Create a training group")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateGroupRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Name).NotEmpty().MaximumLength(255);
            RuleFor(x => x.Description).MaximumLength(2000);
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<CreateGroupRequest, TrainingGroup>
    {
        private const string Insert = """
            INSERT INTO groups (name, description) VALUES (@Name, @Description)
            RETURNING id, name, description
            """;

        public async ValueTask<TrainingGroup> Handle(CreateGroupRequest r, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await conn.QuerySingleAsync<TrainingGroup>(new CommandDefinition(
                Insert, new { r.Name, Description = r.Description ?? string.Empty }, cancellationToken: ct));
        }
    }
}
