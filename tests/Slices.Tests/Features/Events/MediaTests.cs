using System.Net;
using Microsoft.AspNetCore.Http;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

public sealed class MediaTests(SlicesFixture fx)
{
    [Theory]
    [InlineData("png", "image/png")]
    [InlineData("jpg", "image/jpeg")]
    [InlineData("jpeg", "image/jpeg")]
    [InlineData("webp", "image/webp")]
    public async Task Stored_images_are_public_with_their_content_type_and_nosniff(string extension, string contentType)
    {
        var name = $"{EventsTestData.Tag()}.{extension}";
        await WriteAsync($"tests/{name}", EventsTestData.Png);

        var reply = (await fx.Api.GetAsync($"/media/tests/{name}")).Is(HttpStatusCode.OK);
        Assert.Equal(contentType, reply.Response.Content.Headers.ContentType?.ToString());
        Assert.Equal("nosniff", reply.Header("X-Content-Type-Options"));
        Assert.Equal(EventsTestData.Png, await reply.Response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("/media/tests/absent.png")]
    [InlineData("/media/tests")]
    [InlineData("/media/tests/")]
    [InlineData("/media")]
    [InlineData("/media/tests/page.html")]
    [InlineData("/media/tests/.hidden.png")]
    public async Task Absent_files_directories_other_types_and_dot_files_are_404_problems(string url)
    {
        await WriteAsync("tests/page.html", "<script>alert(1)</script>"u8.ToArray());
        await WriteAsync("tests/.hidden.png", EventsTestData.Png);
        (await fx.Api.GetAsync(url)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("/media/../outside.png")]
    [InlineData("/media/tests/../../outside.png")]
    [InlineData("/media/%2e%2e/outside.png")]
    [InlineData("/media/%2E%2E%2Foutside.png")]
    [InlineData("/media/..%2foutside.png")]
    [InlineData("/media/..%5coutside.png")]
    [InlineData("/media/tests/..%2f..%2foutside.png")]
    public async Task Paths_that_climb_out_of_the_media_root_are_404(string url)
    {
        // The target exists right beside the media root, so only the refusal to climb can keep it out.
        await File.WriteAllBytesAsync(Path.Combine(Path.GetDirectoryName(fx.MediaRoot())!, "outside.png"), EventsTestData.Png, TestContext.Current.CancellationToken);

        // Through a client (which may normalise the path itself) and raw, as a client that does not would send it.
        (await fx.Api.GetAsync(url)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var raw = await fx.Host.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = PathString.FromUriComponent(url);
        }, TestContext.Current.CancellationToken);
        Assert.Equal(StatusCodes.Status404NotFound, raw.Response.StatusCode);
        Assert.Equal("application/problem+json", raw.Response.ContentType);
    }

    [Fact]
    public async Task Media_accepts_only_reads()
    {
        await WriteAsync("tests/readonly.png", EventsTestData.Png);
        var reply = await fx.Api.PostAsync("/media/tests/readonly.png", new { });
        Assert.True(reply.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"POST to media answered {(int)reply.Status}");
        Assert.Equal("application/problem+json", reply.Response.Content.Headers.ContentType?.MediaType);
    }

    private async Task WriteAsync(string relativePath, byte[] bytes)
    {
        var path = Path.Combine(fx.MediaRoot(), relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
    }
}
