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

// PUT and PATCH (a merge over the current stage, then the same replace) of a stage and its services.
public static class UpdateStage
{
    public sealed record ReplaceStageCommand(long Id, StageChanges Changes, long? IfMatch) : ICommand<Result<Versioned<Stage>>>, IStageWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/stages/{id:long}",
                    async Task<Results<Ok<Stage>, StatusCodeHttpResult, ProblemHttpResult>> (long id, StageChanges body, HttpContext http, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new ReplaceStageCommand(id, body, ETags.IfMatch(http)), ct)).ToHttp(http))
                .WithName("ReplaceStage").WithTags("Stages").WithSummary("Replace a stage, its opening hours and its services")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .WithProblems();
            app.MapPatch("/api/stages/{id:long}",
                    async Task<Results<Ok<Stage>, StatusCodeHttpResult, ProblemHttpResult>> (long id, JsonElement patch, HttpContext http, ISender mediator, CancellationToken ct) =>
                        await mediator.MergeAndReplaceAsync(
                            http, patch, new GetStage.GetStageQuery(id), StageChanges.From,
                            (changes, ifMatch) => new ReplaceStageCommand(id, changes, ifMatch), ["id"], ct))
                .WithName("UpdateStage").WithTags("Stages").WithSummary("Change only the members sent")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .Accepts<StageChanges>("application/json")
                .WithProblems();
        }
    }

    public sealed class Validator : AbstractValidator<ReplaceStageCommand>
    {
        public Validator() => Include(new StageChangesRules());
    }

    public sealed class Handler(NpgsqlDataSource db, StageCache cache) : ICommandHandler<ReplaceStageCommand, Result<Versioned<Stage>>>
    {
        private const string Update = $"""
            UPDATE stages SET name = @Name, address = @Address, description = @Description, open_time = @OpenTime, close_time = @CloseTime
            WHERE id = @Id AND {ETags.Guard}
            """;

        public async ValueTask<Result<Versioned<Stage>>> Handle(ReplaceStageCommand c, CancellationToken ct)
        {
            var replaced = await db.InTransactionAsync<Result<Versioned<Stage>>>(async (conn, tx) =>
            {
                var args = new DynamicParameters(c.Changes.Columns(c.Id));
                args.Add("IfMatch", c.IfMatch);
                if (await conn.ExecuteAsync(new CommandDefinition(Update, args, tx, cancellationToken: ct)) == 0)
                {
                    return await GuardedWrites.WhyMissedAsync(conn, "stages", c.Id, "Stage", ct, tx);
                }

                // After the update, so a missing stage stays a 404 whatever services were sent; returning the failure rolls it back.
                if (await Stages.LockServicesAsync(conn, tx, c.Changes, ct) is { } unknown)
                {
                    return unknown;
                }

                await Stages.LinkServicesAsync(conn, tx, c.Id, c.Changes, ct);
                return (await Stages.FindAsync(conn, c.Id, ct, tx))!;
            }, ct);

            // Committed: this instance's next read is fresh at once (others hear of it through stage_changed).
            cache.Evict(c.Id);
            return replaced;
        }
    }
}
