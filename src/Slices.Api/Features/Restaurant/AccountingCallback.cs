using System.Text.Json;
using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Restaurant;

// The accounting system's answer to a request: confirmed or rejected. It is authenticated by
// `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with `Restaurant:Accounting:Secret`, checked in
// constant time before the body is even parsed; anything else is 401 and changes nothing. A repeated callback is a
// harmless 200; an impossible transition is 409.
public static class AccountingCallback
{
    public sealed record AccountingCallbackRequest(long? Reservation, string? Status, string? Comment = null) : ICommand<Result<Reservation>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/restaurant/accounting/callback",
                async Task<Results<Ok<Reservation>, ProblemHttpResult>> (HttpContext http, ISender mediator, IOptions<RestaurantOptions> options, IOptions<JsonOptions> json, CancellationToken ct) =>
                {
                    using var body = new MemoryStream();
                    await http.Request.Body.CopyToAsync(body, ct);
                    var secret = options.Value.Accounting.Secret ?? string.Empty;
                    if (!WebhookSignature.Verify(secret, body.ToArray(), http.Request.Headers[WebhookSignature.Header]))
                    {
                        return new Failure(StatusCodes.Status401Unauthorized, "invalid_signature",
                            "X-Signature is missing or is not sha256=<hex HMAC-SHA256 of the body> with the shared secret.").ToProblem();
                    }

                    var request = JsonSerializer.Deserialize<AccountingCallbackRequest>(body.ToArray(), json.Value.SerializerOptions)
                        ?? throw new BadHttpRequestException("The request body is empty.");
                    return (await mediator.Send(request, ct)).ToHttp(TypedResults.Ok);
                })
            .WithName("AccountingCallback").WithTags("Restaurant")
            .WithSummary("The accounting system confirms or rejects a pending reservation; HMAC-signed (X-Signature), 401 otherwise")
            .AllowAnonymous()
            .Accepts<AccountingCallbackRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public sealed class Validator : AbstractValidator<AccountingCallbackRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Reservation).NotNull().GreaterThan(0);
            RuleFor(x => x.Status).NotEmpty().Must(s => s is ReservationStatus.Confirmed or ReservationStatus.Rejected)
                .WithMessage("status must be confirmed or rejected.");
            RuleFor(x => x.Comment).MaximumLength(1000);
        }
    }

    public sealed class Handler(ReservationTransitions transitions) : ICommandHandler<AccountingCallbackRequest, Result<Reservation>>
    {
        public async ValueTask<Result<Reservation>> Handle(AccountingCallbackRequest c, CancellationToken ct)
        {
            var change = await transitions.ApplyAsync(c.Reservation!.Value, c.Status!, string.IsNullOrEmpty(c.Comment) ? null : c.Comment, ct);
            return change.IsSuccess ? change.Value.Reservation : change.Failure!;
        }
    }
}
