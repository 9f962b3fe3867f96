namespace Company.RealtimeApp1.Auth;

/// <summary>
/// Endpoint metadata: the endpoint's responses carry credentials and must never be cached (RFC 6749
/// §5.1). The headers are set before the rate limiter and the endpoint run, so every response,
/// errors and 429s included, carries them.
/// </summary>
internal sealed class NoStoreMetadata
{
    public static NoStoreMetadata Instance { get; } = new();
}

internal static class NoStoreExtensions
{
    public static TBuilder WithNoStore<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(NoStoreMetadata.Instance);

    public static IApplicationBuilder UseNoStoreResponses(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<NoStoreMetadata>() is not null)
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.Pragma = "no-cache";
        }

        return next(context);
    });
}
