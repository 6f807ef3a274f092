using System.Diagnostics;

namespace Slices.Benchmarks;

public sealed record Figures(string Scenario, double RequestsPerSecond, double P50Ms, double P95Ms, double P99Ms, double MaxMs, long Requests, long Errors, string Note = "", CpuPerRequest? Cpu = null);

// N concurrent loops, each sending its next request as soon as the last answered (closed model), for a fixed
// time after a warm-up. Every latency is kept (a few million longs at most) and sorted for exact percentiles. The CPU
// time of the service, PostgreSQL and this process over the measured part is reported per request.
public static class LoadRunner
{
    public static async Task<Figures> RunAsync(string scenario, Options o, CpuMeter cpu, Func<int, long, Task<bool>> request, string note = "")
    {
        await RunForAsync(o.Warmup, o.Connections, request, record: false);
        var before = cpu.Sample();
        var figures = await RunForAsync(o.Duration, o.Connections, request, record: true, scenario, note);
        return figures with { Cpu = CpuMeter.PerRequest(cpu.Sample() - before, figures.Requests) };
    }

    private static async Task<Figures> RunForAsync(TimeSpan duration, int connections, Func<int, long, Task<bool>> request, bool record, string scenario = "", string note = "")
    {
        var latencies = new List<long>[connections];
        var errors = new long[connections];
        var stop = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<long>(1 << 14);
            for (long seq = 0; stop.Elapsed < duration; seq++)
            {
                var start = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    ok = await request(w, seq);
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }

                if (record)
                {
                    mine.Add(Stopwatch.GetTimestamp() - start);
                }

                if (!ok)
                {
                    errors[w]++;
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = stop.Elapsed;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double Ms(double q) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(q * all.Length))] * 1000.0 / Stopwatch.Frequency;
        return new Figures(scenario, all.Length / elapsed.TotalSeconds, Ms(0.50), Ms(0.95), Ms(0.99), Ms(1.0), all.Length, errors.Sum(), note);
    }
}
