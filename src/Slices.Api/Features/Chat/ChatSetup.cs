namespace Slices.Api.Features.Chat;

public static class ChatSetup
{
    public static IServiceCollection AddChat(this IServiceCollection services)
    {
        services.AddSingleton<ChatConnections>();
        services.AddHostedService<ChatFanout>();
        return services;
    }
}
