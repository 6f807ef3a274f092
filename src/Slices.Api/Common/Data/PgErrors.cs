using System.Collections.Frozen;
using System.Reflection;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Data;

// Declares, next to the slice whose SQL can hit it, what a violated constraint means to a client.
// Read once by PgErrors; the mechanism stays here, the meaning stays in the slice.
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class PgConstraintAttribute(string constraint, int status, string code, string detail) : Attribute
{
    public string Constraint { get; } = constraint;
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Detail { get; } = detail;

    // The request member the constraint guards: a `validation_failed` answer then names it in `errors`, as validators do.
    public string? Field { get; init; }
}

public static class PgErrors
{
    private static readonly FrozenDictionary<string, Failure> ByConstraint = typeof(PgErrors).Assembly
        .GetCustomAttributes<PgConstraintAttribute>()
        .ToFrozenDictionary(a => a.Constraint, a => new Failure(a.Status, a.Code, a.Detail, a.Field is { } field ? new Dictionary<string, string[]> { [field] = [a.Detail] } : null));

    // What a constraint violation means to the client, by constraint name; null for anything else.
    public static Failure? Translate(PostgresException e) => e.SqlState switch
    {
        PostgresErrorCodes.UniqueViolation => Known(e) ?? new Failure(409, "duplicate", "A resource with the same unique value already exists."),
        PostgresErrorCodes.ExclusionViolation => Known(e) ?? new Failure(409, "conflict", "The change conflicts with an existing resource."),
        PostgresErrorCodes.ForeignKeyViolation => Known(e) ?? new Failure(400, "invalid_reference", "A referenced resource does not exist or is still in use."),
        PostgresErrorCodes.CheckViolation => Known(e) ?? new Failure(400, "constraint_violated", "A value is outside its allowed range."),
        // Class 22, data exceptions: a value the client sent that PostgreSQL cannot hold (a NUL in text, a number
        // or date out of range). The client's fault, so 400 — never a 500.
        _ when e.SqlState.StartsWith("22", StringComparison.Ordinal) => new Failure(400, "invalid_value", "A value in the request cannot be stored: " + e.MessageText),
        _ => null,
    };

    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
        _ => false,
    };

    // The database cannot be reached or is going down: the client should retry later.
    public static bool IsUnavailable(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npg => npg.IsTransient || npg.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException,
        _ => false,
    };

    private static Failure? Known(PostgresException e) =>
        e.ConstraintName is { } name && ByConstraint.TryGetValue(name, out var failure) ? failure : null;
}
