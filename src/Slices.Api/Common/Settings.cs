using System.Globalization;

namespace Slices.Api.Common;

// Reads settings once, at start-up, for the Load methods of the settings classes that Program.cs builds before the
// host. A value that does not parse or is out of range is a StartupException naming the key: the service refuses to
// start with one line instead of failing at the first request that reads it. Unset or empty means the default.
public static class Settings
{
    public static TimeSpan Duration(IConfiguration config, string key, TimeSpan fallback, TimeSpan minimum, TimeSpan maximum)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = config[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            throw new StartupException($"{key} must be a duration as [d.]hh:mm:ss, not '{text}'.");
        }

        return value >= minimum && value <= maximum
            ? value
            : throw new StartupException($"{key} must be between {minimum:c} and {maximum:c}, not {value:c}.");
    }

    public static int Number(IConfiguration config, string key, int fallback, int minimum, int maximum)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = config[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new StartupException($"{key} must be a whole number, not '{text}'.");
        }

        return value >= minimum && value <= maximum
            ? value
            : throw new StartupException($"{key} must be between {minimum} and {maximum}, not {value}.");
    }
}
