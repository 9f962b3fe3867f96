using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Validation;

namespace Company.RealtimeApp1.Diagnostics;

/// <summary>
/// .NET's minimal-API validation (<c>AddValidation</c>) for a body an endpoint reads itself, as the publishing
/// endpoints do to cap its size before parsing it: the same DataAnnotations rules, checked by the same generated
/// validators, as a body the framework binds. Mark the body's type <c>[ValidatableType]</c> so that they are generated.
/// </summary>
public sealed class RequestValidator(IOptions<ValidationOptions> options, IServiceProvider services)
{
    /// <summary>The errors of <paramref name="value"/> by member (empty when it is valid), to add to or answer as they are.</summary>
    public async Task<Dictionary<string, string[]>> ValidateAsync<T>(T value, CancellationToken cancellationToken)
        where T : class
    {
        if (!options.Value.TryGetValidatableTypeInfo(typeof(T), out var validator))
        {
            throw new InvalidOperationException($"{typeof(T).Name} has no generated validator: mark it [ValidatableType].");
        }

        var context = new ValidateContext
        {
            ValidationOptions = options.Value,
            ValidationContext = new ValidationContext(value, services, items: null),
        };
        await validator.ValidateAsync(value, context, cancellationToken);
        return context.ValidationErrors is { } errors ? new Dictionary<string, string[]>(errors) : [];
    }
}
