namespace Slices.Api.Features.Admin.Shell;

// A page of the panel as the navigation and the start page list it.
public sealed record AdminSection(string Href, string Label, string Description);

// The panel's sections, in navigation order. A new page is one file in `Pages/` and one line here.
public static class AdminSections
{
    public static readonly IReadOnlyList<AdminSection> All =
    [
        new("/admin/bookings", "Stage bookings", "Bookings by stage, date and state; deactivate bookings in bulk."),
        new("/admin/users", "Users", "Search users by name, username or email; see a user's groups and role."),
        new("/admin/trainings", "Trainings", "A week of trainings per group, with how many have enrolled."),
        new("/admin/holds", "Holds and waitlists", "Places held for a few minutes and the people waiting, per training and per stage day."),
        new("/admin/events", "Events", "Events by title, date and organization, with their images; an event's organizers and members."),
        new("/admin/organizations", "Organizations", "Search organizations; see an organization's members and events."),
        new("/admin/reservations", "Reservations", "Restaurant reservations by status and day; confirm or cancel them."),
        new("/admin/tables", "Tables", "Restaurant tables, closed ones too; close or reopen a table, set its price."),
        new("/admin/failed", "Failed work", "Webhook deliveries and background jobs that gave up; redeliver or retry them."),
    ];
}
