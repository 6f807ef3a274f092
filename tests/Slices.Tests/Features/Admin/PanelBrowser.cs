using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Admin;

// A real browser on the admin panel: the service on a Kestrel port of 127.0.0.1 (over the suite's database) and
// Debian's headless Chromium driven by Playwright. Playwright never downloads a browser here: it launches
// ChromiumPath, which `.ci/run` installs. Without it the browser tests skip, saying so.
public sealed class PanelBrowser(SlicesFixture fx) : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private WebApplicationFactory<Program>? factory;
    private IPlaywright? playwright;
    private IBrowser? browser;

    public string BaseUrl { get; private set; } = string.Empty;

    // Where the screenshots go: `TestResults/screenshots` at the repository root (git-ignored).
    public static string ScreenshotFolder { get; } = FindScreenshotFolder();

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            return;
        }

        factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Testing");
            foreach (var (key, value) in SlicesFixture.TestSettings(fx.Database.ConnectionString))
            {
                b.UseSetting(key, value);
            }

            b.UseSetting("urls", "http://127.0.0.1:0");
            b.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        });
        factory.UseKestrel();
        factory.StartServer();
        BaseUrl = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    // A fresh browser context (its own cookies) with one page; skips the test when there is no Chromium.
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        if (browser is null)
        {
            Assert.Skip($"Chromium is not installed at {ChromiumPath}: `apt-get install -y chromium chromium-driver` (.ci/run does) to run the browser tests.");
        }

        var context = await browser.NewContextAsync(new() { BaseURL = BaseUrl, ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(10_000);
        return await context.NewPageAsync();
    }

    // Signs in through the form, with the keyboard only, as the suite's admin.
    public static async Task SignInAsync(IPage page, string path = "/admin")
    {
        await page.GotoAsync(path);
        await page.GetByLabel("Username or email").FillAsync(SlicesFixture.AdminUsername);
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(SlicesFixture.AdminPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(url => !url.Contains("/admin/signin", StringComparison.Ordinal));
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
        }

        playwright?.Dispose();
        if (factory is not null)
        {
            await factory.DisposeAsync();
        }
    }

    private static string FindScreenshotFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Slices.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults", "screenshots");
    }
}
