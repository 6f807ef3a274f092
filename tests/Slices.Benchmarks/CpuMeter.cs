using System.Globalization;

namespace Slices.Benchmarks;

// CPU time (user + system) of the service process, of every PostgreSQL process and of this process (with the
// children it ran: pgbench), read from
// /proc: per request, it tells where the cost of a scenario goes, and it is steadier on a shared, noisy host than
// requests/s. Linux only; elsewhere every figure is zero.
public sealed record CpuTimes(double ServiceSeconds, double PostgresSeconds, double LoadSeconds)
{
    public static CpuTimes operator -(CpuTimes a, CpuTimes b) =>
        new(a.ServiceSeconds - b.ServiceSeconds, a.PostgresSeconds - b.PostgresSeconds, a.LoadSeconds - b.LoadSeconds);
}

public sealed record CpuPerRequest(double ServiceUs, double PostgresUs, double LoadUs);

public sealed class CpuMeter(int servicePid)
{
    // USER_HZ: 100 on every Linux this runs on.
    private const double TicksPerSecond = 100;

    public CpuTimes Sample()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new CpuTimes(0, 0, 0);
        }

        double postgres = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Read(Path.Combine(dir, "comm"))?.Trim() == "postgres")
            {
                // With children: the postmaster's count holds the backends that ended meanwhile (pgbench's own).
                postgres += Seconds(pid, withChildren: true);
            }
        }

        return new CpuTimes(Seconds(servicePid), postgres, Seconds(Environment.ProcessId, withChildren: true));
    }

    // CPU seconds of each tiered-compilation thread (".NET Tiered Com…", by thread id) of the service and of this process
    // (the telemetry sink runs here): while one is busy, that process still runs partly unoptimised code and measures
    // slower than it will be once it is done. The runtime ends such a thread when it idles and starts another later,
    // so time is compared thread by thread (JitShare).
    public Dictionary<(int Pid, int Tid), double> JitThreads()
    {
        var threads = new Dictionary<(int, int), double>();
        if (!OperatingSystem.IsLinux())
        {
            return threads;
        }

        foreach (var pid in new[] { servicePid, Environment.ProcessId })
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                if (Read(Path.Combine(task, "comm"))?.StartsWith(".NET Tiered Com", StringComparison.Ordinal) == true
                    && int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
                {
                    threads[(pid, tid)] = Seconds(pid, tid);
                }
            }
        }

        return threads;
    }

    // The busiest tiered-compilation thread's share of a core between two JitThreads() readings `seconds` apart; a
    // thread that has ended meanwhile is not counted (it ended idle), a new one counts from zero.
    public static double JitShare(Dictionary<(int Pid, int Tid), double> before, Dictionary<(int Pid, int Tid), double> after, double seconds) =>
        after.Select(t => (t.Value - before.GetValueOrDefault(t.Key)) / seconds).DefaultIfEmpty(0).Max();

    public static CpuPerRequest PerRequest(CpuTimes used, long requests) => requests == 0
        ? new CpuPerRequest(0, 0, 0)
        : new CpuPerRequest(used.ServiceSeconds * 1e6 / requests, used.PostgresSeconds * 1e6 / requests, used.LoadSeconds * 1e6 / requests);

    // utime + stime of /proc/<pid>/stat (fields 14 and 15; counted after the ")" that ends the command name), and with
    // children cutime + cstime (16, 17): the finished children this process waited for, such as pgbench.
    private static double Seconds(int pid, bool withChildren = false) => Seconds($"/proc/{pid}/stat", withChildren);

    // One thread's: /proc/<pid>/task/<tid>/stat has the same fields.
    private static double Seconds(int pid, int tid) => Seconds($"/proc/{pid}/task/{tid}/stat", withChildren: false);

    private static double Seconds(string path, bool withChildren)
    {
        var stat = Read(path);
        if (stat is null)
        {
            return 0;
        }

        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (withChildren)
        {
            ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        return ticks / TicksPerSecond;
    }

    // A process may end between listing and reading.
    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
