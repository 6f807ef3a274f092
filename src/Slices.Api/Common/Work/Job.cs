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

    // Returning records success; throwing schedules a retry with backoff, or fails the job after its last attempt.
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
