using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using MimeKit;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Waitlists;

// Offers by email, through the outbox to a real SMTP server, on an instance of their own.
public sealed partial class OfferEmailTests(OfferMailHost h) : IClassFixture<OfferMailHost>
{
    [GeneratedRegex(@"https://offers\.example\.test/api/holds/(\d+)")]
    private static partial Regex OfferLink();

    // The hold id of the offer link in the text body, which the HTML body must link to too.
    private static long OfferIn(MimeMessage mail)
    {
        var link = OfferLink().Match(mail.TextBody ?? string.Empty);
        Assert.True(link.Success, $"No offer link in: {mail.TextBody}");
        Assert.Contains($"href=\"{link.Value}\"", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Contains($"POST {link.Value}/confirm", mail.TextBody, StringComparison.Ordinal);
        return long.Parse(link.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_place_freed_by_leaving_is_offered_to_the_first_in_line_by_email_and_confirming_the_offer_enrols()
    {
        var s = await Service.OfAsync(h.Host);
        var (bobMail, carolMail) = (RestaurantTestData.Email(), RestaurantTestData.Email());
        var (alice, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(bobMail), await s.NewUserAsync(carolMail));
        var training = await s.NewTrainingAsync(1, alice, bob, carol);
        await s.EnrolAsync(training, alice);
        var bobs = (await s.JoinAsync(training, bob)).Is(HttpStatusCode.Created).Id;
        var carols = (await s.JoinAsync(training, carol)).Is(HttpStatusCode.Created).Id;

        (await s.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).Is(HttpStatusCode.NoContent);
        var mail = await h.Mail.NextToAsync(bobMail);
        var offer = OfferIn(mail);
        Assert.Equal(offer, await s.UntilAsync(bobs, "offered"));
        Assert.StartsWith("A place is free for you: the training on ", mail.Subject, StringComparison.Ordinal);
        var hold = (await s.Api.GetAsync($"/api/holds/{offer}", bob.Token)).Is(HttpStatusCode.OK).Body!;
        var expires = hold["expires_at"]!.GetValue<DateTime>();
        Assert.InRange(expires - DateTime.UtcNow, TimeSpan.FromMinutes(115), TimeSpan.FromMinutes(121));
        Assert.Contains($"held for you until {expires.ToUniversalTime():yyyy-MM-dd HH:mm} UTC", mail.TextBody, StringComparison.Ordinal);

        var enrolled = (await s.Api.PostAsync($"/api/holds/{offer}/confirm", null, bob.Token)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/trainings/{training}", enrolled.Header("Location"));
        Assert.Equal(bob.Id, Assert.Single(enrolled.Body!["users"]!.AsArray())!.GetValue<long>());
        Assert.Equal("accepted", (await s.EntryAsync(bobs)).Status);
        Assert.Equal("waiting", (await s.EntryAsync(carols)).Status);
        var line = Service.OnlyEntry((await s.Api.GetAsync($"/api/trainings/{training}/waitlist", s.Admin)).Is(HttpStatusCode.OK));
        Assert.Equal((carol.Id, 1), (line["user"]!.GetValue<long>(), line["position"]!.GetValue<int>()));
        Assert.Equal(1, await s.ScalarAsync<long>("SELECT count(*) FROM outbox_emails WHERE to_address = @bobMail", new { bobMail }));
        Assert.Equal(0, await s.ScalarAsync<long>("SELECT count(*) FROM outbox_emails WHERE to_address = @carolMail", new { carolMail }));
    }

    [Fact]
    public async Task A_stage_slot_freed_by_a_cancelled_booking_is_offered_by_email_to_the_waiting_user()
    {
        var s = await Service.OfAsync(h.Host);
        var bobMail = RestaurantTestData.Email();
        var (alice, bob) = (await s.NewUserAsync(), await s.NewUserAsync(bobMail));
        var stage = await s.NewStageAsync();
        var date = Service.FutureDate();
        var alices = (await s.BookAsync(alice, stage, date, "18:00", "20:00")).Is(HttpStatusCode.Created).Id;
        var bobs = (await s.JoinStageAsync(stage, bob, date, "18:30", "19:30")).Is(HttpStatusCode.Created).Id;

        (await s.Api.DeleteAsync($"/api/bookings/{alices}", alice.Token)).Is(HttpStatusCode.NoContent);
        var mail = await h.Mail.NextToAsync(bobMail);
        Assert.Contains($"on {date}, 18:30–19:30", mail.Subject, StringComparison.Ordinal);
        var offer = OfferIn(mail);
        Assert.Equal(offer, await s.UntilAsync(bobs, "offered"));
        var booking = (await s.Api.PostAsync($"/api/holds/{offer}/confirm", null, bob.Token)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/bookings/{booking.Id}", booking.Header("Location"));
    }
}

// A service instance on a database of its own, its mail going to a real SMTP server, its links to a public address.
public sealed class OfferMailHost(SlicesFixture fx) : IAsyncLifetime
{
    public SmtpSink Smtp { get; private set; } = null!;

    public Mailbox Mail { get; private set; } = null!;

    public WorkHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Smtp = SmtpSink.Start();
        Mail = new Mailbox(Smtp);
        Host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?>
        {
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = Smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Email:Smtp:UseTls"] = "false",
            ["App:PublicBaseUrl"] = "https://offers.example.test/",
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Smtp.DisposeAsync();
        Mail.Dispose();
    }
}
