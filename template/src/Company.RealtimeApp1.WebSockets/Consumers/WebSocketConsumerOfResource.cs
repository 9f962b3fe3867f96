namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// A consumer whose connections are each for one <typeparamref name="TResource"/> (an organization, a document),
/// and which says once who may have one (object-level access, as Chanx has it): <see cref="AuthorizeAsync"/> finds
/// the resource the route names for the user, or refuses. The realtime layer runs it at the handshake (a refusal
/// follows the failure contract: <c>auth</c> 403 <c>forbidden</c> with <see cref="ForbiddenDetail"/>, close 4003,
/// or a plain 403 under <c>RejectWith=HttpStatus</c>) and again at every <c>auth.refresh</c> (a refusal closes the
/// socket 4003), and hands what it found to the consumer as <see cref="Resource"/>. No requirement, handler or
/// policy to write. Streams the consumer joins under the resource's own (<see cref="StreamId.Scope"/>) are closed
/// with it by a revocation of it, and re-checked with it by the app's <see cref="IConnectionAuthority"/>.
/// </summary>
public abstract class WebSocketConsumer<TResource> : WebSocketConsumer, IAuthorizingConsumer
    where TResource : class
{
    private TResource? _resource;

    /// <summary>What <see cref="AuthorizeAsync"/> found for this connection; set before <see cref="WebSocketConsumer.OnConnectedAsync"/>.</summary>
    protected TResource Resource => _resource ?? throw new InvalidOperationException("The connection has not been authorized yet.");

    /// <summary>The <c>detail</c> of the <c>auth</c> message a refused handshake gets.</summary>
    protected virtual string ForbiddenDetail => "You are signed in but not allowed on this endpoint.";

    /// <summary>The resource the request is for when its user may use it; null refuses the connection.</summary>
    protected abstract ValueTask<TResource?> AuthorizeAsync(ConsumerRequest request);

    string IAuthorizingConsumer.ForbiddenDetail => ForbiddenDetail;

    async ValueTask<bool> IAuthorizingConsumer.AuthorizeAsync(ConsumerRequest request)
    {
        if (await AuthorizeAsync(request) is not { } resource)
        {
            return false;
        }

        _resource = resource;
        return true;
    }
}
