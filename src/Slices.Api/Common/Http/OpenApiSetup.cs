using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Slices.Api.Common.Data;

namespace Slices.Api.Common.Http;

public static class OpenApiSetup
{
    private const string Scheme = "Bearer";

    // OpenAPI 3.1 with the bearer scheme declared once and required on every route that needs a token.
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
        // Decimals are written as numbers. That they are read from numeric strings too (Json.DecimalsAlsoFromStrings) is
        // leniency towards Django REST Framework clients, not the documented shape: every decimal is `number`.
        o.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonPropertyInfo is { } property && Json.IsDecimal(property.PropertyType))
            {
                schema.Type = Nullable.GetUnderlyingType(property.PropertyType) is null ? JsonSchemaType.Number : JsonSchemaType.Number | JsonSchemaType.Null;
                schema.Pattern = null;
            }

            return Task.CompletedTask;
        });
        o.AddOperationTransformer(async (operation, context, ct) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            // PATCH handlers bind the raw JsonElement (to merge only the members sent); document the resource
            // shape they accept instead, taken from the route's .Accepts<T>().
            if (metadata.OfType<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>().LastOrDefault() is { RequestType: { } accepted }
                && accepted != typeof(System.Text.Json.JsonElement)
                && operation.RequestBody?.Content is { } content)
            {
                var schema = await context.GetOrCreateSchemaAsync(accepted, null, ct);
                foreach (var media in content.Values)
                {
                    media.Schema = schema;
                }
            }

            ReadYourWritesDocs.Describe(operation, context.Description.HttpMethod, metadata);
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = [],
                });
            }
        });
    });
}
