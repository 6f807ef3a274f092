using System.Net;
using System.Net.Http.Headers;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

// Images reach an event through multipart PUT/PATCH (admin) and are served from /media.
public sealed class EventImageUploadTests(SlicesFixture fx)
{
    [Fact]
    public async Task An_image_is_recognised_by_its_bytes_stored_served_replaced_and_removed_with_the_event()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var first = await fx.NewOrganizationAsync(user.Token);
        var second = await fx.NewOrganizationAsync(user.Token);
        var id = await fx.InsertEventAsync(user.Id, "Poster", null, first);

        // Named .txt and declared text/plain: the bytes say PNG, and that is what counts.
        var png = (await fx.Api.PatchAsync($"/api/events/{id}", Form(("title", "With poster"), ("organizations", $"{first},{second}")).WithFile(EventsTestData.Png, "poster.txt", "text/plain"), admin))
            .Is(HttpStatusCode.OK);
        var pngUrl = png.Body!["image_url"]!.GetValue<string>();
        Assert.Matches("^/media/events/[0-9a-f]{32}\\.png$", pngUrl);
        Assert.Equal("With poster", png.Body["title"]!.GetValue<string>());
        Assert.Equal([first, second], png.Body["organizations"]!.AsArray().Select(o => o!["id"]!.GetValue<long>()));

        var served = await fx.Api.GetAsync(pngUrl);
        served.Is(HttpStatusCode.OK);
        Assert.Equal("image/png", served.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", served.Header("X-Content-Type-Options"));
        Assert.Equal(EventsTestData.Png, await served.Response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));

        // Text dressed up as a PNG is refused, and neither the event nor the media folder changes.
        var files = Directory.GetFiles(Path.Combine(fx.MediaRoot(), "events")).Length;
        (await fx.Api.PatchAsync($"/api/events/{id}", Form(("title", "Fake")).WithFile("<script>alert(1)</script>"u8.ToArray(), "evil.png", "image/png"), admin))
            .IsProblem(HttpStatusCode.BadRequest, "unsupported_image");
        var unchanged = (await fx.Api.GetAsync($"/api/events/{id}", admin)).Is(HttpStatusCode.OK);
        Assert.Equal(pngUrl, unchanged.Body!["image_url"]!.GetValue<string>());
        Assert.Equal("With poster", unchanged.Body["title"]!.GetValue<string>());
        Assert.True(Directory.GetFiles(Path.Combine(fx.MediaRoot(), "events")).Length <= files, "a refused upload left a file behind");

        var jpeg = (await fx.Api.PutAsync($"/api/events/{id}", Form(("title", "JPEG now"), ("organizations", $"{second}"), ("organizations", $"{first}"), ("date", "2031-04-01"))
            .WithFile(EventsTestData.Jpeg, "photo", "application/octet-stream"), admin)).Is(HttpStatusCode.OK);
        var jpegUrl = jpeg.Body!["image_url"]!.GetValue<string>();
        Assert.EndsWith(".jpg", jpegUrl, StringComparison.Ordinal);
        Assert.Equal("2031-04-01", jpeg.Body["date"]!.GetValue<string>());
        Assert.Equal("image/jpeg", (await fx.Api.GetAsync(jpegUrl)).Is(HttpStatusCode.OK).Response.Content.Headers.ContentType?.MediaType);
        (await fx.Api.GetAsync(pngUrl)).IsProblem(HttpStatusCode.NotFound, "not_found");

        // A JSON change keeps the image.
        var kept = (await fx.Api.PatchAsync($"/api/events/{id}", new { title = "Still JPEG" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(jpegUrl, kept.Body!["image_url"]!.GetValue<string>());

        (await fx.Api.DeleteAsync($"/api/events/{id}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync(jpegUrl)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_webp_image_is_served_as_webp()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var id = await fx.InsertEventAsync(user.Id, "WebP", null);
        var reply = (await fx.Api.PatchAsync($"/api/events/{id}", Form().WithFile(EventsTestData.Webp, "a.jpg", "image/jpeg"), admin)).Is(HttpStatusCode.OK);
        var url = reply.Body!["image_url"]!.GetValue<string>();
        Assert.EndsWith(".webp", url, StringComparison.Ordinal);
        Assert.Equal("image/webp", (await fx.Api.GetAsync(url)).Is(HttpStatusCode.OK).Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Malformed_form_fields_are_400_naming_the_field()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var id = await fx.InsertEventAsync(user.Id, "Form", null);
        var date = (await fx.Api.PatchAsync($"/api/events/{id}", Form(("date", "01.04.2031")), admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(date.Body!["errors"]!["date"]);
        var organizations = (await fx.Api.PatchAsync($"/api/events/{id}", Form(("organizations", "1,two")), admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(organizations.Body!["errors"]!["organizations"]);
        var readOnly = (await fx.Api.PatchAsync($"/api/events/{id}", Form(("image_url", "/media/x.png")), admin)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(readOnly.Body!["errors"]!["image_url"]);
    }

    private static MultipartFormDataContent Form(params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return form;
    }
}

internal static class MultipartExtensions
{
    public static MultipartFormDataContent WithFile(this MultipartFormDataContent form, byte[] bytes, string fileName, string contentType)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "image", fileName);
        return form;
    }
}
