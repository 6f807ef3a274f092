using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Reliability;

// The service as a real child process (`dotnet Slices.Api.dll`), so that a test can kill it — not stop it —
// the way a crash or an OOM kill would, or send it SIGTERM as an orchestrator does, and start another over the same database.
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;

    private ServiceProcess(Process process, Uri address)
    {
        this.process = process;
        Address = address;
        Api = new ApiClient(new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) });
    }

    public Uri Address { get; }

    public ApiClient Api { get; }

    // What the process wrote to stdout and stderr (its console log), for a failing test to show.
    public ConcurrentQueue<string> Output { get; } = new();

    public bool HasExited => process.HasExited;

    public static async Task<ServiceProcess> StartAsync(string connectionString, IDictionary<string, string?>? settings = null)
    {
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var dll = Path.Combine(AppContext.BaseDirectory, "Slices.Api.dll");
        var psi = new ProcessStartInfo("dotnet", $"\"{dll}\" --urls {address}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        foreach (var (key, value) in SlicesFixture.TestSettings(connectionString).Concat(settings ?? new Dictionary<string, string?>()))
        {
            psi.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(psi)!;
        var service = new ServiceProcess(process, address);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await service.Api.GetAsync("/health/ready")).Status == HttpStatusCode.OK)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.False(process.HasExited, $"the service exited with {(process.HasExited ? process.ExitCode : 0)}");
            Assert.True(DateTime.UtcNow < deadline, "the service did not become ready in 60 s");
            await Task.Delay(100);
        }
    }

    // SIGKILL: no graceful shutdown, no chance to finish or release anything.
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    // SIGTERM, as `docker stop` or Kubernetes sends it: the service shuts down gracefully. Returns at once.
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    // The exit code, once the process has exited; fails the test (showing the log) when that takes longer than timeout.
    public async Task<int> ExitCodeAsync(TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The service was still running after {timeout.TotalSeconds} s. Its log:\n{string.Join('\n', Output)}");
        }

        return process.ExitCode;
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            Output.Enqueue(line);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await KillAsync();
        }

        Api.Dispose();
        process.Dispose();
    }
}
