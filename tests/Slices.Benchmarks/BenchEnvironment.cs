using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Slices.Api.Common.Data;

namespace Slices.Benchmarks;

// A PostgreSQL cluster and the service built in Release, run as a separate process (measured like production),
// with one benchmark user signed in.
public sealed class BenchEnvironment : IAsyncDisposable
{
    public const string Password = "benchmark-password-1";
    private const string SigningKey = "slices-benchmark-signing-key-0123456789-abcdefghij";
    private static readonly string[] RuntimeKnobPrefixes = ["DOTNET_SYSTEM_NET_SOCKETS_", "DOTNET_gc", "DOTNET_GC", "DOTNET_ThreadPool_", "DOTNET_TieredPGO"];
    private Process? service;
    private string directory = null!;
    private int connections;
    private int pool;

    private BenchEnvironment(EmbeddedPostgres pg, string connectionString)
    {
        Postgres = pg;
        ConnectionString = connectionString;
    }

    public EmbeddedPostgres Postgres { get; }

    public string ConnectionString { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string Token { get; private set; } = null!;

    public string AdminToken { get; private set; } = null!;

    public CpuMeter Cpu { get; private set; } = null!;

    // Where HTTP clients connect: loopback TCP, or the unix socket the service listens on (`--transport unix`).
    public string? UnixSocket { get; private set; }

    public static async Task<BenchEnvironment> StartAsync(int connections, int pool, string transport)
    {
        var root = RepositoryRoot();
        var dir = Path.Combine(Path.GetTempPath(), $"slices-bench-{Environment.ProcessId}");
        Console.WriteLine($"Starting PostgreSQL under {dir} ...");
        var pg = await EmbeddedPostgres.StartAsync(Path.Combine(dir, "data"), "slices_bench", NullLogger.Instance, durable: true);
        var env = new BenchEnvironment(pg, pg.ConnectionString("slices_bench"));

        var output = Path.Combine(dir, "api");
        Console.WriteLine("Building the service in Release ...");
        await RunAsync("dotnet", $"build \"{Path.Combine(root, "src", "Slices.Api")}\" -c Release -o \"{output}\" --nologo -v q");

        env.UnixSocket = transport == "unix" ? Path.Combine(dir, "api.sock") : null;
        (env.directory, env.connections, env.pool) = (dir, connections, pool);
        await env.StartServiceAsync(new Dictionary<string, string>());
        env.AdminToken = await env.LogInAsync("admin");
        var username = $"bench_{Guid.NewGuid():N}"[..20];
        (await env.Http.PostAsJsonAsync("/api/auth/signup", new { username, password = Password })).EnsureSuccessStatusCode();
        env.Token = await env.LogInAsync(username);
        return env;
    }

    // (Re)starts the service process with settings added to its environment (e.g. Telemetry__Enabled=false); the
    // database, its seeds and the signed-in users stay. The previous process, if any, is killed first.
    public async Task StartServiceAsync(IReadOnlyDictionary<string, string> settings)
    {
        await StopServiceAsync();
        if (UnixSocket is not null)
        {
            File.Delete(UnixSocket);
        }

        (BaseAddress, var urls) = Listen(UnixSocket);

        var psi = new ProcessStartInfo("dotnet", $"\"{Path.Combine(directory, "api", "Slices.Api.dll")}\" --urls {urls}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.Combine(directory, "api"),
        };
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["ConnectionStrings__Default"] = $"{ConnectionString};Maximum Pool Size={pool}";
        psi.Environment["Jwt__SigningKey"] = SigningKey;
        psi.Environment["Admin__Username"] = "admin";
        psi.Environment["Admin__Password"] = Password;
        psi.Environment["RateLimits__Login__PermitLimit"] = "1000000";
        psi.Environment["RateLimits__PublicWrite__PermitLimit"] = "1000000";
        psi.Environment["RateLimits__Holds__PermitLimit"] = "1000000";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        psi.Environment["Data__Root"] = Path.Combine(directory, "app-data");
        // Runtime knobs given to the benchmark (the load generator) are not passed on to the service: it runs as
        // shipped unless SLICES_SERVICE_X=v in the benchmark's environment sets X=v for it.
        foreach (var knob in psi.Environment.Keys.Where(k => RuntimeKnobPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList())
        {
            psi.Environment.Remove(knob);
        }

        // SLICES_SERVICE_X=v in the benchmark's environment sets X=v for the service only (runtime knobs such as
        // DOTNET_gcServer, measured without also changing the load generator).
        foreach (var (key, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => ((string)e.Key, (string?)e.Value))
                     .Where(e => e.Item1.StartsWith("SLICES_SERVICE_", StringComparison.Ordinal)))
        {
            psi.Environment[key["SLICES_SERVICE_".Length..]] = value;
        }

        foreach (var (key, value) in settings)
        {
            psi.Environment[key] = value;
        }

        service = Process.Start(psi)!;
        Cpu = new CpuMeter(service.Id);
        // The service logs warnings and errors only (Logging__LogLevel__Default above): show every line of both streams.
        service.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[service] {e.Data}"); };
        service.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[service] {e.Data}"); };
        service.BeginOutputReadLine();
        service.BeginErrorReadLine();

        Http?.Dispose();
        Http = new HttpClient(Handler(connections, UnixSocket)) { BaseAddress = BaseAddress };
        await WaitReadyAsync();
    }

    private async Task StopServiceAsync()
    {
        if (service is { HasExited: false })
        {
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
        }

        service?.Dispose();
        service = null;
    }

    // Where a server listens (`--urls`) and what its clients' base address is: a free loopback TCP port, or unixSocket.
    public static (Uri Address, string Urls) Listen(string? unixSocket)
    {
        if (unixSocket is not null)
        {
            return (new Uri("http://localhost"), $"http://unix:{unixSocket}");
        }

        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        return (address, address.ToString());
    }

    // The load generator's handler: up to twice the loops' connections, over TCP or to a unix socket.
    public static SocketsHttpHandler Handler(int connections, string? unixSocket)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10), UseProxy = false, UseCookies = false };
        if (unixSocket is not null)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(unixSocket), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return handler;
    }

    // Access tokens of count new users, signed up one after another (each sign-up hashes a password once).
    public async Task<string[]> NewUserTokensAsync(int count)
    {
        var tokens = new string[count];
        for (var i = 0; i < count; i++)
        {
            var reply = await Http.PostAsJsonAsync("/api/auth/signup", new { username = $"bench_{Guid.NewGuid():N}"[..20], password = Password });
            tokens[i] = (await reply.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonNode>())!["access_token"]!.GetValue<string>();
        }

        return tokens;
    }

    public async Task<string> LogInAsync(string username)
    {
        var reply = await Http.PostAsJsonAsync("/api/auth/login", new { username, password = Password });
        reply.EnsureSuccessStatusCode();
        return (await reply.Content.ReadFromJsonAsync<JsonNode>())!["access_token"]!.GetValue<string>();
    }

    public HttpRequestMessage Request(HttpMethod method, string url, string? token, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    // A PBKDF2 hash in the service's format, computed once and shared by every seeded user.
    public static string PasswordHash()
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(System.Text.Encoding.UTF8.GetBytes(Password), salt, 600_000, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256$600000${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    private async Task WaitReadyAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            try
            {
                if ((await Http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (service!.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {service.ExitCode}.");
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The service did not become ready in 60 s.");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Slices.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run the benchmarks from inside the repository.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<string> RunAsync(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return p.ExitCode == 0 ? await stdout : throw new InvalidOperationException($"{file} {args} failed: {stderr}{await stdout}");
    }

    public async ValueTask DisposeAsync()
    {
        await StopServiceAsync();
        Http?.Dispose();
        await Postgres.StopAsync();
        try
        {
            Directory.Delete(Path.GetDirectoryName(Postgres.DataDirectory)!, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
