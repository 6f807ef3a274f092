using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

public enum ImageKind
{
    Jpeg,
    Png,
    Webp,
}

// Event images: JPEG, PNG or WebP recognised by their first bytes (never by name or declared content type), at most
// 5 MiB, stored under the media root as `events/<guid>.<ext>`. Anything else is 400 `unsupported_image`.
public static class EventImages
{
    public const long MaxBytes = RequestLimits.MaxUploadBytes;
    public const string Folder = "events";

    private const int HeaderLength = 12;

    public static Failure Unsupported { get; } =
        Failure.BadRequest("unsupported_image", $"image must be a JPEG, PNG or WebP file of at most {MaxBytes / (1024 * 1024)} MiB.");

    // The image format the leading bytes announce, or null.
    public static ImageKind? Detect(ReadOnlySpan<byte> header) => header switch
    {
        [0xFF, 0xD8, 0xFF, ..] => ImageKind.Jpeg,
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => ImageKind.Png,
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => ImageKind.Webp,
        _ => null,
    };

    // Checks a whole image held in memory: a known format and at most MaxBytes.
    public static Result<ImageKind> Check(ReadOnlySpan<byte> content) =>
        content.Length <= MaxBytes && Detect(content) is { } kind ? kind : Unsupported;

    public static string Extension(ImageKind kind) => kind switch
    {
        ImageKind.Jpeg => "jpg",
        ImageKind.Png => "png",
        _ => "webp",
    };

    // Checks and stores an image read from content, returning its path relative to
    // mediaRoot (what `events.image` holds). The file appears under its final name only once
    // complete, so a half-written file is never served; an unsupported or oversized one leaves nothing behind.
    public static async Task<Result<string>> SaveAsync(string mediaRoot, Stream content, CancellationToken ct)
    {
        var header = new byte[HeaderLength];
        var read = await content.ReadAtLeastAsync(header, HeaderLength, throwOnEndOfStream: false, ct);
        if (Detect(header.AsSpan(0, read)) is not { } kind)
        {
            return Unsupported;
        }

        var relative = $"{Folder}/{Guid.NewGuid():N}.{Extension(kind)}";
        var path = Path.Combine(mediaRoot, relative);
        var partial = path + ".part";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            long total;
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await file.WriteAsync(header.AsMemory(0, read), ct);
                total = read;
                var buffer = new byte[81920];
                int n;
                while ((n = await content.ReadAsync(buffer, ct)) > 0)
                {
                    total += n;
                    if (total > MaxBytes)
                    {
                        break;
                    }

                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }

            if (total > MaxBytes)
            {
                File.Delete(partial);
                return Unsupported;
            }

            File.Move(partial, path);
            return relative;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    // Removes a stored image; best effort (a file left behind is only disk space), never outside the root.
    public static void Delete(string mediaRoot, string? relativePath)
    {
        if (string.IsNullOrEmpty(relativePath))
        {
            return;
        }

        var root = Path.GetFullPath(mediaRoot) + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(Path.Combine(root, relativePath));
        if (!path.StartsWith(root, StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort, see above.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
