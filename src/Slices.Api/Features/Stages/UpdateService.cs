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

namespace Slices.Api.Features.Stages;

// PUT and PATCH (a merge over the current service, then the same replace) of a service.
public static class UpdateService
{
    public sealed record ReplaceServiceCommand(long Id, ServiceChanges Changes, long? IfMatch) : ICommand<Result<Versioned<StageService>>>, IServiceWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/services/{id:long}",
                    async Task<Results<Ok<StageService>, StatusCodeHttpResult, ProblemHttpResult>> (long id, ServiceChanges body, HttpContext http, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new ReplaceServiceCommand(id, body, ETags.IfMatch(http)), ct)).ToHttp(http))
                .WithName("ReplaceService").WithTags("Stages").WithSummary("Rename a service")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .WithProblems();
            app.MapPatch("/api/services/{id:long}",
                    async Task<Results<Ok<StageService>, StatusCodeHttpResult, ProblemHttpResult>> (long id, JsonElement patch, HttpContext http, ISender mediator, CancellationToken ct) =>
                        await mediator.MergeAndReplaceAsync(
                            http, patch, new GetService.GetServiceQuery(id), ServiceChanges.From,
                            (changes, ifMatch) => new ReplaceServiceCommand(id, changes, ifMatch), ["id"], ct))
                .WithName("UpdateService").WithTags("Stages").WithSummary("Change only the members sent")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .Accepts<ServiceChanges>("application/json")
                .WithProblems();
        }
    }

    public sealed class Validator : AbstractValidator<ReplaceServiceCommand>
    {
        public Validator() => Include(new ServiceChangesRules());
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<ReplaceServiceCommand, Result<Versioned<StageService>>>
    {
        private const string Update = $"""
            UPDATE services SET name = @Name WHERE id = @Id AND {ETags.Guard}
            RETURNING xmin::text::bigint
            """;

        public async ValueTask<Result<Versioned<StageService>>> Handle(ReplaceServiceCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var version = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(Update, new { c.Id, c.Changes.Name, c.IfMatch }, cancellationToken: ct));
            return version is { } v
                ? new Versioned<StageService>(new StageService(c.Id, c.Changes.Name), v)
                : await GuardedWrites.WhyMissedAsync(conn, "services", c.Id, "Service", ct);
        }
    }
}
