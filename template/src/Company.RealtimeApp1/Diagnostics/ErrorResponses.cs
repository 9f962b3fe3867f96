namespace Company.RealtimeApp1.Diagnostics;

internal static class ErrorResponses
{
    /// <summary>
    /// Errors as JSON problem details. Bad requests to minimal APIs (an unparsable <c>limit</c>, a body
    /// that is not the expected JSON) are a 400 in every environment: by default Development throws
    /// them instead, which the exception handler turns into a 500 and an Error log.
    /// </summary>
    public static IServiceCollection AddErrorResponses(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);
        return services;
    }
}
