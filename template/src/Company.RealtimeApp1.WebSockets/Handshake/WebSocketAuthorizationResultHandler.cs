using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The failure contract of WebSocket endpoints. A browser cannot read the HTTP status of a failed
/// handshake, only that it failed; so by default (<see cref="HandshakeRejection.AuthMessage"/>) a refused
/// handshake is accepted, told why in one <c>auth</c> message, and closed with 4001 or 4003. Every other
/// request, and every handshake under <see cref="HandshakeRejection.HttpStatus"/>, gets the framework's
/// plain 401 (with <c>WWW-Authenticate</c>) or 403.
/// </summary>
internal sealed partial class WebSocketAuthorizationResultHandler(
    IOptionsMonitor<RealtimeOptions> options,
    RealtimeMetrics metrics,
    ILogger<WebSocketAuthorizationResultHandler> logger) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded
            || !(authorizeResult.Challenged || authorizeResult.Forbidden)
            || !context.WebSockets.IsWebSocketRequest
            || context.GetEndpoint()?.Metadata.GetMetadata<WebSocketEndpointMetadata>() is null)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        var unavailable = authorizeResult.AuthorizationFailure?.FailureReasons.Any(reason => reason is ConsumerAccessUnavailable) == true;
        var failure = unavailable ? HandshakeFailure.AccessUnavailable
            : authorizeResult.Forbidden ? Forbidden(authorizeResult)
            : HandshakeFailure.Find(context) ?? HandshakeFailure.Unknown;
        var status = authorizeResult.Forbidden && !unavailable ? StatusCodes.Status403Forbidden : failure.Status;
        var settings = options.CurrentValue;
        Log.HandshakeRefused(logger, context.Request.Path, status, failure.Error);
        metrics.HandshakeRefused(failure.Error);
        var message = new AuthFailureMessage(status, failure.Error, failure.Detail);
        return (status, settings.RejectWith) switch
        {
            (StatusCodes.Status503ServiceUnavailable, HandshakeRejection.HttpStatus) => UnavailableAsync(context),
            (StatusCodes.Status503ServiceUnavailable, _) => RefuseAsync(context, settings, message, CloseCodes.TryAgainLater, "try again later"),
            (_, HandshakeRejection.HttpStatus) => _default.HandleAsync(next, context, policy, authorizeResult),
            (StatusCodes.Status403Forbidden, _) => RefuseAsync(context, settings, message, CloseCodes.Forbidden, "forbidden"),
            _ => RefuseAsync(context, settings, message, CloseCodes.Unauthorized, "unauthorized"),
        };
    }

    /// <summary>A plain 503 before the upgrade: the server could not check the credential, so it neither challenges nor forbids.</summary>
    private static Task UnavailableAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = TicketStoreUnavailableException.RetryAfterSeconds;
        return Task.CompletedTask;
    }

    /// <summary>A requirement that failed with a reason (<c>context.Fail(new AuthorizationFailureReason(...))</c>) supplies the detail.</summary>
    private static HandshakeFailure Forbidden(PolicyAuthorizationResult result) =>
        new(HandshakeFailure.Forbidden,
            result.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message
            ?? "You are signed in but not allowed on this endpoint.");

    private static async Task RefuseAsync(HttpContext context, RealtimeOptions settings, AuthFailureMessage message, int closeCode, string reason)
    {
        using var connectionAbort = HeldConnectionAbort.Install(context, HeldConnectionAbort.HoldFor(settings));
        using var socket = await WebSocketHandshake.AcceptAsync(context, settings);
        // The auth message, the close and the client's answer share one deadline, as any close does.
        using var closeDeadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        closeDeadline.CancelAfter(settings.CloseTimeout);
        try
        {
            var frame = JsonSerializer.SerializeToUtf8Bytes(message, RealtimeJsonContext.Default.AuthFailureMessage);
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, closeDeadline.Token);
            await socket.CloseOutputAsync((WebSocketCloseStatus)closeCode, reason, closeDeadline.Token);
            await CloseHandshake.DrainAsync(socket, closeDeadline.Token);
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The client went away or did not answer the close in time: nothing more to tell it.
        }
        finally
        {
            if (socket.State != WebSocketState.Closed)
            {
                socket.Abort();
                await connectionAbort.AbortAfterHoldAsync();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "WebSocket handshake on {Path} refused with {Status} {Error}")]
        public static partial void HandshakeRefused(ILogger logger, PathString path, int status, string error);
    }
}
