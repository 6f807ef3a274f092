using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Users;

namespace Slices.Api.Features.Auth;

public static class LogIn
{
    public sealed record LogInRequest(string? Username, string? Email, string Password) : ICommand<Result<AuthResponse>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/auth/login",
                async Task<Results<Ok<AuthResponse>, ProblemHttpResult>> (HttpContext http, ISender mediator, CancellationToken ct) =>
                {
                    var request = await FormOrJson.ReadAsync<LogInRequest>(http.Request, ct)
                        ?? throw new BadHttpRequestException("The request body is empty.");
                    return (await mediator.Send(request, ct)).ToHttp(TypedResults.Ok);
                })
            .WithName("LogIn").WithTags("Auth").WithSummary("Log in with a username or email and a password (JSON or form)")
            .AllowAnonymous()
            .Accepts<LogInRequest>(FormOrJson.ContentTypes[0], FormOrJson.ContentTypes[1..])
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(HttpPipeline.LoginPolicy);
    }

    public sealed class Validator : AbstractValidator<LogInRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Username).NotEmpty().When(x => string.IsNullOrEmpty(x.Email)).WithMessage("Give a username or an email.");
            RuleFor(x => x.Username).MaximumLength(254);
            RuleFor(x => x.Email).MaximumLength(254);
            RuleFor(x => x.Password).NotEmpty().MaximumLength(128);
        }
    }

    public sealed class Handler(NpgsqlDataSource db, Credentials credentials, Tokens tokens) : ICommandHandler<LogInRequest, Result<AuthResponse>>
    {
        public async ValueTask<Result<AuthResponse>> Handle(LogInRequest r, CancellationToken ct)
        {
            var user = await credentials.CheckAsync(string.IsNullOrEmpty(r.Username) ? r.Email! : r.Username, r.Password, ct);
            if (!user.IsSuccess)
            {
                return user.Failure!;
            }

            return await db.InTransactionAsync<Result<AuthResponse>>(async (c, tx) =>
            {
                var (profile, _) = (await UserProfiles.FindAsync(c, "u.id = @id", new { id = user.Value }, ct, tx))!.Value;
                return AuthResponse.From(profile, await tokens.StartSessionAsync(c, tx, profile.Id, profile.Role, ct));
            }, ct);
        }
    }
}
