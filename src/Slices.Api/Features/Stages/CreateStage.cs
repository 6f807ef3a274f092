using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class CreateStage
{
    public sealed record CreateStageCommand(StageChanges Changes) : ICommand<Result<Stage>>, IStageWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/stages",
                async Task<Results<Created<Stage>, ProblemHttpResult>> (StageChanges body, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new CreateStageCommand(body), ct)).ToHttp(s => TypedResults.Created($"/api/stages/{s.Id}", s)))
            .WithName("CreateStage").WithTags("Stages").WithSummary("Add a stage with its opening hours and the services it offers")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateStageCommand>
    {
        public Validator() => Include(new StageChangesRules());
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<CreateStageCommand, Result<Stage>>
    {
        private const string Insert = """
            INSERT INTO stages (name, address, description, open_time, close_time)
            VALUES (@Name, @Address, @Description, @OpenTime, @CloseTime)
            RETURNING id
            """;

        public async ValueTask<Result<Stage>> Handle(CreateStageCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<Stage>>(async (conn, tx) =>
            {
                if (await Stages.LockServicesAsync(conn, tx, c.Changes, ct) is { } unknown)
                {
                    return unknown;
                }

                var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Insert, c.Changes.Columns(), tx, cancellationToken: ct));
                await Stages.LinkServicesAsync(conn, tx, id, c.Changes, ct);
                return (await Stages.FindAsync(conn, id, ct, tx))!.Value;
            }, ct);
        }
    }
}
