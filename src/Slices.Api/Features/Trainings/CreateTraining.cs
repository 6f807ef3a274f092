using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("trainings_group_id_fkey", 400, "unknown_group", "The training's group does not exist.")]

namespace Slices.Api.Features.Trainings;

public static class CreateTraining
{
    public sealed record CreateTrainingRequest(DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, decimal? Price, long? Group, int? Capacity)
        : ICommand<Training>, ITrainingFields;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/trainings",
                async Task<Created<Training>> (CreateTrainingRequest request, ISender mediator, CancellationToken ct) =>
                {
                    var training = await mediator.Send(request, ct);
                    return TypedResults.Created($"/api/trainings/{training.Id}", training);
                })
            .WithName("CreateTraining").WithTags("Trainings").WithSummary("Schedule a training of a group; capacity null means no limit")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .Idempotent();
    }

    public sealed class Validator : TrainingFieldsValidator<CreateTrainingRequest>;

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<CreateTrainingRequest, Training>
    {
        private const string Insert = """
            INSERT INTO trainings (date, start_time, end_time, price, group_id, capacity)
            VALUES (@Date, @StartTime, @EndTime, @Price, @Group, @Capacity)
            RETURNING id
            """;

        public async ValueTask<Training> Handle(CreateTrainingRequest r, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Insert, new
            {
                Date = r.Date!.Value, StartTime = r.StartTime!.Value, EndTime = r.EndTime!.Value, Price = r.Price!.Value, Group = r.Group!.Value, r.Capacity,
            }, cancellationToken: ct));
            return (await Trainings.FindAsync(conn, "t.id = @id", new { id }, ct))!.Value.Training;
        }
    }
}
