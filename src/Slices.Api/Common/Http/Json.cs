using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Slices.Api.Common.Http;

public static class Json
{
    // The contract's JSON: snake_case members, lower-case enum strings, null members written, instants in UTC.
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DecimalsAlsoFromStrings } };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.Converters.Add(new UtcInstantConverter());
        options.Converters.Add(new TimeConverter());
    }

    public static string SnakeCase(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    public static bool IsDecimal(Type type) => (Nullable.GetUnderlyingType(type) ?? type) == typeof(decimal);

    // Decimals (prices) are written as numbers and read from numbers or from numeric strings ("12.50"), the form in
    // which Django REST Framework writes them and its clients send them back. Other numbers stay strict.
    private static void DecimalsAlsoFromStrings(JsonTypeInfo type)
    {
        foreach (var property in type.Properties.Where(p => IsDecimal(p.PropertyType)))
        {
            property.NumberHandling = JsonNumberHandling.AllowReadingFromString;
        }
    }

    // Writes instants as `2026-05-01T18:30:00Z`; reads an ISO 8601 instant (Instants: one without an offset is UTC)
    // and normalises it to UTC, the only offset Npgsql accepts for `timestamptz`.
    private sealed class UtcInstantConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String && Instants.TryParse(reader.GetString(), out var instant)
                ? instant
                : throw new JsonException("Expected an instant in ISO 8601, such as 2026-05-01T18:30:00Z.");

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
    }

    // Times as `HH:MM:SS`; input also accepts `HH:MM`.
    private sealed class TimeConverter : JsonConverter<TimeOnly>
    {
        private static readonly string[] Formats = ["HH:mm:ss", "HH:mm", "HH:mm:ss.FFFFFFF"];

        public override TimeOnly Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            TimeOnly.TryParseExact(reader.GetString(), Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
                ? t
                : throw new JsonException("Expected a time as HH:MM:SS or HH:MM.");

        public override void Write(Utf8JsonWriter writer, TimeOnly value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
    }
}
