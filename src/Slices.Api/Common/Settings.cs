using System.Globalization;

namespace Slices.Api.Common;

// A settings section bound as a whole (Settings.Section) that can say what is wrong with it, each problem naming its key.
public interface ICheckedSettings
{
    IEnumerable<string> Problems();
}

// Reads settings once, at start-up, for the Load methods of the settings classes that Program.cs builds before the
// host. A value that does not parse or is out of range is a StartupException naming the key: the service refuses to
// start with one line instead of failing at the first request that reads it. Unset or empty means the default.
public static class Settings
{
    // Binds the section to a new T as IOptions would, lets complete fill in what comes from elsewhere, then asks T
    // for its problems. A value the binder cannot convert ("Failed to convert configuration value 'x' at 'Work:Concurrency'
    // to type 'System.Int32'.") or any problem is a StartupException; several problems make one line.
    public static T Section<T>(IConfiguration config, string section, Action<T>? complete = null) where T : ICheckedSettings, new()
    {
        ArgumentNullException.ThrowIfNull(config);
        var value = new T();
        try
        {
            config.GetSection(section).Bind(value);
        }
        catch (InvalidOperationException e)
        {
            throw new StartupException(e.Message);
        }

        complete?.Invoke(value);
        var problems = value.Problems().ToList();
        return problems.Count == 0 ? value : throw new StartupException(string.Join(" ", problems));
    }

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
