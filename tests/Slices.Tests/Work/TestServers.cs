using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Slices.Tests.Work;

// A real SMTP server on 127.0.0.1 (the SmtpServer package) that keeps every message it accepts.
public sealed class SmtpSink : MessageStore, IAsyncDisposable
{
    private readonly Channel<MimeMessage> received = Channel.CreateUnbounded<MimeMessage>();
    private readonly CancellationTokenSource stop = new();
    private Task running = Task.CompletedTask;

    public int Port { get; private set; }

    // Starts listening on port (a free one when null: a test may bring the server up late).
    public static SmtpSink Start(int? port = null)
    {
        var sink = new SmtpSink { Port = port ?? FreePort() };
        var options = new SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, sink.Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(sink);
        sink.running = new SmtpServer.SmtpServer(options, services).StartAsync(sink.stop.Token);
        return sink;
    }

    public async Task<MimeMessage> NextAsync() =>
        await received.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(15));

    public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        await using var stream = new MemoryStream(buffer.ToArray());
        await received.Writer.WriteAsync(await MimeMessage.LoadAsync(stream, cancellationToken), cancellationToken);
        return SmtpResponse.Ok;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
            // Stopped, as asked.
        }

        stop.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

// A webhook receiver on a real Kestrel listener at 127.0.0.1: records every request (headers and raw body) and
// answers with the next queued status code, 200 once the queue is empty.
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private volatile TaskCompletionSource gate = Open();

    private WebhookReceiver(WebApplication app) => this.app = app;

    public sealed record Received(IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Header(string name) => Headers.TryGetValue(name, out var v) ? v : string.Empty;
    }

    public ConcurrentQueue<Received> Requests { get; } = new();

    public ConcurrentQueue<int> Answers { get; } = new();

    // Answered when Answers is empty.
    public int Otherwise { get; set; } = 200;

    public string Url => app.Urls.First() + "/hook";

    // From now on a request is recorded at once but answered only after Release: a delivery job stays `running` meanwhile.
    public void Hold() => gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => gate.TrySetResult();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            receiver.Requests.Enqueue(new Received(request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray()));
            await receiver.gate.Task;
            var status = receiver.Answers.TryDequeue(out var s) ? s : receiver.Otherwise;
            return status == StatusCodes.Status204NoContent
                ? Results.NoContent()
                : Results.Text($"answer {status} to attempt {receiver.Requests.Count}", statusCode: status);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await app.DisposeAsync();
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
