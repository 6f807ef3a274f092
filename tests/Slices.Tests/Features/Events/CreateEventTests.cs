using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Events;

public sealed class CreateEventTests(SlicesFixture fx)
{
    private static readonly long[] UnknownOrganization = [999_999_999L];

    private static MultipartFormDataContent Form(string title, long organization, byte[] image, string fileName, string contentType)
    {
        var form = new MultipartFormDataContent { { new StringContent(title), "title" }, { new StringContent(organization.ToString(System.Globalization.CultureInfo.InvariantCulture)), "organizations" } };
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "image", fileName);
        return form;
    }

    [Fact]
    public async Task Creation_is_accepted_at_once_and_the_event_does_not_exist_yet()
    {
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var title = $"Later {EventsTestData.Tag()}";
        var sw = Stopwatch.StartNew();
        var reply = (await fx.Api.PostAsync("/api/events", new { title, description = "soon", date = "2031-05-01", organizations = new[] { org } }, user.Token))
            .Is(HttpStatusCode.Accepted);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"202 took {sw.Elapsed.TotalMilliseconds} ms");

        var jobId = reply.Body!["job_id"]!.GetValue<long>();
        Assert.Equal("pending", reply.Body["status"]!.GetValue<string>());
        Assert.Equal($"/api/events/jobs/{jobId}", reply.Header("Location"));
        var runAt = DateTimeOffset.Parse(reply.Body["run_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(runAt - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(61));

        Assert.Empty((await fx.Api.GetAsync($"/api/events?search={Uri.EscapeDataString(title)}", user.Token)).Is(HttpStatusCode.OK).Array);
        var status = (await fx.Api.GetAsync($"/api/events/jobs/{jobId}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("pending", status.Body!["status"]!.GetValue<string>());
        Assert.Null(status.Body["event"]);
        Assert.Equal(reply.Body["run_at"]!.GetValue<string>(), status.Body["run_at"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_job_is_only_visible_to_its_creator_and_admins()
    {
        var creator = await fx.NewUserAsync();
        var other = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(creator.Token);
        var jobId = (await fx.Api.PostAsync("/api/events", new { title = "Mine", organizations = new[] { org } }, creator.Token))
            .Is(HttpStatusCode.Accepted).Body!["job_id"]!.GetValue<long>();

        (await fx.Api.GetAsync($"/api/events/jobs/{jobId}", other.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.GetAsync($"/api/events/jobs/{jobId}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        (await fx.Api.GetAsync($"/api/events/jobs/{jobId}")).Is(HttpStatusCode.Unauthorized);
        (await fx.Api.GetAsync("/api/events/jobs/999999999", creator.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("""{"organizations":[]}""", "title")]
    [InlineData("""{"title":"","organizations":[]}""", "title")]
    [InlineData("""{"title":"No organizations"}""", "organizations")]
    public async Task Invalid_payloads_are_400_and_queue_nothing(string body, string field)
    {
        var user = await fx.NewUserAsync();
        var before = await JobCountAsync(user.Id);
        var reply = (await fx.Api.PostAsync("/api/events", body, user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
        Assert.Equal(before, await JobCountAsync(user.Id));
    }

    [Fact]
    public async Task Unknown_organizations_are_400_and_queue_nothing()
    {
        var user = await fx.NewUserAsync();
        var reply = (await fx.Api.PostAsync("/api/events", new { title = "Nobody organizes", organizations = UnknownOrganization }, user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "unknown_organization");
        Assert.NotNull(reply.Body!["errors"]!["organizations"]);
        Assert.Equal(0, await JobCountAsync(user.Id));
    }

    [Fact]
    public async Task An_image_is_judged_by_its_bytes_not_its_name()
    {
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        (await fx.Api.PostAsync("/api/events", Form("PNG named txt", org, EventsTestData.Png, "poster.txt", "text/plain"), user.Token)).Is(HttpStatusCode.Accepted);
        (await fx.Api.PostAsync("/api/events", Form("Text named png", org, "just text, not an image"u8.ToArray(), "poster.png", "image/png"), user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "unsupported_image");
        Assert.Equal(1, await JobCountAsync(user.Id));
    }

    [Fact]
    public async Task An_image_sent_as_a_text_field_is_400_naming_image()
    {
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("Poster as text"), "title" },
            { new StringContent(org.ToString(System.Globalization.CultureInfo.InvariantCulture)), "organizations" },
            { new StringContent("https://example.com/poster.png"), "image" },
        };
        var reply = (await fx.Api.PostAsync("/api/events", form, user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["image"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(0, await JobCountAsync(user.Id));
    }

    [Fact]
    public async Task A_multipart_create_repeated_with_its_Idempotency_Key_replays_although_the_boundary_is_new()
    {
        // Every form a client library builds gets a fresh random boundary, so a retried upload is never byte-identical.
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var first = (await fx.Api.PostAsync("/api/events", Form("Retried poster", org, EventsTestData.Png, "p.png", "image/png"), user.Token, key))
            .Is(HttpStatusCode.Accepted);

        var again = (await fx.Api.PostAsync("/api/events", Form("Retried poster", org, EventsTestData.Png, "p.png", "image/png"), user.Token, key))
            .Is(HttpStatusCode.Accepted);
        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        Assert.Equal(first.Body!["job_id"]!.GetValue<long>(), again.Body!["job_id"]!.GetValue<long>());
        Assert.Equal(1, await JobCountAsync(user.Id));

        (await fx.Api.PostAsync("/api/events", Form("Another title", org, EventsTestData.Png, "p.png", "image/png"), user.Token, key))
            .IsProblem(HttpStatusCode.Conflict, "idempotency_key_reused");
        (await fx.Api.PostAsync("/api/events", Form("Retried poster", org, [.. EventsTestData.Png, 0], "p.png", "image/png"), user.Token, key))
            .IsProblem(HttpStatusCode.Conflict, "idempotency_key_reused");
        Assert.Equal(1, await JobCountAsync(user.Id));
    }

    [Fact]
    public async Task Anonymous_creation_is_401()
    {
        (await fx.Api.PostAsync("/api/events", new { title = "x", organizations = Array.Empty<long>() })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }

    [Fact]
    public async Task With_a_short_delay_the_event_appears_with_its_image_and_the_job_reports_it()
    {
        await using var host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Events:CreationDelay"] = "00:00:01" });
        var user = await host.Api.SignUpAsync();
        var org = (await host.Api.PostAsync("/api/organizations", new { title = "Poster club" }, user.Token)).Is(HttpStatusCode.Created).Id;
        var accepted = (await host.Api.PostAsync("/api/events", Form("Poster night", org, EventsTestData.Png, "p.png", "image/png"), user.Token)).Is(HttpStatusCode.Accepted);
        var jobId = accepted.Body!["job_id"]!.GetValue<long>();

        Reply? status = null;
        await Eventually.HoldsAsync(async () => (status = await host.Api.GetAsync($"/api/events/jobs/{jobId}", user.Token)).Body!["status"]!.GetValue<string>() == "succeeded",
            () => status?.Body?.ToJsonString() ?? "no answer");
        var created = status!.Body!["event"]!;
        Assert.Equal("Poster night", created["title"]!.GetValue<string>());
        Assert.Equal(org, created["organizations"]![0]!["id"]!.GetValue<long>());
        Assert.Contains(user.Id, created["organizations"]![0]!["users"]!.AsArray().Select(u => u!["id"]!.GetValue<long>()));
        var image = created["image_url"]!.GetValue<string>();
        Assert.Equal("image/png", (await host.Api.GetAsync(image)).Is(HttpStatusCode.OK).Response.Content.Headers.ContentType?.MediaType);
        (await host.Api.GetAsync($"/api/events/{created["id"]!.GetValue<long>()}", user.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_organization_deleted_while_the_event_waits_fails_the_job_with_a_reason_the_creator_can_act_on()
    {
        await using var host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Events:CreationDelay"] = "00:00:02" });
        var user = await host.Api.SignUpAsync();
        var org = (await host.Api.PostAsync("/api/organizations", new { title = "Short-lived club" }, user.Token)).Is(HttpStatusCode.Created).Id;
        var jobId = (await host.Api.PostAsync("/api/events", new { title = "Never held", organizations = new[] { org } }, user.Token))
            .Is(HttpStatusCode.Accepted).Body!["job_id"]!.GetValue<long>();
        (await host.Api.DeleteAsync($"/api/organizations/{org}", user.Token)).Is(HttpStatusCode.NoContent);

        await host.WaitForJobAsync(jobId, j => j.State == "failed");
        var status = (await host.Api.GetAsync($"/api/events/jobs/{jobId}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("failed", status.Body!["status"]!.GetValue<string>());
        Assert.StartsWith("unknown_organization: ", status.Body["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_that_fails_inside_the_service_tells_the_creator_so_without_its_internals()
    {
        await using var host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Events:CreationDelay"] = "00:00:03" });
        var user = await host.Api.SignUpAsync();
        var org = (await host.Api.PostAsync("/api/organizations", new { title = "Broken payload club" }, user.Token)).Is(HttpStatusCode.Created).Id;
        var jobId = (await host.Api.PostAsync("/api/events", new { title = "Unreadable", organizations = new[] { org } }, user.Token))
            .Is(HttpStatusCode.Accepted).Body!["job_id"]!.GetValue<long>();
        // A payload the handler cannot read, on the job's last attempt: a failure of the service, not of the request.
        await host.ScalarAsync<long>("UPDATE jobs SET payload = jsonb_set(payload, '{title}', '5'), max_attempts = 1 WHERE id = @jobId RETURNING id", new { jobId });

        var job = await host.WaitForJobAsync(jobId, j => j.State == "failed");
        Assert.Contains("Exception", job.LastError, StringComparison.Ordinal);
        var status = (await host.Api.GetAsync($"/api/events/jobs/{jobId}", user.Token)).Is(HttpStatusCode.OK);
        var error = status.Body!["error"]!.GetValue<string>();
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
        Assert.Contains("administrator", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restart_between_202_and_run_at_loses_nothing_and_creates_the_event_once()
    {
        var database = await WorkHost.NewDatabaseAsync(fx);
        var settings = new Dictionary<string, string?> { ["Events:CreationDelay"] = "00:00:02" };
        long jobId;
        TestUser user;
        await using (var first = await WorkHost.StartAsync(fx, settings: settings, connectionString: database))
        {
            user = await first.Api.SignUpAsync();
            var org = (await first.Api.PostAsync("/api/organizations", new { title = "Restart club" }, user.Token)).Is(HttpStatusCode.Created).Id;
            jobId = (await first.Api.PostAsync("/api/events", new { title = "Survives restarts", organizations = new[] { org } }, user.Token))
                .Is(HttpStatusCode.Accepted).Body!["job_id"]!.GetValue<long>();
        }

        await using var second = await WorkHost.StartAsync(fx, settings: settings, connectionString: database);
        await second.WaitForJobAsync(jobId, j => j.State == "succeeded");
        Assert.Equal(1L, await second.ScalarAsync<long>("SELECT count(*) FROM events WHERE title = 'Survives restarts'"));
        var status = (await second.Api.GetAsync($"/api/events/jobs/{jobId}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("succeeded", status.Body!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_job_that_runs_twice_still_creates_one_event()
    {
        await using var host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Events:CreationDelay"] = "00:00:00" });
        var user = await host.Api.SignUpAsync();
        var org = (await host.Api.PostAsync("/api/organizations", new { title = "Twice club" }, user.Token)).Is(HttpStatusCode.Created).Id;
        var jobId = (await host.Api.PostAsync("/api/events", new { title = "Only once", organizations = new[] { org } }, user.Token))
            .Is(HttpStatusCode.Accepted).Body!["job_id"]!.GetValue<long>();
        await host.WaitForJobAsync(jobId, j => j.State == "succeeded");

        // As if the worker died after the insert but before recording success: the job runs again.
        await host.ScalarAsync<int>("UPDATE jobs SET state = 'pending', run_at = now(), finished_at = NULL WHERE id = @jobId RETURNING 1", new { jobId });
        await host.ScalarAsync<object>("SELECT pg_notify('slices_jobs', '')");
        await host.WaitForJobAsync(jobId, j => j.State == "succeeded" && j.Attempts >= 1);
        Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM events WHERE creation_job_id = @jobId", new { jobId }));
    }

    private async Task<long> JobCountAsync(long userId)
    {
        await using var conn = new Npgsql.NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM jobs WHERE kind = 'events.create' AND (payload->>'created_by')::bigint = $1", conn)
        {
            Parameters = { new() { Value = userId } },
        };
        return (long)(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
