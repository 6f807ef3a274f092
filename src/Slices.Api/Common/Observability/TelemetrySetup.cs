using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Slices.Api.Common.Observability;

// The `Telemetry:*` settings, and `OTEL_EXPORTER_OTLP_ENDPOINT`, read and checked once at start-up (Program.cs).
public sealed class TelemetrySettings : ICheckedSettings
{
    // Off: no tracer or meter provider, no /metrics, no backlog sampling (the benchmark compares both).
    public bool Enabled { get; set; } = true;

    // Where Kestrel also listens to answer GET /metrics (e.g. http://0.0.0.0:9464); /metrics is served on no other
    // address, and nothing else is served on this one. None: no Prometheus endpoint.
    public string? MetricsUrl
    {
        get;
        set
        {
            field = value;
            // Asked on every request: parsed once.
            MetricsPort = Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri.Port : null;
        }
    }

    // How often the job queue and outbox gauges are read from PostgreSQL.
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(15);

    // From OTEL_EXPORTER_OTLP_ENDPOINT: traces, metrics and logs are pushed there when it is set.
    public string? OtlpEndpoint { get; set; }

    public int? MetricsPort { get; private set; }

    public IEnumerable<string> Problems()
    {
        if (MetricsUrl is not null
            && !(Uri.TryCreate(MetricsUrl, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.Port > 0
                 && !uri.IsDefaultPort && uri.AbsolutePath == "/"))
        {
            yield return $"Telemetry:MetricsUrl must be an http URL with a port and no path (http://0.0.0.0:9464), not '{MetricsUrl}'.";
        }

        if (MetricsUrl is not null && !Enabled)
        {
            yield return "Telemetry:MetricsUrl needs Telemetry:Enabled.";
        }

        if (SampleInterval < TimeSpan.FromMilliseconds(100) || SampleInterval > TimeSpan.FromHours(1))
        {
            yield return $"Telemetry:SampleInterval must be between 00:00:00.1 and 01:00:00, not {SampleInterval:c}.";
        }

        if (OtlpEndpoint is not null && !(Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var otlp) && (otlp.Scheme == Uri.UriSchemeHttp || otlp.Scheme == Uri.UriSchemeHttps)))
        {
            yield return $"OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) URL, not '{OtlpEndpoint}'.";
        }
    }
}

public static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";

    public static TelemetrySettings Load(IConfiguration config) => Settings.Section<TelemetrySettings>(config, "Telemetry", s =>
    {
        s.MetricsUrl = string.IsNullOrWhiteSpace(s.MetricsUrl) ? null : s.MetricsUrl;
        s.OtlpEndpoint = string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_ENDPOINT"]) ? null : config["OTEL_EXPORTER_OTLP_ENDPOINT"];
    });

    // Console logs: one JSON object a line in Production, with the scopes, among them the trace and span ids of the
    // request or job that wrote the line; the plain console format elsewhere.
    public static ILoggingBuilder AddSlicesConsole(this ILoggingBuilder logging, IHostEnvironment env)
    {
        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        return env.IsProduction()
            ? logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            })
            : logging.AddConsole();
    }

    // Kestrel's addresses: the service's own (`urls`, else `http_ports`, else the default Program.cs set) and the metrics one.
    public static string ListenUrls(IConfiguration config, string metricsUrl)
    {
        var urls = config["urls"] is { Length: > 0 } configured
            ? configured
            : string.Join(';', (config["http_ports"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"));
        return $"{urls};{metricsUrl}";
    }

    public static IServiceCollection AddSlicesTelemetry(this IServiceCollection services, TelemetrySettings settings, IConfiguration config)
    {
        services.AddSingleton(settings);
        if (!settings.Enabled)
        {
            return services;
        }

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(config["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "slices-api"))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsMetricsRequest(http, settings))
                .AddNpgsql()
                .AddSource(Telemetry.Name)
                // HttpClient's own spans: the webhook POSTs.
                .AddSource("System.Net.Http"))
            .WithMetrics(m =>
            {
                // Of ASP.NET Core's meters only requests and connections: the others (memory pool, routing,
                // authentication, authorization) record on every request and were not asked for.
                m.AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                    .AddNpgsqlInstrumentation()
                    .AddMeter(Telemetry.Name, "System.Net.Http", "System.Runtime");
                if (settings.MetricsUrl is not null)
                {
                    m.AddPrometheusExporter();
                }
            });
        if (settings.OtlpEndpoint is not null)
        {
            // Reads OTEL_EXPORTER_OTLP_ENDPOINT, …_PROTOCOL, …_HEADERS itself.
            otel.UseOtlpExporter();
        }

        services.AddHostedService<BacklogSampler>();
        return services;
    }

    // SQL spans only inside a request, job or fan-out: the job workers' polling and the LISTEN connections' pings
    // would otherwise each make a trace of their own every few seconds.
    public static NpgsqlDataSourceBuilder WithSqlTracing(this NpgsqlDataSourceBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureTracing(t => t
            .EnableFirstResponseEvent(false)
            .ConfigureCommandFilter(_ => Activity.Current is not null)
            .ConfigureBatchFilter(_ => Activity.Current is not null));
    }

    // GET /metrics on the metrics address (Prometheus text format); every other request there is 404.
    public static IApplicationBuilder UseMetricsEndpoint(this IApplicationBuilder app, TelemetrySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.MetricsUrl is null
            ? app
            : app.MapWhen(http => IsMetricsRequest(http, settings), metrics => metrics
                .Use((http, next) =>
                {
                    // Scrapes are not requests to the service: kept out of http.server.request.duration.
                    if (http.Features.Get<IHttpMetricsTagsFeature>() is { } tags)
                    {
                        tags.MetricsDisabled = true;
                    }

                    return next(http);
                })
                .UseOpenTelemetryPrometheusScrapingEndpoint(MetricsPath));
    }

    private static bool IsMetricsRequest(HttpContext http, TelemetrySettings settings) =>
        settings.MetricsPort is { } port && http.Connection.LocalPort == port;
}
