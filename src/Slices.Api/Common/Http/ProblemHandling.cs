using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using Slices.Api.Common.Data;

namespace Slices.Api.Common.Http;

public static partial class ProblemHandling
{
    // The body member of a 429 that says when to ask again; it is also sent as the Retry-After header.
    public const string RetryAfterMember = "retry_after";

    public static IServiceCollection AddProblemHandling(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var pd = ctx.ProblemDetails;
            pd.Instance ??= ctx.HttpContext.Request.Path;
            pd.Extensions.Remove("traceId");
            pd.Extensions["trace_id"] = Activity.Current?.TraceId.ToString() ?? ctx.HttpContext.TraceIdentifier;
            pd.Extensions.TryAdd("code", DefaultCode(pd.Status ?? 500));
            pd.Detail ??= pd.Title;
            if (pd.Extensions.TryGetValue(RetryAfterMember, out var retryAfter) && retryAfter is int seconds)
            {
                ctx.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        });
        services.AddExceptionHandler<ExceptionToProblem>();
        // Minimal APIs throw on bad input (malformed JSON, an unparsable query value) only in Development by default;
        // elsewhere they answer a bare 400 that names nothing. Throwing everywhere lets ExceptionToProblem name the field.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    public static string DefaultCode(int status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        409 => "conflict",
        412 => "precondition_failed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "service_unavailable",
        _ => status >= 500 ? "internal_error" : "error",
    };

    public static Task WriteAsync(HttpContext http, Failure failure, Exception? exception = null)
    {
        http.Response.StatusCode = failure.Status;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = failure.Status, Detail = failure.Detail };
        foreach (var (key, value) in failure.Extensions())
        {
            problem.Extensions[key] = value;
        }

        return http.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception }).AsTask();
    }

    // "Failed to bind parameter "DateOnly? date_from" from "x"." — the framework's own wording, stable since .NET 7.
    [GeneratedRegex("""parameter "(?:[^"]* )?(?<name>[A-Za-z_][A-Za-z0-9_]*)" from""")]
    private static partial Regex BindFailure();

    // "Implicit body inferred for parameter "request" but no body was provided. …" (an empty body, or JSON `null`), and
    // "Required parameter "… body" was not provided from body." — the framework's wording, which names C# internals.
    [GeneratedRegex("no body was provided|was not provided from body")]
    private static partial Regex MissingBody();

    // Turns every exception into problem+json; anything not recognised is a bug, logged, and told nothing internal.
    private sealed class ExceptionToProblem(ILogger<ExceptionToProblem> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
        {
            if (exception is OperationCanceledException && http.RequestAborted.IsCancellationRequested)
            {
                return true;
            }

            var failure = Classify(exception);
            if (failure is null)
            {
                logger.LogError(exception, "Unhandled exception for {Method} {Path} (trace {TraceId})", http.Request.Method, http.Request.Path, Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier);
                failure = new Failure(500, "internal_error", "An unexpected error occurred. Quote the trace_id when reporting it.");
            }
            else if (failure.Status == 503)
            {
                logger.LogWarning("Database unavailable for {Method} {Path}: {Message}", http.Request.Method, http.Request.Path, exception.Message);
                http.Response.Headers.RetryAfter = "5";
            }

            await WriteAsync(http, failure, exception);
            return true;
        }

        private static Failure? Classify(Exception exception) => exception switch
        {
            ValidationException v => Validation(v),
            BadHttpRequestException { InnerException: JsonException json } =>
                Failure.BadRequest("malformed_json", JsonMessage(json)),
            BadHttpRequestException bad when MissingBody().IsMatch(bad.Message) =>
                Failure.BadRequest("malformed_json", "The request body is empty or null; send a JSON object."),
            BadHttpRequestException bad when BindFailure().Match(bad.Message) is { Success: true } m =>
                Failure.Invalid(Json.SnakeCase(m.Groups["name"].Value), $"'{Json.SnakeCase(m.Groups["name"].Value)}' has an invalid value."),
            BadHttpRequestException bad => new Failure(bad.StatusCode, DefaultCode(bad.StatusCode), bad.StatusCode switch
            {
                413 => "The request body is too large.",
                415 => "The request's Content-Type is not supported by this route.",
                _ => bad.Message,
            }),
            JsonException json => Failure.BadRequest("malformed_json", JsonMessage(json)),
            MalformedFormException form => Failure.BadRequest("malformed_form", form.Message),
            PostgresException pg when PgErrors.Translate(pg) is { } known => known,
            _ when PgErrors.IsUnavailable(exception) => new Failure(503, "database_unavailable", "The database is not reachable right now; try again shortly."),
            _ => null,
        };

        private static string JsonMessage(JsonException json) =>
            json.Path is { Length: > 1 } path ? $"The JSON body is malformed or has a wrong type at '{path}'." : "The request body is not valid JSON.";

        private static Failure Validation(ValidationException v) => Failure.Invalid(v.Errors);
    }

    // FluentValidation's "Items[0].CassetteId" as the client wrote it: "items[0].cassette_id".
    public static string FieldName(string propertyPath) =>
        string.Join('.', propertyPath.Split('.').Select(part =>
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            return bracket < 0 ? Json.SnakeCase(part) : Json.SnakeCase(part[..bracket]) + part[bracket..];
        }));
}
