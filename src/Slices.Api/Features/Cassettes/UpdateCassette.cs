using System.Text.Json;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Cassettes;

// PUT replaces a cassette; PATCH merges the members sent over the current one and replaces it the same way.
public static class UpdateCassette
{
    private static readonly string[] ReadOnly = ["id"];

    // The body of PUT. An absent `quantity` is 0, as on create.
    public sealed record CassetteChanges(string? Title, string? Director, DateOnly? Released, int? Quantity)
    {
        public static CassetteChanges From(Cassette c) => new(c.Title, c.Director, c.Released, c.Quantity);
    }

    public sealed record ReplaceCassetteCommand(long Id, string? Title, string? Director, DateOnly? Released, int? Quantity, long? IfMatch)
        : ICommand<Result<Versioned<Cassette>>>, ICassetteFields
    {
        public ReplaceCassetteCommand(long id, CassetteChanges changes, long? ifMatch)
            : this(id, changes.Title, changes.Director, changes.Released, changes.Quantity, ifMatch)
        {
        }
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/cassettes/{id:long}",
                    async Task<Results<Ok<Cassette>, StatusCodeHttpResult, ProblemHttpResult>> (long id, CassetteChanges body, HttpContext http, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new ReplaceCassetteCommand(id, body, ETags.IfMatch(http)), ct)).ToHttp(http))
                .WithName("ReplaceCassette").WithTags("Cassettes").WithSummary("Replace a cassette (honours If-Match)")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .WithProblems();
            app.MapPatch("/api/cassettes/{id:long}",
                    (long id, JsonElement patch, HttpContext http, ISender mediator, CancellationToken ct) => mediator.MergeAndReplaceAsync(
                        http, patch, new GetCassette.GetCassetteQuery(id), CassetteChanges.From,
                        (changes, ifMatch) => new ReplaceCassetteCommand(id, changes, ifMatch), ReadOnly, ct))
                .WithName("UpdateCassette").WithTags("Cassettes").WithSummary("Change only the members sent, e.g. just quantity (honours If-Match)")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .Accepts<CassetteChanges>("application/json")
                .WithProblems();
        }
    }

    public sealed class Validator : AbstractValidator<ReplaceCassetteCommand>
    {
        public Validator(IValidator<ICassetteFields> fields) => Include(fields);
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<ReplaceCassetteCommand, Result<Versioned<Cassette>>>
    {
        private const string Update = $"""
            UPDATE cassettes SET title = @Title, director = @Director, released = @Released, quantity = @Quantity
            WHERE id = @Id AND {ETags.Guard}
            RETURNING id, title, director, released, quantity, xmin::text::bigint AS version
            """;

        public async ValueTask<Result<Versioned<Cassette>>> Handle(ReplaceCassetteCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var row = await conn.QuerySingleOrDefaultAsync<Cassettes.Row>(new CommandDefinition(Update, new
            {
                c.Id, c.Title, c.Director, c.Released, Quantity = c.Quantity ?? 0, c.IfMatch,
            }, cancellationToken: ct));
            if (row is not null)
            {
                return new Versioned<Cassette>(row.ToCassette(), row.Version);
            }

            return await GuardedWrites.WhyMissedAsync(conn, "cassettes", c.Id, "Cassette", ct);
        }
    }
}
