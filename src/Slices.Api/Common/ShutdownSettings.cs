namespace Slices.Api.Common;

// `Shutdown:Timeout`, read once at start-up (Program.cs): how long a stopping host (SIGTERM) waits for in-flight
// requests and WebSocket close handshakes before it cuts off what is left. Keep it below the orchestrator's grace
// period (docker's 10 s unless stop_grace_period says otherwise, Kubernetes' 30 s), after which it kills the process.
public sealed record ShutdownSettings(TimeSpan Timeout)
{
    public static ShutdownSettings Load(IConfiguration config) => new(
        Settings.Duration(config, "Shutdown:Timeout", TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)));
}
