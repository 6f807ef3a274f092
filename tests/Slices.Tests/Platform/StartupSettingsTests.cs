using System.Diagnostics;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Platform;

// Settings read at start-up: a bad value stops the service before it serves anything, with one line on stderr that
// names the key, and exit code 1. The service runs as a real process (`dotnet Slices.Api.dll`), as an operator starts it,
// with a working database, so that a service that ignored the value would start and be caught doing so.
public sealed class StartupSettingsTests(SlicesFixture fx)
{
    private async Task<(int ExitCode, string[] Errors)> StartWithAsync(string key, string value)
    {
        var psi = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "Slices.Api.dll")}\" --urls http://127.0.0.1:0")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        foreach (var (k, v) in SlicesFixture.TestSettings(fx.Database.ConnectionString).Append(new(key, value)))
        {
            psi.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The service started with {key}={value} instead of refusing to.");
        }

        await stdout;
        return (process.ExitCode, (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Theory]
    [InlineData("Events:CreationDelay", "soon", "Events:CreationDelay must be a duration as [d.]hh:mm:ss, not 'soon'.")]
    [InlineData("Events:CreationDelay", "-00:00:01", "Events:CreationDelay must be between 00:00:00 and 7.00:00:00, not -00:00:01.")]
    [InlineData("Housekeeping:Interval", "00:00:00", "Housekeeping:Interval must be between 00:00:01 and 1.00:00:00, not 00:00:00.")]
    [InlineData("Housekeeping:BatchSize", "lots", "Housekeeping:BatchSize must be a whole number, not 'lots'.")]
    [InlineData("Housekeeping:JobRetention", "00:05:00", "Housekeeping:JobRetention must be between 01:00:00 and 3650.00:00:00, not 00:05:00.")]
    [InlineData("Housekeeping:RefreshTokenRetention", "-1.00:00:00", "Housekeeping:RefreshTokenRetention must be between 00:00:00 and 3650.00:00:00, not -1.00:00:00.")]
    [InlineData("Auth:PasswordHashIterations", "many", "Auth:PasswordHashIterations must be a whole number, not 'many'.")]
    [InlineData("Jwt:AccessTokenLifetime", "short", "Jwt:AccessTokenLifetime must be a duration as [d.]hh:mm:ss, not 'short'.")]
    [InlineData("Jwt:RefreshTokenLifetime", "00:00:30", "Jwt:RefreshTokenLifetime must be between 00:01:00 and 3650.00:00:00, not 00:00:30.")]
    [InlineData("RateLimits:Login:PermitLimit", "lots", "RateLimits:Login:PermitLimit must be a whole number, not 'lots'.")]
    [InlineData("RateLimits:PublicWrite:Window", "00:00:00", "RateLimits:PublicWrite:Window must be between 00:00:01 and 1.00:00:00, not 00:00:00.")]
    [InlineData("Chat:MessagesPerSecond", "fast", "Chat:MessagesPerSecond must be a whole number, not 'fast'.")]
    [InlineData("Chat:SendQueueCapacity", "0", "Chat:SendQueueCapacity must be between 1 and 1000000, not 0.")]
    [InlineData("Work:Concurrency", "two", "Failed to convert configuration value 'two' at 'Work:Concurrency' to type 'System.Int32'.")]
    [InlineData("Work:MaxAttempts", "0", "Work:MaxAttempts must be at least 1.")]
    [InlineData("Email:From", "Slices <no-reply@", "Email:From is not an email address.")]
    [InlineData("Email:Smtp:Port", "70000", "Email:Smtp:Port must be between 1 and 65535.")]
    [InlineData("Restaurant:Accounting:Url", "http://127.0.0.1:9/hook", "Restaurant:Accounting:Secret is required when Restaurant:Accounting:Url is set.")]
    [InlineData("Restaurant:TimeZone", "Mars/Olympus_Mons", "Restaurant:TimeZone 'Mars/Olympus_Mons' is not a known time zone.")]
    [InlineData("App:PublicBaseUrl", "localhost:9000", "App:PublicBaseUrl must be an absolute http(s) URL.")]
    [InlineData("Shutdown:Timeout", "00:00:00", "Shutdown:Timeout must be between 00:00:01 and 00:10:00, not 00:00:00.")]
    [InlineData("Database:MaxReplicaLag", "00:00:00.5", "Database:MaxReplicaLag must be between 00:00:01 and 01:00:00, not 00:00:00.5000000.")]
    [InlineData("ConnectionStrings:ReadReplica", "Hots=standby", "ConnectionStrings:ReadReplica is not a valid connection string: Couldn't set hots (Parameter 'hots')")]
    [InlineData("ConnectionStrings:ReadReplica", "Host=a,,b;Database=slices", "ConnectionStrings:ReadReplica must name its hosts (Host=standby or Host=standby-1,standby-2:5433).")]
    [InlineData("ConnectionStrings:ReadReplica", "Database=slices", "ConnectionStrings:ReadReplica must name its hosts (Host=standby or Host=standby-1,standby-2:5433).")]
    [InlineData("Telemetry:Enabled", "maybe", "Failed to convert configuration value 'maybe' at 'Telemetry:Enabled' to type 'System.Boolean'.")]
    [InlineData("Telemetry:MetricsUrl", "9464", "Telemetry:MetricsUrl must be an http URL with a port and no path (http://0.0.0.0:9464), not '9464'.")]
    [InlineData("Telemetry:MetricsUrl", "http://127.0.0.1:9464/metrics", "Telemetry:MetricsUrl must be an http URL with a port and no path (http://0.0.0.0:9464), not 'http://127.0.0.1:9464/metrics'.")]
    [InlineData("Telemetry:SampleInterval", "00:00:00", "Telemetry:SampleInterval must be between 00:00:00.1 and 01:00:00, not 00:00:00.")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317", "OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) URL, not 'collector:4317'.")]
    public async Task A_bad_value_stops_the_start_up_with_one_line_naming_the_key(string key, string value, string expected)
    {
        var (exitCode, errors) = await StartWithAsync(key, value);

        Assert.Equal(1, exitCode);
        Assert.Equal(expected, Assert.Single(errors));
    }

    [Fact]
    public async Task A_media_root_that_cannot_be_a_folder_stops_the_start_up_naming_it()
    {
        var file = Path.GetTempFileName();
        try
        {
            var root = Path.Combine(file, "media");
            var (exitCode, errors) = await StartWithAsync("Media:Root", root);

            Assert.Equal(1, exitCode);
            Assert.StartsWith($"Media:Root '{root}' cannot be used as a folder: ", Assert.Single(errors), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
