using FluentValidation;
using Mediator;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Users;

namespace Slices.Api.Features.Admin;

// The panel's sign-in: the same password check as the API's log-in (Credentials, with its lockout), then
// a session row for the cookie to carry. Only admins get one; anyone else is refused before a session exists.
public static class AdminSignIn
{
    public sealed record AdminSignInCommand(string Account, string Password) : ICommand<Result<AdminSession>>;

    public sealed record AdminSession(long UserId, Guid SessionId, string Name);

    public sealed class Validator : AbstractValidator<AdminSignInCommand>
    {
        public Validator()
        {
            RuleFor(x => x.Account).NotEmpty().WithMessage("Give a username or an email.").MaximumLength(254);
            RuleFor(x => x.Password).NotEmpty().WithMessage("Give the password.").MaximumLength(128);
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Credentials credentials, Tokens tokens) : ICommandHandler<AdminSignInCommand, Result<AdminSession>>
    {
        public async ValueTask<Result<AdminSession>> Handle(AdminSignInCommand c, CancellationToken ct)
        {
            var user = await credentials.CheckAsync(c.Account, c.Password, ct);
            if (!user.IsSuccess)
            {
                return user.Failure!;
            }

            return await db.InTransactionAsync<Result<AdminSession>>(async (conn, tx) =>
            {
                var (profile, _) = (await UserProfiles.FindAsync(conn, "u.id = @id", new { id = user.Value }, ct, tx))!.Value;
                if (profile.Role != "admin")
                {
                    return Failure.Forbidden("Only admins may use the admin panel.");
                }

                var session = await tokens.CreateSessionAsync(conn, tx, profile.Id, ct);
                return new AdminSession(profile.Id, session, profile.Username ?? profile.Email ?? c.Account);
            }, ct);
        }
    }
}
