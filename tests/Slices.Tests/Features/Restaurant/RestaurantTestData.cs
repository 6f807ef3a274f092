using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;
using MimeKit;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Restaurant;

// Tables and reservations for one test. Tables are shared by parallel tests, so each test creates its own (unique
// labels) and reads results through the ids it created; its prices sit in a window of its own.
internal static partial class RestaurantTestData
{
    public static string UniqueLabel(string prefix = "T") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    // A price window no other test is likely to use: [Base, Base + 1.00].
    public static decimal PriceBase() => Random.Shared.Next(10_000_000, 90_000_000) / 100m;

    public static string Money(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    // An instant whole minutes ahead of now, as the contract writes instants.
    public static DateTimeOffset Future(int days = 30, int hour = 18, int minute = 0) =>
        new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(days).AddHours(hour).AddMinutes(minute);

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    // The same instant without an offset: the service reads it as UTC (the test host runs in another time zone).
    public static string Naive(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    public static async Task<JsonNode> NewTableAsync(
        this ApiClient api, string admin, string kind = "regular", int seats = 4, decimal? price = null, bool canBeBooked = true, string? label = null) =>
        (await api.PostAsync("/api/restaurant/tables", new { label = label ?? UniqueLabel(), kind, seats, can_be_booked = canBeBooked, price }, admin))
            .Is(HttpStatusCode.Created).Body!;

    public static async Task<long> NewTableIdAsync(this ApiClient api, string admin, int seats = 4, decimal? price = 25m) =>
        (await api.NewTableAsync(admin, seats: seats, price: price))["id"]!.GetValue<long>();

    public static object Request(
        long table, DateTimeOffset startsAt, int guests = 2, string? email = null, string? phone = "+49 30 1234567", int? duration = null,
        string name = "Ann Guest", string? comment = null) =>
        new { table, starts_at = Iso(startsAt), duration_minutes = duration, guests, name, email, phone, comment };

    public static Task<Reply> RequestAsync(this ApiClient api, object body) => api.PostAsync("/api/restaurant/reservations", body);

    public static async Task<long> RequestIdAsync(this ApiClient api, long table, DateTimeOffset startsAt, int duration = 120, string? email = null) =>
        (await api.RequestAsync(Request(table, startsAt, duration: duration, email: email))).Is(HttpStatusCode.Created).Id;

    public static Task<Reply> ConfirmAsync(this ApiClient api, long reservation, string admin) =>
        api.PostAsync($"/api/restaurant/reservations/{reservation}/confirm", null, admin);

    public static long[] Ids(this Reply reply) => reply.Array.Select(n => n!["id"]!.GetValue<long>()).ToArray();

    public static string Email() => $"guest-{Guid.NewGuid():N}@example.com";

    // Posts body to the callback signed with secret, computed here independently of the service.
    public static Task<Reply> CallbackAsync(this ApiClient api, string body, string? secret, string? signature = null)
    {
        var headers = new Dictionary<string, string>();
        if (signature is not null || secret is not null)
        {
            headers["X-Signature"] = signature ?? Sign(secret!, body);
        }

        return api.SendAsync(HttpMethod.Post, "/api/restaurant/accounting/callback", new StringContent(body, Encoding.UTF8, "application/json"), headers: headers);
    }

    public static string Sign(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    public static string CallbackBody(long reservation, string status, string? comment = null) =>
        JsonSerializer.Serialize(new { reservation, status, comment });

    [GeneratedRegex(@"https?://\S+/api/restaurant/reservations/cancel\?token=[A-Za-z0-9._%-]+")]
    private static partial Regex CancelLink();

    // The cancel link in an email's text body, which must be the same as the one in its HTML body.
    public static Uri CancelLinkIn(MimeMessage mail)
    {
        var text = CancelLink().Match(mail.TextBody ?? string.Empty);
        Assert.True(text.Success, $"No cancel link in: {mail.TextBody}");
        Assert.Contains($"href=\"{text.Value}\"", mail.HtmlBody, StringComparison.Ordinal);
        return new Uri(text.Value);
    }
}

// A service instance on a database of its own, wired to a real SMTP server and a real HTTP receiver standing in for
// the accounting system. One per test class; the tests of a class tell their mail and events apart by address and id.
public sealed class RestaurantHost(SlicesFixture fx) : IAsyncLifetime
{
    public const string Secret = "restaurant-accounting-test-secret";
    public const string PublicBaseUrl = "https://reservations.example.test";
    public const string TimeZone = "Europe/Berlin";

    public SmtpSink Smtp { get; private set; } = null!;

    public WebhookReceiver Accounting { get; private set; } = null!;

    public WorkHost Host { get; private set; } = null!;

    public Mailbox Mail { get; private set; } = null!;

    public ApiClient Api => Host.Api;

    public string Admin { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Smtp = SmtpSink.Start();
        Mail = new Mailbox(Smtp);
        Accounting = await WebhookReceiver.StartAsync();
        Host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?>
        {
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = Smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Email:Smtp:UseTls"] = "false",
            ["Restaurant:Accounting:Url"] = Accounting.Url,
            ["Restaurant:Accounting:Secret"] = Secret,
            ["App:PublicBaseUrl"] = PublicBaseUrl,
            ["Restaurant:TimeZone"] = TimeZone,
        });
        Admin = (await Host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
    }

    // The events the accounting receiver got about reservation, in arrival order.
    public IReadOnlyList<(string Event, JsonNode Body, WebhookReceiver.Received Request)> EventsOf(long reservation) =>
        Accounting.Requests
            .Select(r => (Request: r, Body: JsonNode.Parse(r.Body)!))
            .Where(x => x.Body["reservation"]?["id"]?.GetValue<long>() == reservation)
            .Select(x => (x.Body["event"]!.GetValue<string>(), x.Body, x.Request))
            .ToList();

    public async Task<(JsonNode Body, WebhookReceiver.Received Request)> EventAsync(long reservation, string eventName)
    {
        await Eventually.HoldsAsync(() => EventsOf(reservation).Any(e => e.Event == eventName),
            () => $"no {eventName} for reservation {reservation}; got {string.Join(", ", EventsOf(reservation).Select(e => e.Event))}");
        var found = EventsOf(reservation).First(e => e.Event == eventName);
        return (found.Body, found.Request);
    }

    // Emails and deliveries written for a reservation: the outbox rows, there as soon as the change commits.
    public async Task<(long Emails, long Webhooks)> OutboxCountsAsync(string email, long reservation) =>
        (await Host.ScalarAsync<long>("SELECT count(*) FROM outbox_emails WHERE to_address = @email", new { email }),
         await Host.ScalarAsync<long>(
             "SELECT count(*) FROM webhook_deliveries WHERE (body::jsonb -> 'reservation' ->> 'id')::bigint = @reservation", new { reservation }));

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Accounting.DisposeAsync();
        await Smtp.DisposeAsync();
        Mail.Dispose();
    }
}

// The SMTP server's messages by recipient: waits for the next one to an address, keeping the others for later.
public sealed class Mailbox(SmtpSink smtp) : IDisposable
{
    private readonly List<MimeMessage> kept = [];
    private readonly SemaphoreSlim reading = new(1, 1);

    public async Task<MimeMessage> NextToAsync(string address)
    {
        await reading.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            while (true)
            {
                var found = kept.FirstOrDefault(m => m.To.Mailboxes.Any(b => b.Address == address));
                if (found is not null)
                {
                    kept.Remove(found);
                    return found;
                }

                kept.Add(await smtp.NextAsync());
            }
        }
        finally
        {
            reading.Release();
        }
    }

    public void Dispose() => reading.Dispose();
}
