using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

using Slices.Api.Common;

namespace Slices.Api.Common.Data;

// A private PostgreSQL cluster started from the machine's own binaries: the development default and the
// test fixture's database. As root the server runs as the `postgres` user, because initdb refuses root.
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private readonly string binDir;
    private readonly string dataDir;
    private readonly bool asPostgresUser;
    private readonly ILogger logger;

    private EmbeddedPostgres(string binDir, string dataDir, int port, bool asPostgresUser, ILogger logger)
    {
        this.binDir = binDir;
        this.dataDir = dataDir;
        Port = port;
        this.asPostgresUser = asPostgresUser;
        this.logger = logger;
    }

    public int Port { get; }

    public string DataDirectory => dataDir;

    // Over the server's unix socket when it has one (the data directory), else TCP on 127.0.0.1. Measured in the
    // benchmarks (README "Performance"): the socket serves GET /api/stages/{id} about 25 % faster than loopback TCP.
    public string ConnectionString(string database) =>
        $"Host={SocketDirectory ?? "127.0.0.1"};Port={Port};Username=postgres;Database={database}";

    // The socket lives in the data directory (reachable by the server's user by construction) when its path fits a
    // socket address (107 bytes) and the directory can be quoted for the server's command line.
    private string? SocketDirectory =>
        OperatingSystem.IsWindows() || dataDir.Length + "/.s.PGSQL.65535".Length > 107 || dataDir.Contains('\'', StringComparison.Ordinal)
            ? null
            : dataDir;

    // Starts (initialising on first use) a cluster in dataDir and ensures database.
    public static async Task<EmbeddedPostgres> StartAsync(string dataDir, string database, ILogger logger, bool durable, CancellationToken ct = default)
    {
        var binDir = FindBinDirectory();
        var asPostgres = !OperatingSystem.IsWindows() && Environment.UserName == "root";
        dataDir = Path.GetFullPath(dataDir);
        if (asPostgres && !ReachableByOthers(dataDir))
        {
            var fallback = Path.Combine(Path.GetTempPath(), "slices-pg-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dataDir)))[..12].ToLowerInvariant());
            logger.LogWarning("{DataDir} is not reachable by the postgres user; keeping the PostgreSQL data under {Fallback} instead", dataDir, fallback);
            dataDir = fallback;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(dataDir)!);
        var pg = new EmbeddedPostgres(binDir, dataDir, FreePort(), asPostgres, logger);
        await pg.StopStaleServerAsync(ct);
        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            await pg.InitAsync(ct);
        }

        await pg.StartServerAsync(durable, ct);
        await pg.EnsureDatabaseAsync(database, ct);
        return pg;
    }

    public static string FindBinDirectory()
    {
        try
        {
            var psi = new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var dir = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (p.ExitCode == 0 && File.Exists(Path.Combine(dir, "initdb")))
            {
                return dir;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // pg_config is not installed: fall through to the distribution's versioned folders.
        }

        var newest = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return newest ?? throw new StartupException(
            "No PostgreSQL server binaries found (pg_config --bindir, /usr/lib/postgresql/<version>/bin). Install the PostgreSQL server package or set ConnectionStrings:Default.");
    }

    private static bool ReachableByOthers(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        for (var dir = Path.GetDirectoryName(path); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir) && (File.GetUnixFileMode(dir) & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task InitAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(dataDir);
        if (asPostgresUser)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", dataDir], asPostgres: false, ct);
        }

        await RunAsync(Path.Combine(binDir, "initdb"),
            ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"], asPostgresUser, ct);
    }

    private async Task StopStaleServerAsync(CancellationToken ct)
    {
        // A killed service leaves its server running; stop it so the cluster starts on a port we know.
        if (File.Exists(Path.Combine(dataDir, "postmaster.pid")))
        {
            await RunAsync(Path.Combine(binDir, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"], asPostgresUser, ct, check: false);
        }
    }

    private async Task StartServerAsync(bool durable, CancellationToken ct)
    {
        // timezone=UTC: the database's "today" (current_date) does not follow the host's time zone, as instants do not.
        var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{SocketDirectory}' -c max_connections=300 -c timezone=UTC";
        if (!durable)
        {
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        }

        await RunAsync(Path.Combine(binDir, "pg_ctl"),
            ["-D", dataDir, "-o", options, "-l", Path.Combine(dataDir, "server.log"), "-w", "-t", "60", "start"], asPostgresUser, ct);
        logger.LogInformation("Embedded PostgreSQL listening on 127.0.0.1:{Port} and in {Socket}, data in {DataDir}", Port, SocketDirectory ?? "(no unix socket)", dataDir);
    }

    private async Task EnsureDatabaseAsync(string database, CancellationToken ct)
    {
        await using var conn = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await conn.OpenAsync(ct);
        await using var exists = new Npgsql.NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn) { Parameters = { new() { Value = database } } };
        if (await exists.ExecuteScalarAsync(ct) is null)
        {
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", conn);
            await create.ExecuteNonQueryAsync(ct);
        }
    }

    // Stops a server whose owner died (a killed test run), given its data directory.
    public static Task StopOrphanAsync(string dataDir) =>
        RunAsync(Path.Combine(FindBinDirectory(), "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"],
            !OperatingSystem.IsWindows() && Environment.UserName == "root", CancellationToken.None, check: false);

    // A streaming standby of this cluster (pg_basebackup -R) in dataDir, started on a port of its own: the read-replica
    // tests' standby. The cluster as initdb made it allows this: wal_level replica and a replication line for loopback.
    public async Task<EmbeddedPostgres> StartStandbyAsync(string dataDir, CancellationToken ct = default)
    {
        dataDir = Path.GetFullPath(dataDir);
        Directory.CreateDirectory(dataDir);
        if (asPostgresUser)
        {
            await RunAsync("chown", ["postgres:postgres", dataDir], asPostgres: false, ct);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        await RunAsync(Path.Combine(binDir, "pg_basebackup"),
            ["-D", dataDir, "-R", "-X", "stream", "-c", "fast", "-d", $"host=127.0.0.1 port={Port} user=postgres"], asPostgresUser, ct);
        var standby = new EmbeddedPostgres(binDir, dataDir, FreePort(), asPostgresUser, logger);
        await standby.StartServerAsync(durable: false, ct);
        return standby;
    }

    // Starts the server again on the same port and data after StopAsync (fault tests restart it).
    public Task StartAgainAsync(bool durable, CancellationToken ct = default) => StartServerAsync(durable, ct);

    public async Task StopAsync()
    {
        await RunAsync(Path.Combine(binDir, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], asPostgresUser, CancellationToken.None, check: false);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static async Task RunAsync(string file, IReadOnlyList<string> args, bool asPostgres, CancellationToken ct, bool check = true)
    {
        var psi = asPostgres ? new ProcessStartInfo("runuser") : new ProcessStartInfo(file);
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                psi.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.WorkingDirectory = Path.GetTempPath();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        }
    }
}
