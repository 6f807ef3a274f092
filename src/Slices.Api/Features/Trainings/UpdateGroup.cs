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

namespace Slices.Api.Features.Trainings;

// PATCH of a group: the members sent, merged over the current name and description.
public static class UpdateGroup
{
    private static readonly string[] ReadOnly = ["id"];

    public sealed record GroupChanges(string Name, string Description)
    {
        public static GroupChanges From(TrainingGroup g) => new(g.Name, g.Description);
    }

    public sealed record ReplaceGroupCommand(long Id, GroupChanges Changes, long? IfMatch) : ICommand<Result<Versioned<TrainingGroup>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPatch("/api/groups/{id:long}",
                (long id, JsonElement patch, HttpContext http, ISender mediator, CancellationToken ct) => mediator.MergeAndReplaceAsync(
                    http, patch, new GetGroup.GetGroupQuery(id), GroupChanges.From, (changes, ifMatch) => new ReplaceGroupCommand(id, changes, ifMatch), ReadOnly, ct))
            .WithName("UpdateGroup").WithTags("Groups").WithSummary("Change a group's name or description (only the members sent)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .Accepts<GroupChanges>("application/json")
            .WithProblems();
    }

    public sealed class Validator : AbstractValidator<ReplaceGroupCommand>
    {
        public Validator()
        {
            RuleFor(x => x.Changes.Name).NotEmpty().MaximumLength(255).OverridePropertyName("name");
            RuleFor(x => x.Changes.Description).NotNull().MaximumLength(2000).OverridePropertyName("description");
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<ReplaceGroupCommand, Result<Versioned<TrainingGroup>>>
    {
        private const string Update = $"""
            UPDATE groups SET name = @Name, description = @Description
            WHERE id = @Id AND {ETags.Guard}
            RETURNING id, name, description, xmin::text::bigint AS version
            """;

        public async ValueTask<Result<Versioned<TrainingGroup>>> Handle(ReplaceGroupCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                Update, new { c.Id, c.Changes.Name, c.Changes.Description, c.IfMatch }, cancellationToken: ct));
            if (row is not null)
            {
                return new Versioned<TrainingGroup>(new TrainingGroup(row.Id, row.Name, row.Description), row.Version);
            }

            return await GuardedWrites.WhyMissedAsync(conn, "groups", c.Id, "Group", ct);
        }

        private sealed record Row(long Id, string Name, string Description, long Version);
    }
}
