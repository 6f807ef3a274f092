using System.Text.RegularExpressions;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using MimeKit;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

// An anonymous customer asks for a table. The request is pending until the accounting system (or an admin) decides;
// pending requests never block each other or the table. The price that holds now is frozen on it.
public static partial class RequestReservation
{
    public const int MinDurationMinutes = 30;
    public const int MaxDurationMinutes = 480;
    public const int DefaultDurationMinutes = 120;

    public sealed record RequestReservationRequest(
        long? Table, DateTimeOffset? StartsAt, int? DurationMinutes, int? Guests, string? Name, string? Email, string? Phone, string? Comment)
        : ICommand<Result<ReservationRequested>>;

    public sealed record ReservationRequested(long Id, string Status, long Table, DateTime StartsAt, DateTime EndsAt, int Guests, decimal? Price);

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/restaurant/reservations",
                async Task<Results<Created<ReservationRequested>, ProblemHttpResult>> (RequestReservationRequest body, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(body, ct)).ToHttp(r => TypedResults.Created($"/api/restaurant/reservations/{r.Id}", r)))
            .WithName("RequestReservation").WithTags("Restaurant")
            .WithSummary("Ask for a table (no account needed): pending until the restaurant confirms it; an email with a cancel link goes to the customer")
            .AllowAnonymous()
            .RequireRateLimiting(HttpPipeline.PublicWritePolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .Idempotent();
    }

    [GeneratedRegex(@"^\+?[0-9][0-9 ()./-]{4,30}$")]
    private static partial Regex Phone();

    // An address the outbox will take as it is: one mailbox, no display name or comment.
    public static bool IsEmail(string email) =>
        MailboxAddress.TryParse(email, out var mailbox) && mailbox.Address == email && email.IndexOf('@', StringComparison.Ordinal) > 0;

    public sealed class Validator : AbstractValidator<RequestReservationRequest>
    {
        public Validator(TimeProvider clock)
        {
            RuleFor(x => x.Table).NotNull().GreaterThan(0);
            RuleFor(x => x.StartsAt).NotNull()
                .Must(s => s is null || s > clock.GetUtcNow()).WithMessage("starts_at must be in the future.")
                .Must(s => s is null || s.Value.Year <= 9000).WithMessage("starts_at must be before the year 9000.");
            RuleFor(x => x.DurationMinutes).InclusiveBetween(MinDurationMinutes, MaxDurationMinutes);
            RuleFor(x => x.Guests).NotNull().InclusiveBetween(1, 50);
            RuleFor(x => x.Name).NotEmpty().MaximumLength(200);
            RuleFor(x => x.Email).MaximumLength(254).Must(e => string.IsNullOrEmpty(e) || IsEmail(e)).WithMessage("email must be an email address.");
            RuleFor(x => x.Phone).MaximumLength(32).Must(p => string.IsNullOrEmpty(p) || Phone().IsMatch(p)).WithMessage("phone must be a phone number.");
            RuleFor(x => x.Email).NotEmpty().When(x => string.IsNullOrEmpty(x.Phone)).WithMessage("Give an email address or a phone number.");
            RuleFor(x => x.Phone).NotEmpty().When(x => string.IsNullOrEmpty(x.Email)).WithMessage("Give an email address or a phone number.");
            RuleFor(x => x.Comment).MaximumLength(1000);
        }
    }

    // The table row is share-locked: it cannot be closed or lose seats until this request is in.
    private const string Table = $"""
        SELECT t.seats, t.can_be_booked, cur.price
        FROM restaurant_tables t
        {RestaurantTables.JoinCurrentPrice}
        WHERE t.id = @table
        FOR SHARE OF t
        """;

    private const string Insert = $"""
        INSERT INTO restaurant_reservations AS r
            (table_id, starts_at, ends_at, guests, name, email, phone, comment, price, status, created_at, updated_at)
        VALUES (@table, @startsAt, @startsAt + make_interval(mins => @duration), @guests, @name, @email, @phone, @comment, @price, 'pending', @now, @now)
        RETURNING {Reservations.Columns}
        """;

    // The request, in the caller's transaction: what this route does, and what confirming a restaurant table's hold does.
    // c is valid.
    public static async Task<Result<ReservationRequested>> RequestAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, RequestReservationRequest c, ReservationNotices notices, DateTime now, CancellationToken ct)
    {
        var table = await conn.QuerySingleOrDefaultAsync<TableRow>(new CommandDefinition(Table, new { table = c.Table, now }, tx, cancellationToken: ct));
        if (table is null)
        {
            return Failure.Invalid("table", $"Table {c.Table} does not exist.");
        }

        if (!table.CanBeBooked)
        {
            return Failure.Invalid("table", "The table is closed for booking.");
        }

        if (c.Guests > table.Seats)
        {
            return Failure.Invalid("guests", $"The table seats at most {table.Seats}.");
        }

        var r = await conn.QuerySingleAsync<Reservation>(new CommandDefinition(Insert, new
        {
            table = c.Table,
            startsAt = c.StartsAt!.Value.UtcDateTime,
            duration = c.DurationMinutes ?? DefaultDurationMinutes,
            guests = c.Guests,
            name = c.Name,
            email = NullIfEmpty(c.Email),
            phone = NullIfEmpty(c.Phone),
            comment = NullIfEmpty(c.Comment),
            price = table.Price,
            now,
        }, tx, cancellationToken: ct));
        await notices.SendAsync(conn, tx, r, ct);
        return new ReservationRequested(r.Id, r.Status, r.Table, r.StartsAt, r.EndsAt, r.Guests, r.Price);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    public sealed class Handler(NpgsqlDataSource db, ReservationNotices notices, TimeProvider clock)
        : ICommandHandler<RequestReservationRequest, Result<ReservationRequested>>
    {
        public async ValueTask<Result<ReservationRequested>> Handle(RequestReservationRequest c, CancellationToken ct) =>
            await db.InTransactionAsync((conn, tx) => RequestAsync(conn, tx, c, notices, clock.GetUtcNow().UtcDateTime, ct), ct);
    }

    private sealed record TableRow(int Seats, bool CanBeBooked, decimal? Price);
}
