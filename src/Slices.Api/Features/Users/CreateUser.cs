using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Users;

public static class CreateUser
{
    public sealed record CreateUserRequest(
        string? Username,
        string? Email,
        string Password,
        string? PhoneNumber,
        string? FirstName,
        string? LastName,
        string? ThirdName,
        DateOnly? BirthDate,
        string? Role,
        long[]? Groups,
        bool? IsActive) : ICommand<UserProfile>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/users",
                async Task<Created<UserProfile>> (CreateUserRequest request, ISender mediator, CancellationToken ct) =>
                {
                    var user = await mediator.Send(request, ct);
                    return TypedResults.Created($"/api/users/{Uri.EscapeDataString(user.Username ?? user.Email!)}", user);
                })
            .WithName("CreateUser").WithTags("Users").WithSummary("Create a user with any role")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateUserRequest>
    {
        public Validator(TimeProvider clock)
        {
            RuleFor(x => x.Username).NotEmpty().When(x => x.Email is null).WithMessage("Give a username or an email.");
            RuleFor(x => x.Username).ValidUsername();
            RuleFor(x => x.Email).ValidEmail();
            RuleFor(x => x.Password).NotEmpty().ValidPassword();
            RuleFor(x => x.PhoneNumber).ValidPhone();
            RuleFor(x => x.FirstName).ValidName();
            RuleFor(x => x.LastName).ValidName();
            RuleFor(x => x.ThirdName).ValidName();
            RuleFor(x => x.BirthDate).ValidBirthDate(clock);
            RuleFor(x => x.Role).Must(r => r is null or "user" or "admin").WithMessage("role must be 'user' or 'admin'.");
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Passwords passwords) : ICommandHandler<CreateUserRequest, UserProfile>
    {
        public async ValueTask<UserProfile> Handle(CreateUserRequest r, CancellationToken ct)
        {
            var hash = passwords.Hash(r.Password);
            var groups = r.Groups ?? [];
            return await db.InTransactionAsync(async (conn, tx) =>
            {
                var id = await UserProfiles.InsertAsync(conn, tx, new UserProfiles.NewAccount(
                    r.Username, r.Email, hash, r.PhoneNumber, r.FirstName, r.LastName, r.ThirdName, r.BirthDate, r.Role ?? "user", r.IsActive ?? true), ct);
                if (groups.Length > 0)
                {
                    await conn.ExecuteAsync(new CommandDefinition(UserProfiles.LockForMembership,
                        new { groups, leaving = Array.Empty<long>(), users = new[] { id } }, tx, cancellationToken: ct));
                    await conn.ExecuteAsync(new CommandDefinition(UserProfiles.SetGroups, new { Id = id, Groups = groups }, tx, cancellationToken: ct));
                }

                return (await UserProfiles.FindAsync(conn, "u.id = @id", new { id }, ct, tx))!.Value.Profile;
            }, ct);
        }
    }
}
