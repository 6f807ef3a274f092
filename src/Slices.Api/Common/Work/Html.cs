using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Slices.Api.Common.Work;

// HTML that is safe to send as is: built by Format, or a constant marked with Raw.
public sealed record TrustedHtml(string Value)
{
    public override string ToString() => Value;
}

// Email templates are interpolated strings: `Html.Format($"<p>Dear {name},</p>")` HTML-encodes every
// value it inserts (names and comments are user input), except TrustedHtml fragments, which
// are inserted as they are so templates can be composed.
public static class Html
{
    // Letters of every script stay readable; markup characters and quotes are always encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    public static TrustedHtml Format(ref HtmlInterpolatedStringHandler html) => new(html.ToStringAndClear());

    // For markup the code itself wrote; never for anything that came from a request.
    public static TrustedHtml Raw(string trusted) => new(trusted);

    public static string Encode(string? text) => text is null ? string.Empty : Encoder.Encode(text);

    // A minimal HTML document around body, with title encoded.
    public static TrustedHtml Document(string title, TrustedHtml body) => Format($"""
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>{title}</title></head>
        <body style="font-family: sans-serif; line-height: 1.5">
        {body}
        </body></html>
        """);
}

[InterpolatedStringHandler]
public ref struct HtmlInterpolatedStringHandler
{
    private DefaultInterpolatedStringHandler inner;

    public HtmlInterpolatedStringHandler(int literalLength, int formattedCount)
    {
        inner = new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture);
    }

    public void AppendLiteral(string literal) => inner.AppendLiteral(literal);

    public void AppendFormatted(TrustedHtml? html) => inner.AppendLiteral(html?.Value ?? string.Empty);

    public void AppendFormatted<T>(T value) => AppendFormatted(value, null);

    public void AppendFormatted<T>(T value, string? format)
    {
        if (value is TrustedHtml html)
        {
            inner.AppendLiteral(html.Value);
            return;
        }

        var text = value is IFormattable f ? f.ToString(format, CultureInfo.InvariantCulture) : value?.ToString();
        inner.AppendLiteral(Html.Encode(text));
    }

    public string ToStringAndClear() => inner.ToStringAndClear();
}
