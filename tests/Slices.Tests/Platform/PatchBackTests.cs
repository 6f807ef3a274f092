using System.Net;
using System.Text.Json.Nodes;
using Slices.Tests.Features.Events;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Platform;

// A client may PATCH back what GET answered with one member changed: read-only members sent with the value the
// resource holds are ignored; sent with another value, they are still refused by name.
public sealed class PatchBackTests(SlicesFixture fx)
{
    private async Task<JsonObject> PatchBackAsync(string url, string token, string member, JsonNode value)
    {
        var body = (await fx.Api.GetAsync(url, token)).Is(HttpStatusCode.OK).Body!.AsObject();
        body[member] = value;
        var changed = (await fx.Api.PatchAsync(url, body, token)).Is(HttpStatusCode.OK).Body!.AsObject();
        Assert.True(JsonNode.DeepEquals(value, changed[member]), $"{url}: {member} is {changed[member]}");
        return body;
    }

    [Fact]
    public async Task Every_read_only_member_sent_back_unchanged_is_accepted_and_a_changed_one_is_refused()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-11-03");
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        var attendance = await fx.MarkAsync(training, alice, "attended");
        var organization = await fx.NewOrganizationAsync(alice.Token, postcode: "101000", address: "Main street 1");

        // id and users (enrolled: not empty)
        var sent = await PatchBackAsync($"/api/trainings/{training}", admin, "price", 12.5m);
        Assert.Equal([alice.Id], sent["users"].Longs());
        // id, training, user and marked_at
        await PatchBackAsync($"/api/attendances/{attendance}", admin, "status", "excused");
        // id and full_address
        await PatchBackAsync($"/api/organizations/{organization}", alice.Token, "description", "changed");
        // Yourself, not an admin: id and created_at, and role, groups and is_active as they are.
        sent = await PatchBackAsync("/api/users/me", alice.Token, "first_name", "Alice");
        Assert.Equal("user", sent["role"]!.GetValue<string>());
        Assert.NotEmpty(sent["groups"]!.AsArray());

        var read = (await fx.Api.GetAsync($"/api/attendances/{attendance}", admin)).Body!.AsObject();
        read["marked_at"] = "2031-11-03T18:00:00Z";
        var refused = (await fx.Api.PatchAsync($"/api/attendances/{attendance}", read, admin)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.Equal(["marked_at"], refused.Body!["errors"]!.AsObject().Select(e => e.Key));
        var me = (await fx.Api.GetAsync("/api/users/me", alice.Token)).Body!.AsObject();
        me["role"] = "admin";
        (await fx.Api.PatchAsync("/api/users/me", me, alice.Token)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
    }
}
