using System.Diagnostics.Metrics;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: AssemblyFixture(typeof(Slices.Tests.Infrastructure.SlicesFixture))]

namespace Slices.Tests.Infrastructure;

// One PostgreSQL and one Alba host for the whole run; tests stay independent through unique data.
public sealed class SlicesFixture : IAsyncLifetime
{
    public const string AdminUsername = "admin";
    public const string AdminPassword = "admin-test-password";

    // Not a secret: a fixed key for the test host only.
    public const string SigningKey = "slices-test-signing-key-0123456789-abcdefghijklmnop";

    private string? adminToken;

    // Every host in this process makes its framework meters (ASP.NET Core's request duration, …) from this one factory,
    // which no host disposes. With a factory of its own each, a host stopping disposes meters named like the ones of the
    // hosts still running, and OpenTelemetry then drops the metric streams all of them share: a running host's
    // /metrics loses those series (open-telemetry/opentelemetry-dotnet#6412). One instance a process, as in production.
    private static readonly IMeterFactory SharedMeters =
        new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public TestDatabase Database { get; private set; } = null!;

    public IAlbaHost Host { get; private set; } = null!;

    public ApiClient Api { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Database = await TestDatabase.StartAsync();
        Host = await StartHostAsync(Database.ConnectionString);
        Api = new ApiClient(Host.Server.CreateClient());
    }

    // A service host over connectionString, configured as the tests need it; services
    // runs after the service's own registrations (test job handlers, a fake clock).
    public static Task<IAlbaHost> StartHostAsync(string connectionString, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        AlbaHost.For<Program>(b =>
        {
            b.UseEnvironment("Testing");
            foreach (var (key, value) in TestSettings(connectionString))
            {
                b.UseSetting(key, value);
            }

            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                b.UseSetting(key, value);
            }

            b.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            b.ConfigureTestServices(s => s.AddSingleton(SharedMeters));
            if (services is not null)
            {
                b.ConfigureTestServices(services);
            }
        });

    public static Dictionary<string, string?> TestSettings(string connectionString) => new()
    {
        ["ConnectionStrings:Default"] = connectionString,
        ["Jwt:SigningKey"] = SigningKey,
        ["Admin:Username"] = AdminUsername,
        ["Admin:Password"] = AdminPassword,
        // PBKDF2 at 600,000 iterations costs ~0.3 s of CPU per sign-up; the suite signs up hundreds of users.
        ["Auth:PasswordHashIterations"] = "1000",
        ["RateLimits:Login:PermitLimit"] = "100000",
        ["RateLimits:PublicWrite:PermitLimit"] = "100000",
        ["RateLimits:Holds:PermitLimit"] = "100000",
        ["Data:Root"] = Path.Combine(Path.GetTempPath(), $"slices-tests-{Environment.ProcessId}-data"),
        // Workers wake on NOTIFY; the poll is the fallback. Retries come quickly so failing deliveries settle within a test.
        ["Work:PollInterval"] = "00:00:00.500",
        ["Work:RetryBaseDelay"] = "00:00:00.050",
        ["Work:RetryMaxDelay"] = "00:00:01",
    };

    // A fresh user with a unique name; tests never share accounts.
    public Task<TestUser> NewUserAsync(string? prefix = null) => Api.SignUpAsync(prefix);

    public async Task<string> AdminTokenAsync()
    {
        return adminToken ??= (await Api.LogInAsync(AdminUsername, AdminPassword)).Token;
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Host.DisposeAsync();
        await Database.DisposeAsync();
    }
}
