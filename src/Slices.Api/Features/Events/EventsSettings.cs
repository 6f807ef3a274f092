using Slices.Api.Common;
using Slices.Api.Common.Data;

namespace Slices.Api.Features.Events;

// `Events:CreationDelay` and `Media:Root`, read once at start-up (Program.cs) and injected as a singleton.
public sealed class EventsSettings
{
    public static readonly TimeSpan DefaultCreationDelay = TimeSpan.FromMinutes(1);

    // How long an accepted event waits before it is saved (the seed system's rule); 0 to 7 days.
    public required TimeSpan CreationDelay { get; init; }

    // The absolute media folder, created at start-up.
    public required string MediaRoot { get; init; }

    // A relative `Media:Root` is taken from the content root; default `<Data:Root>/media`.
    public static EventsSettings Load(IConfiguration config, IHostEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(env);
        var delay = Settings.Duration(config, "Events:CreationDelay", DefaultCreationDelay, TimeSpan.Zero, TimeSpan.FromDays(7));
        var configured = config["Media:Root"] is { Length: > 0 } root ? root : Path.Combine(Database.DataRoot(config, env), "media");
        try
        {
            var media = Path.GetFullPath(configured, env.ContentRootPath);
            Directory.CreateDirectory(media);
            return new EventsSettings { CreationDelay = delay, MediaRoot = media };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new StartupException($"Media:Root '{configured}' cannot be used as a folder: {e.Message}");
        }
    }
}
