using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>The AsyncAPI document of the WebSocket endpoints, as <c>MapOpenApi</c> serves the HTTP API's.</summary>
public static class AsyncApiEndpoint
{
    public const string DefaultPattern = "/asyncapi/v1.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Serves the AsyncAPI 3.0 document of every consumer mapped (<see cref="RealtimeServiceCollectionExtensions.MapRealtime"/>)
    /// at <paramref name="pattern"/>; built per request from the endpoints, so it is never out of date.
    /// </summary>
    public static IEndpointConventionBuilder MapAsyncApi(this IEndpointRouteBuilder routes, [StringSyntax("Route")] string pattern = DefaultPattern) =>
        routes.MapGet(pattern, (HttpContext context, EndpointDataSource endpoints, IOptions<RealtimeOptions> options, IHostEnvironment environment) =>
            {
                var consumers = endpoints.Endpoints.OfType<RouteEndpoint>()
                    .Where(endpoint => endpoint.Metadata.GetMetadata<WebSocketConsumerMetadata>() is not null)
                    .Select(endpoint => new ConsumerChannel(endpoint.RoutePattern, endpoint.Metadata.GetMetadata<WebSocketConsumerMetadata>()!.ConsumerType));
                var request = context.Request;
                var server = new AsyncApiServer(request.Host.Value ?? "localhost", request.IsHttps, request.PathBase.Value ?? "");
                var document = AsyncApiDocument.Create(environment.ApplicationName, consumers, options.Value, server);
                return TypedResults.Text(document.ToJsonString(Indented), "application/json", System.Text.Encoding.UTF8);
            })
            .ExcludeFromDescription();
}
