using System.Text.Json;

namespace Company.RealtimeApp1.Diagnostics;

internal static class ErrorResponses
{
    /// <summary>
    /// Errors as JSON problem details. Bad requests to minimal APIs (an unparsable <c>limit</c>, a body
    /// that is not the expected JSON) are a 400 in every environment: by default Development throws
    /// them instead, which the exception handler turns into a 500 and an Error log. Request bodies and
    /// parameters are validated by .NET's minimal-API validation (<c>AddValidation</c>: their DataAnnotations
    /// attributes), whose errors are keyed by the JSON names a client sent (<c>userId</c>), not by the C#
    /// property names the validator reports (<c>UserId</c>; dotnet/aspnetcore#61764).
    /// </summary>
    public static IServiceCollection AddErrorResponses(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            if (context.ProblemDetails is HttpValidationProblemDetails validation)
            {
                var errors = validation.Errors.ToDictionary(error => JsonNamingPolicy.CamelCase.ConvertName(error.Key), error => error.Value);
                validation.Errors.Clear();
                foreach (var (key, messages) in errors)
                {
                    validation.Errors[key] = messages;
                }
            }
        });
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);
        services.AddValidation();
        services.AddSingleton<RequestValidator>();
        return services;
    }
}
