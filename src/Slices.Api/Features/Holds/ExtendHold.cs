using System.Security.Claims;
using System.Text.Json.Serialization;
using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Holds;

// Moves an active hold's expiry to ttl_seconds from now, never past an hour after it was made (nor earlier than it
// was: a waitlist offer's longer time is kept).
public static class ExtendHold
{
    public sealed record ExtendHoldRequest(int? TtlSeconds) : ICommand<Result<Hold>>
    {
        [JsonIgnore]
        public long Id { get; init; }

        [JsonIgnore]
        public Caller Caller { get; init; }
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/holds/{id:long}/extend",
                async Task<Results<Ok<Hold>, ProblemHttpResult>> (long id, ExtendHoldRequest body, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(body with { Id = id, Caller = user.Caller() }, ct)).ToHttp(TypedResults.Ok))
            .WithName("ExtendHold").WithTags("Holds")
            .WithSummary("Keep an active hold for ttl_seconds (default 600, 30–3600) from now, at most until an hour after it was made; "
                + "409 hold_expired / hold_not_active")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public sealed class Validator : AbstractValidator<ExtendHoldRequest>
    {
        public Validator() => RuleFor(x => x.TtlSeconds).InclusiveBetween(HoldSettings.MinTtlSeconds, HoldSettings.MaxTtlSeconds);
    }

    public sealed class Handler(NpgsqlDataSource db, Jobs jobs, TimeProvider clock) : ICommandHandler<ExtendHoldRequest, Result<Hold>>
    {
        // Extended and its new expiry queued in one statement.
        private readonly string extend = $"""
            WITH h AS (
                UPDATE holds u SET expires_at = GREATEST(u.expires_at, LEAST(@now + make_interval(secs => @ttl), u.created_at + interval '1 hour'))
                WHERE u.id = @id AND u.user_id = @user AND u.status = 'active' AND u.expires_at > @now
                RETURNING *, xmin
            ), expiry AS (
                {Holds.QueueExpiry(jobs)}
            )
            SELECT {Holds.Columns} FROM h
            """;

        public async ValueTask<Result<Hold>> Handle(ExtendHoldRequest c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var args = new { id = c.Id, user = c.Caller.Id, now, ttl = c.TtlSeconds ?? HoldSettings.DefaultTtlSeconds };
            return await db.InTransactionAsync<Result<Hold>>(async (conn, tx) =>
                (await Holds.QueryAsync(conn, extend, args, ct, tx)).SingleOrDefault()?.Value is { } extended
                    ? extended
                    : await Holds.NotActiveAsync(conn, tx, c.Id, c.Caller.Id, now, ct), ct);
        }
    }
}
