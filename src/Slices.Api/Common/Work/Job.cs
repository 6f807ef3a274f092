using System.Text.Json;

namespace Slices.Api.Common.Work;

// One claimed run of a job, as its handler sees it.
// Attempt: 1 on the first run; a job whose worker died runs again with the next number.
public sealed record Job(long Id, string Kind, JsonElement Payload, int Attempt, int MaxAttempts, DateTime RunAt, DateTime CreatedAt)
{
    public bool IsLastAttempt => Attempt >= MaxAttempts;

    // The payload as the record it was enqueued from (snake_case JSON, like the API).
    public T PayloadAs<T>() => Payload.Deserialize<T>(Jobs.JsonOptions)
        ?? throw new PermanentJobFailureException($"Job {Id} ({Kind}) has an empty payload.");
}

// Runs the jobs of one Kind. Any class implementing it in this assembly is registered by
// `AddWork` (scoped: one instance per run). Delivery is at least once: a run may repeat after a crash or a
// lost lease, so make the effect idempotent (a unique key from Id or the payload, a
// compare-and-swap on a state column) and a repeat harmless.
public interface IJobHandler
{
    string Kind { get; }

    // Returning records success; throwing schedules a retry with backoff, or fails the job after its last attempt
    // (JobDeferredException: pending again later, the attempt not counted).
    Task RunAsync(Job job, CancellationToken ct);

    // Called once when the job ends `failed` (its last attempt failed, or its worker died on it).
    Task OnFailedAsync(Job job, string lastError, CancellationToken ct) => Task.CompletedTask;
}

// Thrown by a handler when retrying cannot help (bad payload, the target is gone): the job fails at once.
public sealed class PermanentJobFailureException : Exception
{
    public PermanentJobFailureException()
    {
    }

    public PermanentJobFailureException(string message)
        : base(message)
    {
    }

    public PermanentJobFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

// Thrown by a handler whose job cannot run yet for a reason outside it (a setting this instance lacks): the job goes
// back to `pending`, due again after Delay, with the message as its `last_error`; the run does not count as an attempt,
// so such a job waits as long as it takes instead of failing.
public sealed class JobDeferredException : Exception
{
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromMinutes(1);

    public JobDeferredException()
    {
    }

    public JobDeferredException(string message)
        : base(message)
    {
    }

    public JobDeferredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public JobDeferredException(string message, TimeSpan delay)
        : base(message)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(delay, TimeSpan.Zero);
        Delay = delay;
    }

    public TimeSpan Delay { get; } = DefaultDelay;
}
