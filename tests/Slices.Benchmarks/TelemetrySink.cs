using System.Globalization;

namespace Slices.Benchmarks;

// For `--telemetry on`: an OTLP/HTTP receiver in this process that the service exports its spans, metrics and logs to,
// and a scraper that reads the service's /metrics every 15 s, so that what is measured includes the exporting, as in
// production. The receiver only counts what arrives.
public sealed class TelemetrySink : IAsyncDisposable
{
    private static readonly TimeSpan ScrapeInterval = TimeSpan.FromSeconds(15);
    private readonly WebApplication app;
    private readonly Uri address;
    private long received;
    private CancellationTokenSource? scraping;
    private Task scraper = Task.CompletedTask;

    private TelemetrySink(WebApplication app, Uri address)
    {
        this.app = app;
        this.address = address;
    }

    public long ReceivedBytes => Interlocked.Read(ref received);

    public long Scrapes { get; private set; }

    public static async Task<TelemetrySink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var (address, urls) = BenchEnvironment.Listen(null);
        builder.WebHost.UseUrls(urls);
        var app = builder.Build();
        var sink = new TelemetrySink(app, address);
        // An empty protobuf message is a valid Export…ServiceResponse for every signal.
        app.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            Interlocked.Add(ref sink.received, body.Length);
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return sink;
    }

    // The service's environment for a variant: "on" or "off", then any +NAME=VALUE settings added to it
    // (on+OTEL_TRACES_SAMPLER=always_off); for "on", scraping of its metrics address starts.
    public async Task<Dictionary<string, string>> VariantAsync(string variant)
    {
        await StopScrapingAsync();
        var parts = variant.Split('+');
        Dictionary<string, string> settings;
        if (parts[0] == "off")
        {
            settings = new() { ["Telemetry__Enabled"] = "false" };
        }
        else
        {
            var port = BenchEnvironment.FreePort();
            scraping = new CancellationTokenSource();
            scraper = ScrapeAsync(new Uri($"http://127.0.0.1:{port}/metrics"), scraping.Token);
            settings = new()
            {
                ["Telemetry__Enabled"] = "true",
                ["Telemetry__MetricsUrl"] = $"http://127.0.0.1:{port}",
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = address.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            };
        }

        foreach (var extra in parts.Skip(1))
        {
            var eq = extra.IndexOf('=', StringComparison.Ordinal);
            settings[extra[..eq]] = extra[(eq + 1)..];
        }

        return settings;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"OTLP received {ReceivedBytes / 1024.0 / 1024.0:0.0} MiB; {Scrapes} scrapes of /metrics");

    private async Task ScrapeAsync(Uri metrics, CancellationToken ct)
    {
        using var http = new HttpClient();
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(ScrapeInterval, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                using var reply = await http.GetAsync(metrics, ct);
                await reply.Content.ReadAsByteArrayAsync(ct);
                Scrapes++;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                // Not up yet, or stopping.
            }
        }
    }

    private async Task StopScrapingAsync()
    {
        if (scraping is not null)
        {
            await scraping.CancelAsync();
            await scraper;
            scraping.Dispose();
            scraping = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopScrapingAsync();
        await app.DisposeAsync();
    }
}
