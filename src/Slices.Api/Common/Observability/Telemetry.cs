using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Slices.Api.Common.Observability;

// The service's own spans and instruments (README "Observability"). Static, like the framework's and Npgsql's: with no
// listener (`Telemetry:Enabled` false) a StartActivity returns null and an Add is a check of one flag.
public static class Telemetry
{
    public const string Name = "Slices";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> JobsFinished = Meter.CreateCounter<long>(
        "slices.jobs.finished", "{job}", "Job runs by kind and outcome: succeeded, retried, failed, deferred, released (shutdown).");

    public static readonly Histogram<double> JobDuration = Meter.CreateHistogram(
        "slices.job.duration", "s", "How long a job's run took, by kind and outcome.", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    public static readonly Counter<long> WebhookAttempts = Meter.CreateCounter<long>(
        "slices.webhook.attempts", "{attempt}", "Webhook delivery attempts by event type and outcome: delivered, failed.");

    public static readonly Counter<long> EmailDeliveries = Meter.CreateCounter<long>(
        "slices.email.deliveries", "{email}", "Emails handed over by transport (smtp, pickup) and outcome: sent, failed.");

    public static readonly UpDownCounter<long> ChatSockets = Meter.CreateUpDownCounter<long>(
        "slices.chat.sockets", "{socket}", "Chat WebSockets open on this instance.");

    public static readonly Counter<long> ChatFrames = Meter.CreateCounter<long>(
        "slices.chat.frames", "{frame}", "Chat messages queued to this instance's sockets by the fan-out.");

    public static readonly Counter<long> CacheLookups = Meter.CreateCounter<long>(
        "slices.cache.lookups", "{lookup}", "Lookups in the NOTIFY-invalidated caches by cache (session, stage) and result (hit, miss).");

    // An outcome on the current span and its metrics' tags: the span is marked an error unless the outcome is a success.
    public static void Outcome(this Activity? activity, string outcome, bool success, string? error = null)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("slices.outcome", outcome);
        if (!success)
        {
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
    }
}
