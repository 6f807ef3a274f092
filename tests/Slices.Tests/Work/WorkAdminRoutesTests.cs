using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Work;

public sealed class WorkAdminRoutesTests(SlicesFixture fx)
{
    public static TheoryData<string, string> Routes => new()
    {
        { "GET", "/api/admin/jobs" },
        { "POST", "/api/admin/jobs/1/retry" },
        { "GET", "/api/admin/webhooks" },
        { "GET", "/api/admin/webhooks/1" },
        { "POST", "/api/admin/webhooks/1/redeliver" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Admin_work_routes_answer_401_to_anonymous_callers_and_403_to_users(string method, string url)
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.SendAsync(new HttpMethod(method), url, null)).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.SendAsync(new HttpMethod(method), url, null, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
    }

    [Theory]
    [InlineData("/api/admin/jobs?state=broken", "state")]
    [InlineData("/api/admin/webhooks?state=sent", "state")]
    [InlineData("/api/admin/jobs?limit=0", "limit")]
    public async Task Unknown_states_and_bad_paging_are_400_naming_the_parameter(string url, string field)
    {
        var reply = (await fx.Api.GetAsync(url, await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
    }

    [Fact]
    public async Task Retrying_or_redelivering_what_does_not_exist_is_404()
    {
        var admin = await fx.AdminTokenAsync();
        (await fx.Api.PostAsync($"/api/admin/jobs/{long.MaxValue}/retry", null, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PostAsync($"/api/admin/webhooks/{long.MaxValue}/redeliver", null, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.GetAsync($"/api/admin/webhooks/{long.MaxValue}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_job_that_succeeded_cannot_be_retried_and_lists_filter_by_state_and_kind()
    {
        var outbox = fx.Host.Services.GetRequiredService<Outbox>();
        long job;
        await using (var conn = new NpgsqlConnection(fx.Database.ConnectionString))
        {
            await conn.OpenAsync(TestContext.Current.CancellationToken);
            var email = await outbox.EmailAsync(conn, null, new EmailMessage($"a-{Guid.NewGuid():N}@example.com", "Hi", "Hello"), TestContext.Current.CancellationToken);
            job = await conn.ExecuteScalarAsync<long>("SELECT job_id FROM outbox_emails WHERE id = @email", new { email });
        }

        var admin = await fx.AdminTokenAsync();
        await Eventually.HoldsAsync(
            async () => (await fx.Api.GetAsync($"/api/admin/jobs?state=succeeded&kind=email.send&limit=500", admin)).Array.Any(j => j!["id"]!.GetValue<long>() == job),
            () => $"job {job} not listed as succeeded");

        var listed = (await fx.Api.GetAsync("/api/admin/jobs?kind=email.send&limit=1", admin)).Is(HttpStatusCode.OK);
        Assert.Equal("email.send", Assert.Single(listed.Array)!["kind"]!.GetValue<string>());
        Assert.True(long.Parse(listed.Header("X-Total-Count")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        (await fx.Api.PostAsync($"/api/admin/jobs/{job}/retry", null, admin)).IsProblem(HttpStatusCode.Conflict, "job_not_failed");
    }

    [Fact]
    public async Task The_openapi_document_describes_the_work_routes_as_admin_only()
    {
        var doc = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!;
        foreach (var (path, method) in new[]
        {
            ("/api/admin/jobs", "get"), ("/api/admin/jobs/{id}/retry", "post"), ("/api/admin/webhooks", "get"),
            ("/api/admin/webhooks/{id}", "get"), ("/api/admin/webhooks/{id}/redeliver", "post"),
        })
        {
            var operation = doc["paths"]?[path]?[method];
            Assert.True(operation is not null, $"{method} {path} is not documented");
            Assert.NotNull(operation["security"]);
            Assert.NotNull(operation["responses"]!["403"]);
        }
    }
}
