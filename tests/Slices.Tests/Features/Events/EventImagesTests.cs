using Slices.Api.Features.Events;

namespace Slices.Tests.Features.Events;

// The image checks and storage the event creation route relies on, tested directly.
public sealed class EventImagesTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"slices-images-{Guid.NewGuid():N}");

    public static TheoryData<byte[], ImageKind> Images => new()
    {
        { EventsTestData.Png, ImageKind.Png },
        { EventsTestData.Jpeg, ImageKind.Jpeg },
        { EventsTestData.Webp, ImageKind.Webp },
    };

    public static TheoryData<byte[]> NotImages => new()
    {
        Array.Empty<byte>(),
        new byte[] { 0xFF, 0xD8 },
        "GIF89a\u0001\u0000\u0001\u0000"u8.ToArray(),
        "RIFF\u0024\u0000\u0000\u0000WAVEfmt "u8.ToArray(),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"u8.ToArray(),
        "%PDF-1.7\n"u8.ToArray(),
        EventsTestData.Png[1..],
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void JPEG_PNG_and_WebP_are_recognised_by_their_first_bytes(byte[] bytes, ImageKind kind)
    {
        Assert.Equal(kind, EventImages.Detect(bytes));
        Assert.Equal(kind, EventImages.Check(bytes).Value);
    }

    [Theory]
    [MemberData(nameof(NotImages))]
    public void Anything_else_is_unsupported(byte[] bytes)
    {
        Assert.Null(EventImages.Detect(bytes));
        Assert.Equal("unsupported_image", EventImages.Check(bytes).Failure!.Code);
        Assert.Equal(400, EventImages.Check(bytes).Failure!.Status);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public async Task A_saved_image_gets_a_generated_name_with_its_real_extension(byte[] bytes, ImageKind kind)
    {
        using var content = new MemoryStream(bytes);
        var saved = await EventImages.SaveAsync(root, content, TestContext.Current.CancellationToken);
        Assert.Matches($"^events/[0-9a-f]{{32}}\\.{EventImages.Extension(kind)}$", saved.Value);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(root, saved.Value), TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(NotImages))]
    public async Task An_unsupported_upload_leaves_no_file(byte[] bytes)
    {
        using var content = new MemoryStream(bytes);
        var saved = await EventImages.SaveAsync(root, content, TestContext.Current.CancellationToken);
        Assert.Equal("unsupported_image", saved.Failure!.Code);
        Assert.Empty(Files());
    }

    [Fact]
    public async Task Five_mebibytes_are_accepted_and_one_byte_more_is_refused_without_leaving_a_file()
    {
        var limit = new byte[5 * 1024 * 1024];
        EventsTestData.Png.CopyTo(limit, 0);
        using (var exact = new MemoryStream(limit))
        {
            var saved = await EventImages.SaveAsync(root, exact, TestContext.Current.CancellationToken);
            Assert.True(saved.IsSuccess);
            Assert.Equal(limit.Length, new FileInfo(Path.Combine(root, saved.Value)).Length);
            EventImages.Delete(root, saved.Value);
        }

        using var over = new MemoryStream([.. limit, 0]);
        Assert.Equal("unsupported_image", (await EventImages.SaveAsync(root, over, TestContext.Current.CancellationToken)).Failure!.Code);
        Assert.Equal("unsupported_image", EventImages.Check([.. limit, 0]).Failure!.Code);
        Assert.Empty(Files());
    }

    [Fact]
    public void Delete_never_reaches_outside_the_root()
    {
        Directory.CreateDirectory(root);
        var outside = Path.Combine(Path.GetDirectoryName(root)!, $"keep-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(outside, EventsTestData.Png);
        try
        {
            EventImages.Delete(root, $"../{Path.GetFileName(outside)}");
            EventImages.Delete(root, outside);
            Assert.True(File.Exists(outside));
        }
        finally
        {
            File.Delete(outside);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private string[] Files() => Directory.Exists(root) ? Directory.GetFiles(root, "*", SearchOption.AllDirectories) : [];
}
