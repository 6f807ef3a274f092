using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace Slices.Api.Common.Http;

public static class OpenApiSetup
{
    private const string Scheme = "Bearer";

    /// <summary>OpenAPI 3.1 with the bearer scheme declared once and required on every route that needs a token.</summary>
    public static IServiceCollection AddSlicesOpenApi(this IServiceCollection services) => services.AddOpenApi(o =>
    {
        o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Slices API",
                Version = "v1",
                Description = "Five booking businesses on one account system: stages, cassettes, events, restaurant tables and trainings.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An access token from /api/auth/login or /api/auth/signup. The prefix `Token` is accepted too.",
            };
            return Task.CompletedTask;
        });
        o.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [],
                });
            }

            return Task.CompletedTask;
        });
    });
}
