using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Users;

namespace Slices.Api.Features.Auth;

// The answer to sign-up, log-in and refresh: the user and a fresh token pair.
public sealed record AuthResponse(UserProfile User, string AccessToken, string RefreshToken, string TokenType, int ExpiresIn)
{
    public static AuthResponse From(UserProfile user, TokenPair tokens) =>
        new(user, tokens.AccessToken, tokens.RefreshToken, tokens.TokenType, tokens.ExpiresIn);
}

public static class SignUp
{
    public sealed record SignUpRequest(
        string? Username,
        string? Email,
        string Password,
        string? PhoneNumber,
        string? FirstName,
        string? LastName,
        string? ThirdName,
        DateOnly? BirthDate) : ICommand<Result<AuthResponse>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/auth/signup",
                async Task<Results<Created<AuthResponse>, ProblemHttpResult>> (SignUpRequest request, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(request, ct)).ToHttp(r => TypedResults.Created($"/api/users/{Uri.EscapeDataString(r.User.Username ?? r.User.Email!)}", r)))
            .WithName("SignUp").WithTags("Auth").WithSummary("Create an account and start a session")
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<SignUpRequest>
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
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Passwords passwords, Tokens tokens) : ICommandHandler<SignUpRequest, Result<AuthResponse>>
    {
        public async ValueTask<Result<AuthResponse>> Handle(SignUpRequest r, CancellationToken ct)
        {
            var hash = passwords.Hash(r.Password);
            return await db.InTransactionAsync<Result<AuthResponse>>(async (conn, tx) =>
            {
                var id = await UserProfiles.InsertAsync(conn, tx,
                    new UserProfiles.NewAccount(r.Username, r.Email, hash, r.PhoneNumber, r.FirstName, r.LastName, r.ThirdName, r.BirthDate), ct);
                var (user, _) = (await UserProfiles.FindAsync(conn, "u.id = @id", new { id }, ct, tx))!.Value;
                return AuthResponse.From(user, await tokens.StartSessionAsync(conn, tx, id, user.Role, ct));
            }, ct);
        }
    }
}
