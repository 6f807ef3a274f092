namespace Slices.Api.Common.Work;

// The `Work:*` settings.
public sealed class WorkOptions : ICheckedSettings
{
    // Jobs one instance runs at a time; 0 turns the workers off (the instance still enqueues).
    public int Concurrency { get; set; } = 2;

    // How often an idle worker looks for due jobs when no notification arrives (NOTIFY is the fast path).
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    // The delay before the first retry; each further retry doubles it, plus up to 50 % jitter.
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    // Attempts a job gets unless its enqueuer says otherwise.
    public int MaxAttempts { get; set; } = 10;

    // How long a claim holds a job without renewal; a worker renews it every third of this while the job runs.
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    public IEnumerable<string> Problems()
    {
        if (Concurrency < 0)
        {
            yield return "Work:Concurrency must be 0 or more.";
        }

        if (PollInterval <= TimeSpan.Zero || RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            yield return "Work:PollInterval and Work:RetryBaseDelay must be positive, Work:RetryMaxDelay at least Work:RetryBaseDelay.";
        }

        if (MaxAttempts < 1)
        {
            yield return "Work:MaxAttempts must be at least 1.";
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1))
        {
            yield return "Work:LeaseDuration must be at least one second.";
        }
    }
}

// The `Email:*` settings.
public sealed class EmailOptions : ICheckedSettings
{
    public string From { get; set; } = "Slices <no-reply@localhost>";

    // Where messages are written as `.eml` files while no SMTP host is configured; default `<Data:Root>/mail`.
    public string? PickupDirectory { get; set; }

    public SmtpOptions Smtp { get; set; } = new();

    public IEnumerable<string> Problems()
    {
        if (!MimeKit.MailboxAddress.TryParse(From, out _))
        {
            yield return "Email:From is not an email address.";
        }

        if (Smtp.Port is < 1 or > 65535)
        {
            yield return "Email:Smtp:Port must be between 1 and 65535.";
        }
    }
}

public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public string? Username { get; set; }

    public string? Password { get; set; }

    // TLS on connect for port 465, STARTTLS otherwise; false sends in the clear (a local relay or test sink).
    public bool UseTls { get; set; } = true;
}
