using Slices.Api.Common;
using Slices.Api.Common.Data;

namespace Slices.Api.Features.Chat;

public static class ChatSetup
{
    public static IServiceCollection AddChat(this IServiceCollection services, ChatSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<ChatConnections>();
        services.AddSingleton<ChatFanout>();
        services.AddHostedService(sp => sp.GetRequiredService<ChatFanout>());
        services.AddPgSubscriber<ChatFanout>();
        return services;
    }
}

// The `Chat:*` settings, read once at start-up (Program.cs): frames a socket may send a second (twice that closes it),
// and frames queued for a socket before a client too slow to drain them is dropped.
public sealed record ChatSettings(int MessagesPerSecond, int SendQueueCapacity)
{
    public static ChatSettings Load(IConfiguration config) => new(
        Settings.Number(config, "Chat:MessagesPerSecond", 20, 1, 10_000),
        Settings.Number(config, "Chat:SendQueueCapacity", 256, 1, 1_000_000));
}
