using Microsoft.AspNetCore.Authorization;

namespace Company.RealtimeApp1.WebSockets;

internal sealed partial class ConsumerAccessHandler(ILogger<ConsumerAccessHandler> logger) : AuthorizationHandler<ConsumerAccessRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ConsumerAccessRequirement requirement)
    {
        // A plain request to a WebSocket endpoint is answered 400 by the endpoint: no rule to run for it.
        if (context.Resource is not HttpContext httpContext || context.User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        if (!httpContext.WebSockets.IsWebSocketRequest)
        {
            context.Succeed(requirement);
            return;
        }

        var consumer = requirement.Create(httpContext.RequestServices);
        var rule = (IAuthorizingConsumer)consumer;
        var request = new ConsumerRequest(context.User, httpContext.Request.RouteValues, httpContext.RequestServices, httpContext.RequestAborted);
        bool allowed;
        try
        {
            allowed = await rule.AuthorizeAsync(request);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !httpContext.RequestAborted.IsCancellationRequested)
        {
            // The rule could not be answered: the client is told to try again (503, or 1013), not that it may not.
            Log.RuleFailed(logger, exception, httpContext.Request.Path);
            context.Fail(new ConsumerAccessUnavailable(this));
            return;
        }

        if (allowed)
        {
            ConsumerAccessRequirement.Remember(httpContext, consumer);
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, rule.ForbiddenDetail));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The access rule of the WebSocket endpoint {Path} failed; the handshake is told to try again")]
        public static partial void RuleFailed(ILogger logger, Exception exception, PathString path);
    }
}

/// <summary>A consumer's access rule that could not be answered: the handshake is refused with 503 / 1013, not 403.</summary>
internal sealed class ConsumerAccessUnavailable(IAuthorizationHandler handler)
    : AuthorizationFailureReason(handler, HandshakeFailure.AccessUnavailable.Detail);
