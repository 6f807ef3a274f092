namespace Slices.Api.Common.Data;

public static class LikePattern
{
    // Escapes LIKE wildcards so a search for "50%" finds "50%", not everything starting with 50.
    public static string Contains(string text) => "%" + Escape(text) + "%";

    public static string Escape(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
