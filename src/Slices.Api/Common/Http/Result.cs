using Microsoft.AspNetCore.Http.HttpResults;

namespace Slices.Api.Common.Http;

// An expected way for a request to fail: it becomes a problem+json answer with a stable `code`.
public sealed record Failure(int Status, string Code, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    public static Failure NotFound(string what) => new(StatusCodes.Status404NotFound, "not_found", $"{what} was not found.");

    public static Failure Conflict(string code, string detail) => new(StatusCodes.Status409Conflict, code, detail);

    public static Failure BadRequest(string code, string detail) => new(StatusCodes.Status400BadRequest, code, detail);

    public static Failure Forbidden(string detail) => new(StatusCodes.Status403Forbidden, "forbidden", detail);

    public static Failure PreconditionFailed() =>
        new(StatusCodes.Status412PreconditionFailed, "precondition_failed", "The resource has changed since the ETag given in If-Match.");

    public static Failure Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static Failure Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        new(StatusCodes.Status400BadRequest, "validation_failed", "One or more fields are invalid.", errors);

    // FluentValidation's failures, each under its member's name as the client wrote it.
    public static Failure Invalid(IEnumerable<FluentValidation.Results.ValidationFailure> failures) => Invalid(
        failures.GroupBy(e => ProblemHandling.FieldName(e.PropertyName)).ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray()));

    // For a 429: when to ask again, sent as `Retry-After` (and `retry_after` in the body).
    public int? RetryAfterSeconds { get; init; }

    public ProblemHttpResult ToProblem() => TypedResults.Problem(detail: Detail, statusCode: Status, extensions: Extensions());

    // The problem's members beyond RFC 9457's: `code`, `errors`, `retry_after` (ProblemHandling sends the last as the
    // Retry-After header too), for every way a Failure is answered.
    public Dictionary<string, object?> Extensions()
    {
        var extensions = new Dictionary<string, object?> { ["code"] = Code };
        if (Errors is not null)
        {
            extensions["errors"] = Errors;
        }

        if (RetryAfterSeconds is { } retryAfter)
        {
            extensions[ProblemHandling.RetryAfterMember] = retryAfter;
        }

        return extensions;
    }
}

// Whether an answer succeeded, for code that does not know its value type (a transaction commits only on success).
public interface IOutcome
{
    bool IsSuccess { get; }
}

// A handler's answer: a value, or a Failure the client can act on.
public readonly struct Result<T> : IOutcome
{
    private readonly T? value;

    private Result(T? value, Failure? failure)
    {
        this.value = value;
        Failure = failure;
    }

    public Failure? Failure { get; }

    public bool IsSuccess => Failure is null;

    public T Value => IsSuccess ? value! : throw new InvalidOperationException($"No value: {Failure!.Code}");

#pragma warning disable CA2225 // The conversions are the point: handlers return a value or a failure as is.
    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Failure failure) => new(default, failure);
#pragma warning restore CA2225

    public Results<TOk, ProblemHttpResult> ToHttp<TOk>(Func<T, TOk> ok)
        where TOk : IResult => IsSuccess ? ok(value!) : Failure!.ToProblem();
}
