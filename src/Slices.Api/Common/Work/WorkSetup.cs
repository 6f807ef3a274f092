using Microsoft.Extensions.Options;
using Slices.Api.Common.Data;

namespace Slices.Api.Common.Work;

public static class WorkSetup
{
    // The `Work:*` and `Email:*` settings, read and checked once at start-up (Program.cs).
    public static (WorkOptions Work, EmailOptions Email) Load(IConfiguration config, IHostEnvironment env) => (
        Settings.Section<WorkOptions>(config, "Work"),
        Settings.Section<EmailOptions>(config, "Email", o => o.PickupDirectory ??= Path.Combine(Database.DataRoot(config, env), "mail")));

    // The job queue and its workers, the email and webhook outboxes, and every IJobHandler in this
    // assembly (a feature adds a handler class in its own slice file and nothing else).
    public static IServiceCollection AddWork(this IServiceCollection services, WorkOptions work, EmailOptions email)
    {
        services.AddSingleton(Options.Create(work));
        services.AddSingleton(Options.Create(email));
        services.AddSingleton<JobKinds>();
        services.AddSingleton<Jobs>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<JobWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<JobWorker>());
        services.AddPgSubscriber<JobWorker>();
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
