using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.WebUtilities;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Admin.Shell;

// What every panel page leans on: the request, the mediator, and one way to show what went wrong. Messages go through
// the mediator exactly as the API sends them, so the same validators run; a validation failure or a Failure
// (or a violated constraint the API would answer as a problem) becomes a message on the page and the response's status
// code instead of problem+json.
public abstract class AdminPage : ComponentBase
{
    public const int PageSize = 50;

    private readonly List<string> problems = [];

    [CascadingParameter]
    public HttpContext HttpContext { get; set; } = null!;

    [Inject]
    protected ISender Mediator { get; set; } = null!;

    [Inject]
    protected NavigationManager Navigation { get; set; } = null!;

    [Inject]
    protected TimeProvider Clock { get; set; } = null!;

    protected IReadOnlyList<string> Problems => problems;

    // The signed-in admin, as handlers take the caller.
    protected Caller Admin => HttpContext.User.Caller();

    protected CancellationToken Aborted => HttpContext.RequestAborted;

    // Sends a query; null (and messages on the page) when it is invalid.
    protected async Task<T?> SendAsync<T>(IQuery<T> query)
        where T : class => await ValidatedAsync(() => Mediator.Send(query, Aborted));

    // Sends a command; null (and messages on the page) when it is invalid.
    protected async Task<T?> SendAsync<T>(ICommand<T> command)
        where T : class => await ValidatedAsync(() => Mediator.Send(command, Aborted));

    // Sends a query answering a Result<T>; null (and the failure on the page) when it fails.
    protected async Task<T?> SendOrFailAsync<T>(IQuery<Result<T>> query)
        where T : class => Unwrap(await ValidatedAsync(async () => (Result<T>?)await Mediator.Send(query, Aborted)));

    // Sends a command answering a Result<T>; null (and the failure on the page) when it fails.
    protected async Task<T?> SendOrFailAsync<T>(ICommand<Result<T>> command)
        where T : class => Unwrap(await ValidatedAsync(async () => (Result<T>?)await Mediator.Send(command, Aborted)));

    // Shows message and answers status (the first failure's status wins); 404 shows the not-found page.
    protected void Fail(int status, string message)
    {
        if (status == StatusCodes.Status404NotFound)
        {
            // Static rendering drops the body of a page that sets 404 itself; this renders the panel's not-found page instead.
            Navigation.NotFound();
            return;
        }

        if (problems.Count == 0 && !HttpContext.Response.HasStarted)
        {
            HttpContext.Response.StatusCode = status;
        }

        problems.Add(message);
    }

    // A `yyyy-MM-dd` query value; a malformed one is a 400 naming label.
    protected DateOnly? ParseDate(string? value, string label)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateOnly.TryParseExact(value.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        Fail(StatusCodes.Status400BadRequest, $"{label} must be a date (yyyy-mm-dd).");
        return null;
    }

    // A positive whole-number query value (an id); a malformed one is a 400 naming label.
    protected long? ParseId(string? value, string label)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }

        Fail(StatusCodes.Status400BadRequest, $"{label} must be a number.");
        return null;
    }

    // The id in a page's address (`/admin/events/{id}`); anything but a positive number is the not-found page.
    protected long? PathId(string value)
    {
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }

        Fail(StatusCodes.Status404NotFound, "Not found.");
        return null;
    }

    // The 1-based page number from `?page=`: anything unusable is the first page.
    protected static int PageNumber(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 100_000 ? n : 1;

    protected static int OffsetOf(int pageNumber) => (pageNumber - 1) * PageSize;

    // path with the non-empty query values, URL-encoded.
    protected static string Href(string path, params (string Key, string? Value)[] query) =>
        QueryHelpers.AddQueryString(path, query.Where(q => !string.IsNullOrEmpty(q.Value)).Select(q => KeyValuePair.Create(q.Key, q.Value)));

    protected static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    // The value, or a dash for an empty one.
    protected static string OrDash(string? value) => string.IsNullOrWhiteSpace(value) ? "—" : value;

    protected static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    protected static string Time(TimeOnly time) => time.ToString("HH:mm", CultureInfo.InvariantCulture);

    private async Task<T?> ValidatedAsync<T>(Func<ValueTask<T>> send)
    {
        try
        {
            return await send();
        }
        catch (ValidationException e)
        {
            foreach (var message in e.Errors.Select(x => x.ErrorMessage).Distinct())
            {
                Fail(StatusCodes.Status400BadRequest, message);
            }

            return default;
        }
        catch (PostgresException e) when (PgErrors.Translate(e) is { Status: < 500 } failure)
        {
            // A violated constraint (an overlapping confirmation, say): the API's global handler answers it as a problem; here it is a message.
            Fail(failure.Status, failure.Detail);
            return default;
        }
    }

    private T? Unwrap<T>(Result<T>? result)
        where T : class
    {
        if (result is not { } r)
        {
            return null;
        }

        if (!r.IsSuccess)
        {
            Fail(r.Failure!.Status, r.Failure.Detail);
            return null;
        }

        return r.Value;
    }
}
