using Microsoft.Extensions.Options;
using Slices.Api.Common;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Restaurant;

// The `Restaurant:*` settings.
public sealed class RestaurantOptions : ICheckedSettings
{
    public AccountingOptions Accounting { get; set; } = new();

    // Signs cancel links; unset, a key derived from `Jwt:SigningKey` (HKDF) is used.
    public string? CancelTokenKey { get; set; }

    // The restaurant's clock: times in emails, and the day of `?date=`. An IANA id.
    public string TimeZone { get; set; } = "UTC";

    // A method, not a property: the configuration binder reads properties, and this one may not exist yet.
    public TimeZoneInfo Zone() => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    public IEnumerable<string> Problems()
    {
        if (Accounting.Url is { Length: > 0 } url && !WebhookDelivery.IsHttp(url))
        {
            yield return "Restaurant:Accounting:Url must be an absolute http(s) URL.";
        }

        if (!string.IsNullOrEmpty(Accounting.Url) && string.IsNullOrEmpty(Accounting.Secret))
        {
            yield return "Restaurant:Accounting:Secret is required when Restaurant:Accounting:Url is set.";
        }

        if (CancelTokenKey is { } key && System.Text.Encoding.UTF8.GetByteCount(key) < 32)
        {
            yield return "Restaurant:CancelTokenKey must be at least 32 bytes.";
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            yield return $"Restaurant:TimeZone '{TimeZone}' is not a known time zone.";
        }
    }
}

public sealed class AccountingOptions
{
    // Where reservation events are posted; unset, they are held (see AccountingFeed).
    public string? Url { get; set; }

    // Signs outgoing events and checks incoming callbacks (`X-Signature`).
    public string? Secret { get; set; }
}

public static class RestaurantSetup
{
    // The `Restaurant:*` settings, read and checked once at start-up (Program.cs).
    public static RestaurantOptions Load(IConfiguration config) => Settings.Section<RestaurantOptions>(config, "Restaurant");

    public static IServiceCollection AddRestaurant(this IServiceCollection services, RestaurantOptions options)
    {
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<CancelTokens>();
        services.AddSingleton<AccountingFeed>();
        services.AddSingleton<ReservationNotices>();
        services.AddSingleton<ReservationTransitions>();
        return services;
    }
}
