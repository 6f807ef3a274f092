using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Events;

// `POST /api/events`: the event is validated at once, then saved by a durable job after
// `Events:CreationDelay` (default 60 s) — the seed system's odd but firm rule — without holding the request.
// The job row is committed before `202` is sent, so a restart in between loses nothing.
public static class CreateEvent
{
    public const string JobKind = "events.create";

    public sealed record CreateEventRequest(string Title, string? Description, DateOnly? Date, long[]? Organizations) : ICommand<Result<EventJobStatus>>
    {
        [JsonIgnore]
        public long CreatedBy { get; init; }

        // The image of a multipart request, checked by its bytes and stored before the job is queued.
        [JsonIgnore]
        public IFormFile? Image { get; init; }
    }

    // What the job carries: everything needed to insert the event, decided when the request was accepted.
    public sealed record CreateEventPayload(string Title, string? Description, DateOnly? Date, string? Image, long CreatedBy, long[] Organizations);

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/events",
                async Task<Results<Accepted<EventJobStatus>, ProblemHttpResult>> (HttpRequest request, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                {
                    var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
                    var (body, image) = await EventBody.ReadAsync(request, options, ct);
                    if (!body.IsSuccess)
                    {
                        return body.Failure!.ToProblem();
                    }

                    if (body.Value.ValueKind != JsonValueKind.Object || body.Value.Deserialize<CreateEventRequest>(options) is not { } create)
                    {
                        return Failure.BadRequest("malformed_json", "The body must be a JSON object.").ToProblem();
                    }

                    var result = await mediator.Send(create with { CreatedBy = user.UserId(), Image = image }, ct);
                    return result.ToHttp(job => TypedResults.Accepted($"/api/events/jobs/{job.JobId}", job));
                })
            .WithName("CreateEvent").WithTags("Events")
            .WithSummary("Create an event (JSON, or multipart with an image); saved after Events:CreationDelay by a durable job: 202 with the job")
            .RequireAuthorization()
            .Accepts<CreateEventRequest>("application/json", "multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateEventRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Title).NotEmpty().MaximumLength(Events.MaxTitle);
            RuleFor(x => x.Description).MaximumLength(Events.MaxDescription);
            RuleFor(x => x.Organizations).NotNull().Must(o => o is null || o.Length <= Events.MaxOrganizations)
                .WithMessage($"organizations must list at most {Events.MaxOrganizations} ids.");
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Jobs jobs, EventsSettings settings, TimeProvider clock)
        : ICommandHandler<CreateEventRequest, Result<EventJobStatus>>
    {
        private const string Unknown = "SELECT array(SELECT unnest(@ids) EXCEPT SELECT id FROM organizations ORDER BY 1)";

        public async ValueTask<Result<EventJobStatus>> Handle(CreateEventRequest r, CancellationToken ct)
        {
            var organizations = r.Organizations!.Distinct().ToArray();
            await using (var conn = await db.OpenConnectionAsync(ct))
            {
                var unknown = await conn.ExecuteScalarAsync<long[]>(new CommandDefinition(Unknown, new { ids = organizations }, cancellationToken: ct));
                if (unknown is { Length: > 0 })
                {
                    return new Failure(400, "unknown_organization", $"No organization has the id(s) {string.Join(", ", unknown)}.",
                        new Dictionary<string, string[]> { ["organizations"] = [$"Unknown organization id(s): {string.Join(", ", unknown)}."] });
                }
            }

            var media = settings.MediaRoot;
            string? image = null;
            if (r.Image is not null)
            {
                await using var upload = r.Image.OpenReadStream();
                var saved = await EventImages.SaveAsync(media, upload, ct);
                if (!saved.IsSuccess)
                {
                    return saved.Failure!;
                }

                image = saved.Value;
            }

            // To the microsecond, as PostgreSQL keeps it (Npgsql truncates): the 202 tells the run_at the job route reads back.
            var due = clock.GetUtcNow() + settings.CreationDelay;
            var runAt = due.AddTicks(-(due.Ticks % TimeSpan.TicksPerMicrosecond));
            try
            {
                var jobId = await db.InTransactionAsync(
                    (conn, tx) => jobs.EnqueueAsync(conn, tx, JobKind, new CreateEventPayload(r.Title, r.Description, r.Date, image, r.CreatedBy, organizations), runAt, ct),
                    ct);
                return new EventJobStatus(jobId, "pending", runAt.UtcDateTime, null, null);
            }
            catch
            {
                EventImages.Delete(media, image);
                throw;
            }
        }
    }

    // Inserts the event when its time comes. A repeated run finds the event it made and does nothing.
    public sealed class Job(NpgsqlDataSource db, EventsSettings settings) : IJobHandler
    {
        private const string Insert = """
            INSERT INTO events (title, description, date, image, created_by, creation_job_id)
            VALUES (@Title, @Description, @Date, @Image, @CreatedBy, @JobId)
            ON CONFLICT (creation_job_id) DO NOTHING
            RETURNING id
            """;

        public string Kind => JobKind;

        public async Task RunAsync(Common.Work.Job job, CancellationToken ct)
        {
            var p = job.PayloadAs<CreateEventPayload>();
            try
            {
                await db.InTransactionAsync(async (conn, tx) =>
                {
                    var id = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                        Insert, new { p.Title, p.Description, p.Date, p.Image, p.CreatedBy, JobId = job.Id }, tx, cancellationToken: ct));
                    if (id is { } created)
                    {
                        await Events.SetOrganizersAsync(conn, tx, created, p.Organizations, ct);
                    }

                    return id;
                }, ct);
            }
            catch (PostgresException e) when (PgErrors.Translate(e) is { Status: < 500 } failure)
            {
                // An organization was deleted while the event waited: retrying cannot bring it back.
                throw new PermanentJobFailureException($"{failure.Code}: {failure.Detail}", e);
            }
        }

        public Task OnFailedAsync(Common.Work.Job job, string lastError, CancellationToken ct)
        {
            EventImages.Delete(settings.MediaRoot, job.PayloadAs<CreateEventPayload>().Image);
            return Task.CompletedTask;
        }
    }
}
