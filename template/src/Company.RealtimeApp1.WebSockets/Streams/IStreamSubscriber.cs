namespace Company.RealtimeApp1.WebSockets;

/// <summary>Whatever receives a stream's messages on this instance: a socket's membership, or a service of the app.</summary>
internal interface IStreamSubscriber
{
    void Offer(StreamMessage message);
}
