namespace Slices.Api.Common.Http;

public static class EndpointConventions
{
    // The problems every write on a single resource can answer: invalid, unauthenticated, forbidden, absent, conflicting, stale.
    public static RouteHandlerBuilder WithProblems(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status412PreconditionFailed);
}
