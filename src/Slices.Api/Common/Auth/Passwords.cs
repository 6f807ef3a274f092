using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using Slices.Api.Common;

namespace Slices.Api.Common.Auth;

// PBKDF2-SHA256 with a per-user salt, stored as `pbkdf2-sha256$iterations$salt$hash` so the cost can rise
// later without breaking old hashes. 600,000 iterations by default (OWASP 2023); the test suite lowers it
// through `Auth:PasswordHashIterations`, which outside the Testing environment may only raise it.
public sealed class Passwords
{
    public const int MinimumIterations = 600_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private readonly int iterations;
    private readonly string dummyHash;

    public Passwords(int iterations)
    {
        this.iterations = iterations;
        dummyHash = Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)));
    }

    // `Auth:PasswordHashIterations`, read once at start-up (Program.cs).
    public static int Iterations(IConfiguration config, IHostEnvironment env)
    {
        var iterations = Settings.Number(config, "Auth:PasswordHashIterations", MinimumIterations, 1, 100_000_000);
        return iterations >= MinimumIterations || env.IsEnvironment("Testing")
            ? iterations
            : throw new StartupException($"Auth:PasswordHashIterations must be at least {MinimumIterations}.");
    }

    public string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"pbkdf2-sha256${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    public bool Verify(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }

        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(parts[2]), n, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    // Spends the same time as a real check, so an unknown account cannot be told from a wrong password.
    public void VerifyNothing(string password) => Verify(password, dummyHash);
}
