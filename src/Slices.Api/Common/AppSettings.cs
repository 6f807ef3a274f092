using Slices.Api.Common.Work;

namespace Slices.Api.Common;

// The `App:*` settings every feature may read, read and checked once at start-up (Program.cs): `App:PublicBaseUrl`,
// where clients reach the service, for the links in emails (a reservation's cancel link, a waitlist offer's hold).
public sealed class AppSettings : ICheckedSettings
{
    public const string DefaultPublicBaseUrl = "http://localhost:9000";

    public string PublicBaseUrl { get; set; } = DefaultPublicBaseUrl;

    public static AppSettings Load(IConfiguration config) => Settings.Section<AppSettings>(config, "App",
        s => s.PublicBaseUrl = string.IsNullOrWhiteSpace(s.PublicBaseUrl) ? DefaultPublicBaseUrl : s.PublicBaseUrl);

    // An absolute link to path (which starts with '/') as a client outside reaches it.
    public string Link(string path) => $"{PublicBaseUrl.TrimEnd('/')}{path}";

    public IEnumerable<string> Problems()
    {
        if (!WebhookDelivery.IsHttp(PublicBaseUrl))
        {
            yield return "App:PublicBaseUrl must be an absolute http(s) URL.";
        }
    }
}
