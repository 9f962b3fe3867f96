using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Hooks the WebSocket handshake into the app's JwtBearer authentication, whoever configured it: the
/// credential may come from elsewhere than the Authorization header (<see cref="HandshakeCredentials"/>),
/// and why one was refused is recorded for the failure contract (<see cref="HandshakeFailure"/>). Each
/// event the app set still runs; this one runs around it. It wraps <c>JwtBearerOptions.Events</c>: an app
/// that sets <c>EventsType</c> instead must call <see cref="HandshakeCredentials"/> from its own events.
/// </summary>
internal sealed class HandshakeAuthentication : IPostConfigureOptions<JwtBearerOptions>
{
    public void PostConfigure(string? name, JwtBearerOptions options)
    {
        if (name != JwtBearerDefaults.AuthenticationScheme)
        {
            return;
        }

        var events = options.Events ??= new JwtBearerEvents();

        var messageReceived = events.OnMessageReceived;
        events.OnMessageReceived = async context =>
        {
            await context.HttpContext.RequestServices.GetRequiredService<HandshakeCredentials>().ReadAsync(context);
            if (context.Result is null)
            {
                await messageReceived(context);
            }
        };

        var authenticationFailed = events.OnAuthenticationFailed;
        events.OnAuthenticationFailed = context =>
        {
            HandshakeFailure.Record(context.HttpContext, HandshakeFailure.FromValidationException(context.Exception));
            return authenticationFailed(context);
        };

        // A token that validated may still be refused by the app (its user disabled, say); the app's
        // message says why, in words meant for the client.
        var tokenValidated = events.OnTokenValidated;
        events.OnTokenValidated = async context =>
        {
            await tokenValidated(context);
            if (context.Result?.Failure is { } failure)
            {
                HandshakeFailure.Record(context.HttpContext, new HandshakeFailure(HandshakeFailure.InvalidToken, failure.Message));
            }
        };
    }
}
