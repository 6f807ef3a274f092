using System.Globalization;

namespace Slices.Api.Common.Http;

// Instants as the contract writes them: ISO 8601, a `T` (or a space) between date and time, seconds and fraction
// optional, and an offset (`Z`, `+02:00`). An instant sent without an offset is UTC, whatever time zone the server runs
// in; a date alone is its midnight UTC. Other shapes ("01.05.2030 18:30", "May 1 2030") are refused rather than guessed.
public static class Instants
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mmK",
        "yyyy-MM-dd",
    ];

    public static bool TryParse(string? text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParseExact(text, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
}
