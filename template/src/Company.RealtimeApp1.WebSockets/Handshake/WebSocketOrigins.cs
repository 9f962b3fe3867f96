using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Which web pages may open a WebSocket here: the server's own origin and those in
/// <c>WebSockets:AllowedOrigins</c>. A browser sends the page's <c>Origin</c> on every handshake and
/// lets any page connect anywhere, with the site's cookies (cross-site WebSocket hijacking); a client
/// that is not a browser sends no <c>Origin</c>.
/// </summary>
/// <remarks>
/// The WebSockets middleware's own <c>AllowedOrigins</c> does not add the request's own origin and
/// answers with an empty 403, hence this policy. Behind a TLS-terminating proxy, configure the
/// forwarded-headers middleware so that the request's scheme and host are the ones the browser used.
/// </remarks>
public sealed class WebSocketOriginPolicy(IOptionsMonitor<RealtimeOptions> options)
{
    /// <summary>True when the request has no <c>Origin</c> (not a browser) or an allowed one.</summary>
    public bool Allows(HttpRequest request) => request.Headers.Origin.Count == 0 || HasAllowedOrigin(request);

    /// <summary>True only when the request carries the <c>Origin</c> of an allowed page: the condition for an ambient credential, the cookie.</summary>
    public bool HasAllowedOrigin(HttpRequest request)
    {
        if (request.Headers.Origin is not [{ } header] || WebOrigin.Normalize(header) is not { } origin)
        {
            return false;
        }

        var own = request.Host.HasValue ? WebOrigin.Normalize($"{request.Scheme}://{request.Host.Value}") : null;
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
            || options.CurrentValue.AllowedOrigins.Any(allowed => string.Equals(origin, WebOrigin.Normalize(allowed), StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>A web origin (RFC 6454) in one spelling: lower-case scheme and host, no default port.</summary>
internal static class WebOrigin
{
    /// <summary><c>scheme://host[:port]</c> of an http or https origin; null for anything else, <c>null</c> and paths included.</summary>
    public static string? Normalize(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.UserInfo.Length == 0
        && uri.PathAndQuery == "/"
        && uri.Fragment.Length == 0
        && !origin.EndsWith('/')
            ? uri.GetLeftPart(UriPartial.Authority)
            : null;
}

/// <summary>Refuses to start with an <c>AllowedOrigins</c> entry that could never match an <c>Origin</c> header.</summary>
internal sealed class AllowedOriginsValidator : IValidateOptions<RealtimeOptions>
{
    public ValidateOptionsResult Validate(string? name, RealtimeOptions options)
    {
        var invalid = options.AllowedOrigins.Where(origin => WebOrigin.Normalize(origin) is null).ToList();
        return invalid.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"'{RealtimeOptions.SectionName}:{nameof(RealtimeOptions.AllowedOrigins)}' has entries that are not origins " +
                $"({string.Join(", ", invalid.Select(o => $"'{o}'"))}); write each as scheme://host[:port], such as https://app.example.com.");
    }
}

/// <summary>Answers a WebSocket handshake from a page on a foreign origin with 403, before any credential is read.</summary>
internal sealed partial class WebSocketOriginMiddleware(RequestDelegate next, WebSocketOriginPolicy policy, ILogger<WebSocketOriginMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<WebSocketEndpointMetadata>() is null || policy.Allows(context.Request))
        {
            return next(context);
        }

        Log.ForeignOrigin(logger, context.Request.Path, context.Request.Headers.Origin.ToString());
        return TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Origin not allowed",
            detail: "Pages on this origin may not open a WebSocket to this server.").ExecuteAsync(context);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "WebSocket handshake on {Path} from origin {Origin} refused with 403")]
        public static partial void ForeignOrigin(ILogger logger, PathString path, string origin);
    }
}

public static class WebSocketOriginExtensions
{
    /// <summary>Refuses WebSocket handshakes from foreign origins. Place it before authentication, so that no ticket is spent on them.</summary>
    public static IApplicationBuilder UseWebSocketOriginCheck(this IApplicationBuilder app) =>
        app.UseMiddleware<WebSocketOriginMiddleware>();
}
