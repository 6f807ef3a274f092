using Microsoft.Extensions.Options;
using Slices.Api.Common.Data;

namespace Slices.Api.Common.Work;

public static class WorkSetup
{
    // The job queue and its workers, the email and webhook outboxes, and every IJobHandler in this
    // assembly (a feature adds a handler class in its own slice file and nothing else).
    public static IServiceCollection AddWork(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<WorkOptions>().Bind(config.GetSection("Work"))
            .Validate(o => !o.Problems().Any(), "Invalid Work:* settings (see WorkOptions.Problems).")
            .ValidateOnStart();
        services.AddOptions<EmailOptions>().Bind(config.GetSection("Email"))
            .PostConfigure<IHostEnvironment>((o, env) => o.PickupDirectory ??= Path.Combine(Database.DataRoot(config, env), "mail"))
            .Validate(o => MimeKit.MailboxAddress.TryParse(o.From, out _), "Email:From is not an email address.")
            .ValidateOnStart();
        services.AddSingleton<JobKinds>();
        services.AddSingleton<Jobs>();
        services.AddSingleton<Outbox>();
        services.AddHostedService<JobWorker>();
        services.AddHttpClient(WebhookDelivery.ClientName, c => c.Timeout = WebhookDelivery.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .ConfigureHttpClient(c => c.DefaultRequestHeaders.UserAgent.ParseAdd("Slices-Webhooks/1.0"));

        var handlers = typeof(WorkSetup).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false } && typeof(IJobHandler).IsAssignableFrom(t));
        foreach (var handler in handlers)
        {
            services.AddScoped(typeof(IJobHandler), handler);
        }

        return services;
    }
}
