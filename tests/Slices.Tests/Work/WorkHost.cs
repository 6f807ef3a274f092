using System.Collections.Concurrent;
using Alba;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Work;

// A service instance over a database of its own, for tests that need their own job handlers, clock or settings
// (the shared host's workers would otherwise take their jobs).
public sealed class WorkHost : IAsyncDisposable
{
    private WorkHost(IAlbaHost host, string connectionString, FakeTimeProvider? clock, LogSink logs)
    {
        Logs = logs;
        Host = host;
        ConnectionString = connectionString;
        Clock = clock;
        Api = new ApiClient(host.Server.CreateClient());
    }

    public IAlbaHost Host { get; }

    public string ConnectionString { get; }

    public ApiClient Api { get; }

    // What the instance logged at Warning or above, shown when a wait fails.
    public LogSink Logs { get; }

    // The instance's clock when the test drives time itself.
    public FakeTimeProvider? Clock { get; }

    public Jobs Jobs => Host.Services.GetRequiredService<Jobs>();

    public Outbox Outbox => Host.Services.GetRequiredService<Outbox>();

    public static async Task<string> NewDatabaseAsync(SlicesFixture fx) => await fx.Database.CreateDatabaseAsync($"work_{Guid.NewGuid():N}");

    // Starts an instance on connectionString (a fresh database when null), on clock when given.
    public static async Task<WorkHost> StartAsync(
        SlicesFixture fx, Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null, string? connectionString = null,
        FakeTimeProvider? clock = null)
    {
        connectionString ??= await NewDatabaseAsync(fx);
        var logs = new LogSink();
        var host = await SlicesFixture.StartHostAsync(connectionString, settings, s =>
        {
            s.AddLogging(l => l.AddProvider(logs));
            services?.Invoke(s);
            if (clock is not null)
            {
                s.AddSingleton<TimeProvider>(clock);
            }
        });
        return new WorkHost(host, connectionString, clock, logs);
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        return conn;
    }

    // Enqueues in a transaction of its own and commits.
    public async Task<long> EnqueueAsync(string kind, object payload, DateTimeOffset? runAt = null, int maxAttempts = 10)
    {
        await using var conn = await OpenAsync();
        await using var tx = await conn.BeginTransactionAsync(TestContext.Current.CancellationToken);
        var id = await Jobs.EnqueueAsync(conn, tx, kind, payload, runAt, maxAttempts, TestContext.Current.CancellationToken);
        await tx.CommitAsync(TestContext.Current.CancellationToken);
        return id;
    }

    public async Task<JobView?> JobAsync(long id)
    {
        await using var conn = await OpenAsync();
        return await Jobs.FindAsync(conn, null, id, TestContext.Current.CancellationToken);
    }

    // Polls the job until until holds; fails the test with its last state after 15 s.
    public async Task<JobView> WaitForJobAsync(long id, Func<JobView, bool> until)
    {
        JobView? last = null;
        await Eventually.HoldsAsync(
            async () =>
            {
                // FakeTimeProvider can miss firing a due timer when one is created on another thread while it
                // advances; advancing by zero fires whatever is due, without moving time.
                Clock?.Advance(TimeSpan.Zero);
                return (last = await JobAsync(id)) is { } j && until(j);
            },
            () => $"job {id}: {last}; logged: {string.Join(" | ", Logs.Lines)}");
        return last!;
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await OpenAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Host.DisposeAsync();
    }
}

public static class Eventually
{
    // Waits for condition, polling every 20 ms, for at most seconds s.
    public static async Task HoldsAsync(Func<Task<bool>> condition, Func<string> describe, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Still not true after {seconds} s: {describe()}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static Task HoldsAsync(Func<bool> condition, Func<string> describe, int seconds = 15) =>
        HoldsAsync(() => Task.FromResult(condition()), describe, seconds);
}

// A job handler for tests: records every run and then does whatever `Body` says.
public sealed class ProbeHandler(string kind, string instance = "") : IJobHandler
{
    public string Kind => kind;

    public ConcurrentQueue<(long JobId, int Attempt, string Instance)> Runs { get; init; } = new();

    public Func<Job, CancellationToken, Task> Body { get; set; } = (_, _) => Task.CompletedTask;

    public int RunsOf(long jobId) => Runs.Count(r => r.JobId == jobId);

    public async Task RunAsync(Job job, CancellationToken ct)
    {
        Runs.Enqueue((job.Id, job.Attempt, instance));
        await Body(job, ct);
    }
}

// Keeps an instance's warnings and errors, so a failing test can say what the workers saw.
public sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                sink.Lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception?.GetType().Name} {exception?.Message}");
            }
        }
    }
}
