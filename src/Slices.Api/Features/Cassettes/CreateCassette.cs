using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Cassettes;

public static class CreateCassette
{
    // Quantity defaults to 0: a cassette may be listed before it is in stock.
    public sealed record CreateCassetteRequest(string? Title, string? Director, DateOnly? Released, int? Quantity) : ICommand<Cassette>, ICassetteFields;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/cassettes",
                async Task<Created<Cassette>> (CreateCassetteRequest request, ISender mediator, CancellationToken ct) =>
                {
                    var cassette = await mediator.Send(request, ct);
                    return TypedResults.Created($"/api/cassettes/{cassette.Id}", cassette);
                })
            .WithName("CreateCassette").WithTags("Cassettes").WithSummary("Add a cassette to the catalogue (quantity defaults to 0)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateCassetteRequest>
    {
        public Validator(IValidator<ICassetteFields> fields) => Include(fields);
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<CreateCassetteRequest, Cassette>
    {
        private const string Insert = """
            INSERT INTO cassettes (title, director, released, quantity)
            VALUES (@Title, @Director, @Released, @Quantity)
            RETURNING id, title, director, released, quantity
            """;

        public async ValueTask<Cassette> Handle(CreateCassetteRequest r, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await conn.QuerySingleAsync<Cassette>(new CommandDefinition(Insert, new
            {
                r.Title,
                r.Director,
                r.Released,
                Quantity = r.Quantity ?? 0,
            }, cancellationToken: ct));
        }
    }
}
