using System.Security.Claims;
using System.Text.Json;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("group_members_group_id_fkey", 400, "unknown_group", "A group in 'groups' does not exist.")]

namespace Slices.Api.Features.Users;

// PUT (admin) and PATCH (admin, or yourself without role, groups and is_active) of a profile.
public static class UpdateUser
{
    private static readonly string[] AlwaysReadOnly = ["id", "created_at"];
    private static readonly string[] AdminOnly = ["id", "created_at", "role", "groups", "is_active"];

    public sealed record UserChanges(
        string? Username,
        string? Email,
        string? PhoneNumber,
        string FirstName,
        string LastName,
        string ThirdName,
        DateOnly? BirthDate,
        string Role,
        long[] Groups,
        bool IsActive,
        string? Password,
        string? CurrentPassword)
    {
        public static UserChanges From(UserProfile p) =>
            new(p.Username, p.Email, p.PhoneNumber, p.FirstName, p.LastName, p.ThirdName, p.BirthDate, p.Role, p.Groups, p.IsActive, null, null);
    }

    // Key null means the caller.
    public sealed record ReplaceUserCommand(string? Key, Caller Caller, UserChanges Changes, long? IfMatch) : ICommand<Result<Versioned<UserProfile>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/users/{username}",
                    async Task<Results<Ok<UserProfile>, StatusCodeHttpResult, ProblemHttpResult>> (string username, UserChanges body, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new ReplaceUserCommand(username, user.Caller(), body, ETags.IfMatch(http)), ct)).ToHttp(http))
                .WithName("ReplaceUser").WithTags("Users").WithSummary("Replace a profile, including role, groups and is_active")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .WithProblems();
            app.MapPatch("/api/users/me", PatchAsync)
                .WithName("UpdateMe").WithTags("Users").WithSummary("Change your own names, email, phone, birth date or password (with current_password)")
                .RequireAuthorization()
                .Accepts<UserChanges>("application/json")
                .WithProblems();
            app.MapPatch("/api/users/{username}", PatchAsync)
                .WithName("UpdateUser").WithTags("Users").WithSummary("Change only the members sent (admin, or yourself)")
                .RequireAuthorization()
                .Accepts<UserChanges>("application/json")
                .WithProblems();
        }

        // Both PATCH routes: `/me` has no `username` route value, which means the caller.
        private static Task<Results<Ok<UserProfile>, StatusCodeHttpResult, ProblemHttpResult>> PatchAsync(
            JsonElement patch, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct)
        {
            var key = http.GetRouteValue("username") as string;
            var caller = user.Caller();
            return mediator.MergeAndReplaceAsync(
                http, patch, new GetUser.GetUserQuery(key, caller), UserChanges.From,
                (changes, ifMatch) => new ReplaceUserCommand(key, caller, changes, ifMatch), caller.IsAdmin ? AlwaysReadOnly : AdminOnly, ct);
        }
    }

    public sealed class Validator : AbstractValidator<ReplaceUserCommand>
    {
        public Validator(TimeProvider clock)
        {
            RuleFor(x => x.Changes.Username).NotEmpty().When(x => x.Changes.Email is null).WithMessage("Give a username or an email.").OverridePropertyName("username");
            RuleFor(x => x.Changes.Username).ValidUsername().OverridePropertyName("username");
            RuleFor(x => x.Changes.Email).ValidEmail().OverridePropertyName("email");
            RuleFor(x => x.Changes.PhoneNumber).ValidPhone().OverridePropertyName("phone_number");
            RuleFor(x => x.Changes.FirstName).NotNull().ValidName().OverridePropertyName("first_name");
            RuleFor(x => x.Changes.LastName).NotNull().ValidName().OverridePropertyName("last_name");
            RuleFor(x => x.Changes.ThirdName).NotNull().ValidName().OverridePropertyName("third_name");
            RuleFor(x => x.Changes.BirthDate).ValidBirthDate(clock).OverridePropertyName("birth_date");
            RuleFor(x => x.Changes.Role).Must(r => r is "user" or "admin").WithMessage("role must be 'user' or 'admin'.").OverridePropertyName("role");
            RuleFor(x => x.Changes.Groups).NotNull().OverridePropertyName("groups");
            RuleFor(x => x.Changes.Password).ValidPassword().OverridePropertyName("password");
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Passwords passwords, SessionCache sessions, TimeProvider clock) : ICommandHandler<ReplaceUserCommand, Result<Versioned<UserProfile>>>
    {
        private const string Update = $"""
            UPDATE users SET username = @Username, email = @Email, phone_number = @PhoneNumber, first_name = @FirstName,
                last_name = @LastName, third_name = @ThirdName, birth_date = @BirthDate, role = @Role, is_active = @IsActive,
                password_hash = coalesce(@Hash, password_hash)
            WHERE id = @Id AND {ETags.Guard}
            """;

        // Read under the user's row lock: every membership write locks the user's row before it touches group_members, so
        // these are the memberships UserProfiles.SetGroups changes, and they stay so until the commit.
        private const string Memberships = "SELECT group_id FROM group_members WHERE user_id = @Id";

        private const string EndSessions = "UPDATE sessions SET revoked_at = @now WHERE user_id = @Id AND revoked_at IS NULL";

        public async ValueTask<Result<Versioned<UserProfile>>> Handle(ReplaceUserCommand c, CancellationToken ct)
        {
            long? changedAccess = null;
            var result = await db.InTransactionAsync<Result<Versioned<UserProfile>>>(async (conn, tx) =>
            {
                var target = c.Key is null
                    ? await UserProfiles.FindAsync(conn, "u.id = @id", new { id = c.Caller.Id }, ct, tx)
                    : await UserProfiles.FindAsync(conn, $"{UserProfiles.ByKey} AND (@admin OR u.id = @id)", new { key = c.Key, admin = c.Caller.IsAdmin, id = c.Caller.Id }, ct, tx);
                if (target is not { Profile: var current, Version: var read })
                {
                    return Failure.NotFound("User");
                }

                if (ETags.IsStale(c.IfMatch, read))
                {
                    return Failure.PreconditionFailed();
                }

                var ch = c.Changes;
                if (!c.Caller.IsAdmin && (ch.Role != current.Role || ch.IsActive != current.IsActive || !ch.Groups.Order().SequenceEqual(current.Groups.Order())))
                {
                    return new Failure(400, "read_only_field", "Only an admin can change role, groups or is_active.");
                }

                // An admin cannot lock themselves out here any more than by DELETE. The id is the row's own, read in this
                // transaction, and never changes, so the comparison needs no lock.
                if (current.Id == c.Caller.Id && !ch.IsActive)
                {
                    return DeactivateUser.DeactivatingSelf;
                }

                if (current.Id == c.Caller.Id && current.Role == "admin" && ch.Role != "admin")
                {
                    return Failure.Conflict("cannot_demote_self", "An admin cannot take away their own admin role.");
                }

                string? hash = null;
                if (ch.Password is not null)
                {
                    if (current.Id == c.Caller.Id && !await CurrentPasswordMatches(conn, tx, current.Id, ch.CurrentPassword, ct))
                    {
                        return Failure.Invalid("current_password", "current_password is missing or wrong.");
                    }

                    hash = passwords.Hash(ch.Password);
                }

                // Only an admin changes memberships; anyone else's profile keeps the ones it has when its row is locked.
                var memberships = c.Caller.IsAdmin ? await LockMembershipsAsync(conn, tx, current, ch.Groups, ct) : null;
                var updated = await conn.ExecuteAsync(new CommandDefinition(Update, new
                {
                    ch.Username, ch.Email, ch.PhoneNumber, ch.FirstName, ch.LastName, ch.ThirdName, ch.BirthDate, ch.Role, ch.IsActive,
                    Hash = hash, Id = current.Id, c.IfMatch,
                }, tx, cancellationToken: ct));
                if (updated == 0)
                {
                    return Failure.PreconditionFailed();
                }

                if (memberships is not null && !memberships.SetEquals(ch.Groups))
                {
                    await conn.ExecuteAsync(new CommandDefinition(UserProfiles.SetGroups, new { Id = current.Id, ch.Groups }, tx, cancellationToken: ct));
                }

                if (!ch.IsActive)
                {
                    await conn.ExecuteAsync(new CommandDefinition(EndSessions, new { Id = current.Id, now = clock.GetUtcNow().UtcDateTime }, tx, cancellationToken: ct));
                }

                changedAccess = ch.Role != current.Role || ch.IsActive != current.IsActive ? current.Id : null;
                var (profile, version) = (await UserProfiles.FindAsync(conn, "u.id = @id", new { id = current.Id }, ct, tx))!.Value;
                return new Versioned<UserProfile>(profile, version);
            }, ct);

            // After the commit, so that no request can cache the session again from the old row.
            if (result.IsSuccess && changedAccess is { } id)
            {
                sessions.EvictUser(id);
            }

            return result;
        }

        // Locks in the order every membership write takes (UserProfiles.LockForMembership): the groups joined, the groups
        // left, the user's row. The groups left are known for sure only under the user's row lock, and the profile was read
        // before it: a group joined since then would be left without its share lock, so a training moving into it at the
        // same moment would keep a non-member's place. So the memberships are read again under the lock; if one of them is
        // left but was not locked, the locks go back to the savepoint (PostgreSQL releases the row locks taken after it)
        // and are taken again in order, with that group. Returns the memberships as they stand under the lock.
        private static async Task<HashSet<long>> LockMembershipsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, UserProfile current, long[] groups, CancellationToken ct)
        {
            var leaving = current.Groups.Except(groups).ToArray();
            await tx.SaveAsync("memberships", ct);
            while (true)
            {
                await conn.ExecuteAsync(new CommandDefinition(UserProfiles.LockForMembership, new { groups, leaving, users = new[] { current.Id } }, tx, cancellationToken: ct));
                var memberships = (await conn.QueryAsync<long>(new CommandDefinition(Memberships, new { current.Id }, tx, cancellationToken: ct))).ToHashSet();
                var unlocked = memberships.Except(groups).Except(leaving).ToArray();
                if (unlocked.Length == 0)
                {
                    return memberships;
                }

                await tx.RollbackAsync("memberships", ct);
                leaving = [.. leaving, .. unlocked];
            }
        }

        private async Task<bool> CurrentPasswordMatches(NpgsqlConnection conn, NpgsqlTransaction tx, long id, string? currentPassword, CancellationToken ct)
        {
            var stored = await conn.QuerySingleAsync<string>(new CommandDefinition("SELECT password_hash FROM users WHERE id = @id", new { id }, tx, cancellationToken: ct));
            return currentPassword is not null && passwords.Verify(currentPassword, stored);
        }
    }
}
