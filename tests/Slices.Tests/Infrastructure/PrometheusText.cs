using System.Globalization;

namespace Slices.Tests.Infrastructure;

// A scrape in the Prometheus text format, read as series (`name{labels}`) and their values.
public sealed class PrometheusText(string text)
{
    public string Text { get; } = text;

    // The sum over every series of metric name that carries all of labels (`job_kind="x"`); 0 when none does.
    public double Sum(string name, params string[] labels) => Series()
        .Where(s => (s.Name == name || s.Name.StartsWith(name + "{", StringComparison.Ordinal)) && labels.All(l => s.Name.Contains(l, StringComparison.Ordinal)))
        .Sum(s => s.Value);

    public bool Has(string name, params string[] labels) => Series()
        .Any(s => s.Name.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l => s.Name.Contains(l, StringComparison.Ordinal)));

    private IEnumerable<(string Name, double Value)> Series() => Text.Split('\n')
        .Where(l => l.Length > 0 && l[0] != '#')
        .Select(l =>
        {
            // `name{labels} value [timestamp]`: the value follows the closing brace (label values may hold spaces).
            var end = l.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : l.IndexOf(' ', StringComparison.Ordinal);
            var value = l[end..].Trim().Split(' ')[0];
            return (l[..end], double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN);
        });
}
