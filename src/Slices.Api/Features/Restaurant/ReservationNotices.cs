using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Restaurant;

// What a new reservation or a status change tells the world, written in the caller's transaction (outbox): the
// accounting system gets the event, and the customer an email when they gave an address — with a cancel link
// while the reservation can still be cancelled.
public sealed class ReservationNotices(Outbox outbox, AccountingFeed accounting, CancelTokens tokens, IOptions<RestaurantOptions> options, AppSettings app)
{
    public const string CancelPath = "/api/restaurant/reservations/cancel";

    public static string EventOf(string status) => "reservation." + (status == ReservationStatus.Pending ? "requested" : status);

    public async Task SendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Reservation r, CancellationToken ct)
    {
        await accounting.PublishAsync(conn, tx, EventOf(r.Status), r, ct);
        if (r.Email is null)
        {
            return;
        }

        var label = await conn.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT label::text FROM restaurant_tables WHERE id = @Table", new { r.Table }, tx, cancellationToken: ct));
        var cancelUrl = r.Status is ReservationStatus.Pending or ReservationStatus.Confirmed ? CancelUrl(r) : null;
        await outbox.EmailAsync(conn, tx, ReservationEmails.For(r, label!, cancelUrl, options.Value.Zone()), ct);
    }

    public string CancelUrl(Reservation r) =>
        app.Link($"{CancelPath}?token={Uri.EscapeDataString(tokens.Issue(r.Id, r.StartsAt))}");
}

// The customer's emails, one per status. Every inserted value is HTML-encoded by Format.
public static class ReservationEmails
{
    public static EmailMessage For(Reservation r, string tableLabel, string? cancelUrl, TimeZoneInfo zone)
    {
        var when = When(r, zone);
        var (subject, lead) = r.Status switch
        {
            ReservationStatus.Pending => ("Reservation request received",
                "we have received your reservation request. The restaurant will confirm it shortly; you will get another email then."),
            ReservationStatus.Confirmed => ("Reservation confirmed", "your reservation is confirmed. We look forward to your visit."),
            ReservationStatus.Rejected => ("Reservation request declined", "we are sorry: the restaurant cannot take your reservation request."),
            _ => ("Reservation cancelled", "your reservation is cancelled."),
        };
        subject = $"{subject}: table {tableLabel}, {when}";
        var price = r.Price?.ToString("0.00", CultureInfo.InvariantCulture) ?? "on request";
        var text = $"""
            Dear {r.Name},

            {lead}

            Table: {tableLabel}
            When: {when}
            Guests: {r.Guests}
            Price: {price}
            Reservation number: {r.Id}
            {(r.StatusComment is { } c ? $"\nMessage from the restaurant: {c}\n" : "")}{(cancelUrl is null ? "" : $"\nTo cancel the reservation, open this link: {cancelUrl}\n")}
            """;
        var comment = r.StatusComment is { } note ? Html.Format($"<p>Message from the restaurant: {note}</p>") : null;
        var cancel = cancelUrl is null ? null : Html.Format($"""<p>To cancel the reservation, open <a href="{cancelUrl}">this link</a>.</p>""");
        var html = Html.Document(subject, Html.Format($"""
            <p>Dear {r.Name},</p>
            <p>{lead}</p>
            <table>
            <tr><th align="left">Table</th><td>{tableLabel}</td></tr>
            <tr><th align="left">When</th><td>{when}</td></tr>
            <tr><th align="left">Guests</th><td>{r.Guests}</td></tr>
            <tr><th align="left">Price</th><td>{price}</td></tr>
            <tr><th align="left">Reservation number</th><td>{r.Id}</td></tr>
            </table>
            {comment}
            {cancel}
            """));
        return new EmailMessage(r.Email!, subject, text, html, r.Name);
    }

    // "Friday 1 May 2026, 18:30–20:30 (Europe/Berlin)", in the restaurant's time zone.
    public static string When(Reservation r, TimeZoneInfo zone)
    {
        var start = TimeZoneInfo.ConvertTimeFromUtc(r.StartsAt, zone);
        var end = TimeZoneInfo.ConvertTimeFromUtc(r.EndsAt, zone);
        var endFormat = end.Date == start.Date ? "HH:mm" : "d MMMM HH:mm";
        return string.Create(CultureInfo.InvariantCulture, $"{start:dddd d MMMM yyyy, HH:mm}–{end.ToString(endFormat, CultureInfo.InvariantCulture)} ({zone.Id})");
    }
}
