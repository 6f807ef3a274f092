using System.Net;
using System.Text.Json.Nodes;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

// Test data for the training schedule, made through the API as an admin: a fresh group per test.
public static class Schedule
{
    public static async Task<long> NewGroupAsync(this SlicesFixture fx, params TestUser[] members)
    {
        var admin = await fx.AdminTokenAsync();
        var group = (await fx.Api.PostAsync("/api/groups", new { name = $"group {Guid.NewGuid():N}", description = "test" }, admin))
            .Is(HttpStatusCode.Created).Id;
        foreach (var member in members)
        {
            await fx.AddMemberAsync(group, member);
        }

        return group;
    }

    public static async Task AddMemberAsync(this SlicesFixture fx, long group, TestUser member) =>
        (await fx.Api.PostAsync($"/api/groups/{group}/users", new { user = member.Id }, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created);

    public static async Task<long> NewTrainingAsync(this SlicesFixture fx, long group, string date, int? capacity = null, decimal price = 10m) =>
        (await fx.Api.PostAsync("/api/trainings", new { date, start_time = "18:00", end_time = "19:30", price, group, capacity }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.Created).Id;

    public static async Task<long> MarkAsync(this SlicesFixture fx, long training, TestUser user, string status) =>
        (await fx.Api.PostAsync("/api/attendances", new { training, user = user.Id, status }, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created).Id;

    public static long[] Ids(this Reply reply) => reply.Array.Select(n => n!["id"]!.GetValue<long>()).ToArray();

    public static long[] Longs(this JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
}
