using FluentValidation;
using Mediator;

namespace Slices.Api.Common.Http;

// The one place requests are validated: every message sent through the mediator (from an endpoint, a PATCH
// merge or the admin panel) passes its validators here once. A failure becomes a 400 `validation_failed`.
public sealed class ValidationBehavior<TMessage, TResponse>(IEnumerable<IValidator<TMessage>> validators)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : notnull, IMessage
{
    private readonly IValidator<TMessage>[] validators = validators.ToArray();

    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        var failures = new List<FluentValidation.Results.ValidationFailure>();
        if (message is IPagedQuery paged)
        {
            failures.AddRange(Paging.Validate(paged));
        }

        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(message, cancellationToken);
            failures.AddRange(result.Errors);
        }

        if (failures.Count > 0)
        {
            throw new ValidationException(failures);
        }

        return await next(message, cancellationToken);
    }
}

public static class ValidatorRegistration
{
    // Registers every validator in the assembly as `IValidator<T>`, the one registration the behavior reads.
    public static IServiceCollection AddValidators(this IServiceCollection services)
    {
        var validators = typeof(ValidatorRegistration).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsGenericTypeDefinition: false })
            .SelectMany(t => t.GetInterfaces()
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IValidator<>))
                .Select(i => (Service: i, Implementation: t)));
        foreach (var (service, implementation) in validators)
        {
            services.AddSingleton(service, implementation);
        }

        return services;
    }
}
