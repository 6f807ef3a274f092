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

namespace Slices.Api.Features.Events;

// PUT and PATCH of an event (admin): title, description, date, organizations. JSON, or `multipart/form-data`
// with the same fields (`organizations` repeated or comma-separated) and an optional `image` file that
// replaces the current image.
public static class UpdateEvent
{
    private static readonly string[] ReadOnly = ["id", "image_url"];

    public sealed record ReplaceEventRequest(string Title, string? Description, DateOnly? Date, long[]? Organizations)
        : ICommand<Result<Versioned<EventDetail>>>
    {
        [JsonIgnore]
        public long Id { get; init; }

        [JsonIgnore]
        public long? IfMatch { get; init; }

        // A new image from a multipart request; null keeps the current one.
        [JsonIgnore]
        public IFormFile? Image { get; init; }

        public static ReplaceEventRequest From(EventDetail e) => new(e.Title, e.Description, e.Date, e.Organizations.Select(o => o.Id).ToArray());
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/events/{id:long}", (long id, HttpRequest request, ISender mediator, CancellationToken ct) => UpdateAsync(id, request, mediator, patch: false, ct))
                .WithName("ReplaceEvent").WithTags("Events").WithSummary("Replace an event's title, description, date and organizations (admin); multipart may add an image")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .Accepts<ReplaceEventRequest>("application/json", "multipart/form-data")
                .WithProblems();
            app.MapPatch("/api/events/{id:long}", (long id, HttpRequest request, ISender mediator, CancellationToken ct) => UpdateAsync(id, request, mediator, patch: true, ct))
                .WithName("UpdateEvent").WithTags("Events").WithSummary("Change only the members sent (admin); multipart may add an image")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .Accepts<ReplaceEventRequest>("application/json", "multipart/form-data")
                .WithProblems();
        }

        private static async Task<Results<Ok<EventDetail>, StatusCodeHttpResult, ProblemHttpResult>> UpdateAsync(
            long id, HttpRequest request, ISender mediator, bool patch, CancellationToken ct)
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var (body, image) = await EventBody.ReadAsync(request, options, ct);
            if (!body.IsSuccess)
            {
                return body.Failure!.ToProblem();
            }

            if (patch)
            {
                return await mediator.MergeAndReplaceAsync(request.HttpContext, body.Value, new GetEvent.GetEventQuery(id), ReplaceEventRequest.From,
                    (changes, ifMatch) => changes with { Id = id, IfMatch = ifMatch, Image = image }, ReadOnly, ct);
            }

            if (body.Value.Deserialize<ReplaceEventRequest>(options) is not { } whole)
            {
                return Failure.BadRequest("malformed_json", "The body must be a JSON object.").ToProblem();
            }

            return (await mediator.Send(whole with { Id = id, IfMatch = ETags.IfMatch(request.HttpContext), Image = image }, ct)).ToHttp(request.HttpContext);
        }
    }

    public sealed class Validator : AbstractValidator<ReplaceEventRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Title).NotEmpty().MaximumLength(Events.MaxTitle);
            RuleFor(x => x.Description).MaximumLength(Events.MaxDescription);
            RuleFor(x => x.Organizations).NotNull().Must(o => o is null || o.Length <= Events.MaxOrganizations)
                .WithMessage($"organizations must list at most {Events.MaxOrganizations} ids.");
        }
    }

    public sealed class Handler(NpgsqlDataSource db, EventsSettings settings) : ICommandHandler<ReplaceEventRequest, Result<Versioned<EventDetail>>>
    {
        private const string Lock = "SELECT image FROM events WHERE id = @Id FOR UPDATE";

        private const string Update = $"""
            UPDATE events e SET title = @Title, description = @Description, date = @Date, image = coalesce(@Image, e.image)
            WHERE e.id = @Id AND {Events.Guard}
            """;

        public async ValueTask<Result<Versioned<EventDetail>>> Handle(ReplaceEventRequest r, CancellationToken ct)
        {
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

            Result<(Versioned<EventDetail> Event, string? Replaced)> result;
            try
            {
                result = await db.InTransactionAsync<Result<(Versioned<EventDetail>, string?)>>(async (conn, tx) =>
                {
                    var current = await conn.QuerySingleOrDefaultAsync<Current>(new CommandDefinition(Lock, new { r.Id }, tx, cancellationToken: ct));
                    if (current is null)
                    {
                        return Failure.NotFound("Event");
                    }

                    var updated = await conn.ExecuteAsync(new CommandDefinition(
                        Update, new { r.Id, r.Title, r.Description, r.Date, Image = image, r.IfMatch }, tx, cancellationToken: ct));
                    if (updated == 0)
                    {
                        return Failure.PreconditionFailed();
                    }

                    await Events.SetOrganizersAsync(conn, tx, r.Id, r.Organizations!, ct);
                    return ((await Events.FindAsync(conn, r.Id, ct, tx))!, image is null ? null : current.Image);
                }, ct);
            }
            catch
            {
                EventImages.Delete(media, image);
                throw;
            }

            // Whichever file is no longer referenced goes: the new one when nothing changed, else the one it replaced.
            EventImages.Delete(media, result.IsSuccess ? result.Value.Replaced : image);
            return result.IsSuccess ? result.Value.Event : result.Failure!;
        }
    }

    private sealed record Current(string? Image);
}
