using System.Security.Claims;
using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Users;

public static class GetUser
{
    // Key null means the caller; anyone else's profile is only for admins (404 otherwise).
    public sealed record GetUserQuery(string? Key, Caller Caller) : IQuery<Result<Versioned<UserProfile>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapGet("/api/users/me",
                    async Task<Results<Ok<UserProfile>, StatusCodeHttpResult, ProblemHttpResult>> (HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new GetUserQuery(null, user.Caller()), ct)).ToHttp(http))
                .WithName("GetMe").WithTags("Users").WithSummary("Your own profile")
                .RequireAuthorization()
                .ProducesProblem(StatusCodes.Status401Unauthorized);
            app.MapGet("/api/users/{username}",
                    async Task<Results<Ok<UserProfile>, StatusCodeHttpResult, ProblemHttpResult>> (string username, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new GetUserQuery(username, user.Caller()), ct)).ToHttp(http))
                .WithName("GetUser").WithTags("Users").WithSummary("A user's profile (admin, or yourself); by username, or email for accounts without one")
                .RequireAuthorization()
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status404NotFound);
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetUserQuery, Result<Versioned<UserProfile>>>
    {
        public async ValueTask<Result<Versioned<UserProfile>>> Handle(GetUserQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var found = q.Key is null
                ? await UserProfiles.FindAsync(conn, "u.id = @id", new { id = q.Caller.Id }, ct)
                : await UserProfiles.FindAsync(conn, $"{UserProfiles.ByKey} AND (@admin OR u.id = @id)", new { key = q.Key, admin = q.Caller.IsAdmin, id = q.Caller.Id }, ct);
            return found is { } f ? new Versioned<UserProfile>(f.Profile, f.Version) : Failure.NotFound("User");
        }
    }
}
