using System.Net;
using Company.RealtimeApp1.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Credentials in request lines the framework itself quotes: Kestrel's exception for a request line it
/// rejects carries the raw line, and its request logs carry paths that may hold <c>=</c> themselves.
/// </summary>
public sealed class RequestLineCredentialLoggingTests
{
    [Theory]
    [InlineData("GET {path}?ticket={ticket}&x=\u00e9 HTTP/1.1")]
    [InlineData("GET {path}?x=1 2&ticket={ticket} HTTP/1.1")]
    [InlineData("GET {path}?ticket={ticket} x HTTP/1.1")]
    [InlineData("GET {path}/x%3D1?ticket={ticket}&y=\u00e9 HTTP/1.1")]
    public async Task ALiveTicketInARequestLineKestrelRejectsIsInNoLogRecordNorExceptionText(string requestLine)
    {
        using var app = new RealtimeApplication();
        var ticket = await app.IssueTicketAsync((await app.CreateSignedInUserAsync()).Token);

        var response = await RawHttp.SendAsync(app.ServerAddress, RawHttp.Request(
        [
            requestLine.Replace("{path}", EchoConsumer.Path, StringComparison.Ordinal).Replace("{ticket}", ticket, StringComparison.Ordinal),
            "Host: " + app.ServerAddress.Authority,
            "Connection: close",
        ]));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        // Kestrel logs the rejection with its exception, whose text quotes the request line: it is there, and masked.
        await Eventually.HoldsAsync(() => app.Logs.GetSnapshot().Any(record =>
            record.Exception is { } exception && exception.ToString().Contains("ticket=" + CredentialRedaction.Mask, StringComparison.Ordinal)));
        AssertNotLogged(app, [ticket]);
    }

    [Fact]
    public async Task ACredentialAfterAPathThatHoldsAnEqualsSignIsNotLogged()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        var ticket = await app.IssueTicketAsync(tokens.AccessToken);

        // The route's optional segment takes "x=1": the socket opens, and the request is logged with its decoded path.
        using (var socket = new System.Net.WebSockets.ClientWebSocket())
        {
            using var timeout = new CancellationTokenSource(TestSocket.Timeout);
            await socket.ConnectAsync(Handshakes.Verbatim(app.WebSocketUri($"{EchoConsumer.Path}/x%3D1?ticket={ticket}")), timeout.Token);
            await using var connected = new TestSocket(socket);
            await connected.ReceiveJsonAsync("welcome");
        }

        (await app.CreateClient().PostAsync(
            Handshakes.Verbatim(new Uri(app.ServerAddress, $"/a=b?refresh_token={tokens.RefreshToken}")), null)).Dispose();

        var records = app.Logs.GetSnapshot();
        Assert.Contains(records, r => r.Message.Contains("/x=1?ticket=" + CredentialRedaction.Mask, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains("/a=b?refresh_token=" + CredentialRedaction.Mask, StringComparison.Ordinal));
        AssertNotLogged(app, [ticket, tokens.RefreshToken]);
    }

    [Theory]
    [InlineData("GET http://h/ws/chat/x=1?ticket=K1 - -", "GET http://h/ws/chat/x=1?ticket=[redacted] - -")]
    [InlineData("POST /a=b?refresh_token=R1&x=1", "POST /a=b?refresh_token=[redacted]&x=1")]
    [InlineData("GET /ws/chat/x%3D1?ticket=K1", "GET /ws/chat/x%3D1?ticket=[redacted]")]
    [InlineData("GET /a=b/c=d?e=f?access_token=T1", "GET /a=b/c=d?e=f?access_token=[redacted]")]
    [InlineData("Invalid request line: 'GET /ws?x=1=2&%74icket=K1 HTTP/1.1\\x0D\\x0A'", "Invalid request line: 'GET /ws?x=1=2&%74icket=[redacted] HTTP/1.1\\x0D\\x0A'")]
    [InlineData("GET /a=b?sort=name", "GET /a=b?sort=name")]
    public void ACredentialParameterIsFoundAfterAnyEqualsSignBeforeIt(string text, string expected)
    {
        Assert.Equal(expected, CredentialRedaction.Redact(text));
    }

    [Fact]
    public void AnExceptionReachesTheProvidersWithItsMessageInnerExceptionsAndStackRedacted()
    {
        var provider = new FakeLoggerProvider();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(provider).SetMinimumLevel(LogLevel.Trace)));
        var thrown = Thrown(() => throw new InvalidOperationException(
            "Could not serve ?ticket=K1 for you",
            Thrown(() => throw new BadHttpRequestException("Invalid request target: '/ws?access%5Ftoken=T1&x=1'"))));

        factory.CreateLogger("Test").LogError(thrown, "The request failed");

        var logged = provider.Collector.LatestRecord.Exception!;
        Assert.Equal("Could not serve ?ticket=[redacted] for you", logged.Message);
        Assert.Equal("Invalid request target: '/ws?access%5Ftoken=[redacted]&x=1'", logged.InnerException!.Message);
        Assert.Equal(CredentialRedaction.Redact(thrown.StackTrace!), logged.StackTrace);
        Assert.StartsWith(
            "System.InvalidOperationException: Could not serve ?ticket=[redacted] for you\n ---> Microsoft.AspNetCore.Http.BadHttpRequestException: Invalid request target: '/ws?access%5Ftoken=[redacted]&x=1'",
            logged.ToString().ReplaceLineEndings("\n"));
        Assert.DoesNotContain("K1", logged.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("T1", logged.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AnExceptionWithoutACredentialReachesTheProvidersAsItIs()
    {
        var provider = new FakeLoggerProvider();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(provider).SetMinimumLevel(LogLevel.Trace)));
        var thrown = Thrown(() => throw new InvalidOperationException("Nothing secret, x=1", new TimeoutException()));

        factory.CreateLogger("Test").LogError(thrown, "The request failed");

        Assert.Same(thrown, provider.Collector.LatestRecord.Exception);
    }

    private static Exception Thrown(Action action)
    {
        try
        {
            action();
        }
        catch (Exception exception)
        {
            return exception;
        }

        throw new InvalidOperationException("The action did not throw.");
    }

    private static void AssertNotLogged(RealtimeApplication app, string[] secrets)
    {
        foreach (var record in app.Logs.GetSnapshot())
        {
            foreach (var text in Texts(record))
            {
                foreach (var secret in secrets)
                {
                    Assert.False(text.Contains(secret, StringComparison.Ordinal),
                        $"A credential was logged by {record.Category}: {secrets.Aggregate(text, (current, s) => current.Replace(s, "<secret>", StringComparison.Ordinal))}");
                }
            }
        }
    }

    /// <summary>Every text a provider could print of a record: its message, its values, and its exception as each part of one reads.</summary>
    private static IEnumerable<string> Texts(FakeLogRecord record)
    {
        yield return record.Message;
        foreach (var (_, value) in record.StructuredState ?? [])
        {
            if (value is not null)
            {
                yield return value;
            }
        }

        for (var exception = record.Exception; exception is not null; exception = exception.InnerException)
        {
            yield return exception.ToString();
            yield return exception.Message;
            yield return exception.StackTrace ?? "";
        }
    }
}
