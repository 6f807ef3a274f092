using System.Globalization;

namespace Slices.Benchmarks;

public sealed record Options(string Scenario, TimeSpan Duration, TimeSpan Warmup, TimeSpan ServiceWarmup, int Connections, int Pool, int Rows, string Transport, string[] Telemetry)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        static TimeSpan Seconds(string s) =>
            TimeSpan.FromSeconds(double.Parse(s.TrimEnd('s'), CultureInfo.InvariantCulture));

        return new Options(
            Get("--scenario", "all"),
            Seconds(Get("--duration", "20s")),
            Seconds(Get("--warmup", "3s")),
            Seconds(Get("--service-warmup", "15s")),
            int.Parse(Get("--connections", "32"), CultureInfo.InvariantCulture),
            int.Parse(Get("--pool", "32"), CultureInfo.InvariantCulture),
            int.Parse(Get("--rows", "10000"), CultureInfo.InvariantCulture),
            Get("--transport", "tcp") switch
            {
                "tcp" => "tcp",
                "unix" => "unix",
                var other => throw new ArgumentException($"--transport is tcp or unix, not '{other}'."),
            },
            Get("--telemetry", string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is var variants
                && variants.All(v => v.Split('+')[0] is "on" or "off" && v.Split('+').Skip(1).All(e => e.IndexOf('=', StringComparison.Ordinal) > 0))
                ? variants
                : throw new ArgumentException($"--telemetry is a list of on and off (on,off), each optionally with +NAME=VALUE settings for the service (on+OTEL_TRACES_SAMPLER=always_off), not '{Get("--telemetry", string.Empty)}'."));
    }
}
