using System.Collections.Concurrent;
using System.Text.Json;
using PuppeteerSharp;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// The WebSockets of one page: the address of each one it opened (the DevTools protocol's
/// <c>Network.webSocketCreated</c>), and, once <see cref="RouteAsync"/> is called, a say in what each new one does.
/// The DevTools protocol cannot intercept a WebSocket, so, as Playwright's <c>routeWebSocket</c> does, the page's
/// <c>WebSocket</c> is replaced, before any script of the page runs, by one that first asks the test (over an exposed
/// function), then connects for real or plays a refusal; until the test answers, the page's socket is connecting.
/// </summary>
public sealed class PageSockets
{
    private const string RouteFunction = "wsauthTestRouteSocket";
    private const string FrameFunction = "wsauthTestServerFrame";

    // The page's WebSocket, asking RouteFunction first. Events reach the page in order, each in a task of its own,
    // and a frame's copies (FrameFunction) before the next event.
    private const string RoutedWebSocket = $$"""
        (() => {
          if (window.WebSocket.wsauthRouted) {
            return;
          }
          const NativeWebSocket = window.WebSocket;
          const states = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };

          class RoutedWebSocket extends EventTarget {
            static wsauthRouted = true;
            #url;
            #socket = null;
            #readyState = states.CONNECTING;
            #binaryType = "blob";
            #events = Promise.resolve();

            constructor(url, protocols) {
              super();
              const target = new URL(String(url), location.href);
              target.protocol = target.protocol.replace(/^http/, "ws");
              this.#url = target.href;
              window.{{RouteFunction}}(this.#url).then(
                (answer) => this.#answer(JSON.parse(answer), protocols),
                () => this.#fail());
            }

            get url() { return this.#url; }
            get readyState() { return this.#readyState; }
            get protocol() { return this.#socket?.protocol ?? ""; }
            get extensions() { return this.#socket?.extensions ?? ""; }
            get bufferedAmount() { return this.#socket?.bufferedAmount ?? 0; }
            get binaryType() { return this.#binaryType; }
            set binaryType(value) {
              this.#binaryType = value;
              if (this.#socket) {
                this.#socket.binaryType = value;
              }
            }

            send(data) {
              if (this.#readyState === states.CONNECTING) {
                throw new DOMException("Still in CONNECTING state.", "InvalidStateError");
              }
              this.#socket?.send(data);
            }

            close(code, reason) {
              if (this.#readyState >= states.CLOSING) {
                return;
              }
              if (this.#socket) {
                this.#readyState = states.CLOSING;
                this.#socket.close(code, reason);
              } else if (this.#readyState === states.CONNECTING) {
                this.#fail(); // as a socket closed before its handshake ends
              }
            }

            #answer(answer, protocols) {
              if (this.#readyState !== states.CONNECTING) {
                return; // the page closed it while it waited
              }
              if (answer.refuse) {
                this.#emit(() => new Event("open"), states.OPEN);
                this.#emit(() => new MessageEvent("message", { data: answer.refuse.frame }));
                this.#emit(() => new CloseEvent("close", { code: answer.refuse.code, reason: answer.refuse.reason, wasClean: true }), states.CLOSED);
                return;
              }
              const socket = new NativeWebSocket(this.#url, protocols);
              socket.binaryType = this.#binaryType;
              this.#socket = socket;
              socket.onopen = () => this.#emit(() => new Event("open"), states.OPEN);
              socket.onerror = () => this.#emit(() => new Event("error"));
              socket.onclose = (event) => this.#emit(() => new CloseEvent("close", { code: event.code, reason: event.reason, wasClean: event.wasClean }), states.CLOSED);
              socket.onmessage = (event) => {
                const copies = answer.connect !== 0 && typeof event.data === "string"
                  ? window.{{FrameFunction}}(answer.connect, event.data)
                  : 1;
                this.#events = this.#events.then(() => copies).then((count) => {
                  for (let i = 0; i < count; i++) {
                    this.dispatchEvent(new MessageEvent("message", { data: event.data, origin: event.origin }));
                  }
                });
              };
            }

            #fail() {
              this.#emit(() => new Event("error"), states.CLOSED);
              this.#emit(() => new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
            }

            #emit(create, state) {
              this.#events = this.#events.then(() => new Promise((resolve) => setTimeout(resolve))).then(() => {
                if (state !== undefined) {
                  this.#readyState = state;
                }
                this.dispatchEvent(create());
              });
            }
          }

          for (const [name, value] of Object.entries(states)) {
            Object.defineProperty(RoutedWebSocket, name, { value });
            Object.defineProperty(RoutedWebSocket.prototype, name, { value });
          }
          for (const type of ["open", "message", "error", "close"]) {
            const handlers = new WeakMap();
            Object.defineProperty(RoutedWebSocket.prototype, `on${type}`, {
              get() { return handlers.get(this) ?? null; },
              set(handler) {
                const previous = handlers.get(this);
                if (previous) {
                  this.removeEventListener(type, previous);
                }
                handlers.set(this, handler);
                if (typeof handler === "function") {
                  this.addEventListener(type, handler);
                }
              },
            });
          }
          window.WebSocket = RoutedWebSocket;
        })();
        """;

    private readonly IPage _page;
    private readonly List<string> _paths = [];
    private readonly ConcurrentDictionary<int, Func<string, int>> _frameCopies = new();
    private readonly ConcurrentQueue<Exception> _failures = new();
    private Func<Uri, bool> _match = _ => false;
    private Func<Uri, Task<SocketAnswer>> _route = _ => Task.FromResult(SocketAnswer.Connect());
    private int _routed;
    private int _lastFrameRoute;

    public PageSockets(IPage page)
    {
        _page = page;
        page.Client.MessageReceived += (_, message) =>
        {
            if (message.MessageID == "Network.webSocketCreated")
            {
                var url = new Uri(message.MessageData.GetProperty("url").GetString()!);
                lock (_paths)
                {
                    _paths.Add(url.PathAndQuery);
                }
            }
        };
    }

    /// <summary>Path and query of every WebSocket the page opened, in order (queries hold tickets: never print them).</summary>
    public IReadOnlyList<string> Paths
    {
        get
        {
            lock (_paths)
            {
                return [.. _paths];
            }
        }
    }

    /// <summary>The first exception a route threw (its socket closed 1006), if any.</summary>
    public Exception? Failure => _failures.TryPeek(out var failure) ? failure : null;

    /// <summary>
    /// From now on (this document and the next ones), each WebSocket the page opens whose address <paramref name="match"/>
    /// takes does what <paramref name="route"/> answers; the others connect.
    /// </summary>
    public async Task RouteAsync(Func<Uri, bool> match, Func<Uri, Task<SocketAnswer>> route)
    {
        if (Interlocked.Exchange(ref _routed, 1) == 1)
        {
            throw new InvalidOperationException("The page's WebSockets are routed already.");
        }

        (_match, _route) = (match, route);
        await _page.ExposeFunctionAsync<string, Task<string>>(RouteFunction, AnswerAsync);
        await _page.ExposeFunctionAsync<int, string, int>(FrameFunction, (id, frame) => _frameCopies[id](frame));
        await _page.EvaluateExpressionOnNewDocumentAsync(RoutedWebSocket);
        await _page.EvaluateExpressionAsync(RoutedWebSocket);
    }

    private async Task<string> AnswerAsync(string url)
    {
        try
        {
            var address = new Uri(url);
            var answer = _match(address) ? await _route(address) : SocketAnswer.Connect();
            return answer switch
            {
                SocketAnswer.Refused refused => JsonSerializer.Serialize(new { refuse = new { frame = refused.Frame, code = refused.Code, reason = refused.Reason } }),
                SocketAnswer.Connected { CopiesOfServerFrame: { } copies } => JsonSerializer.Serialize(new { connect = FrameRoute(copies) }),
                _ => JsonSerializer.Serialize(new { connect = 0 }),
            };
        }
        catch (Exception failure)
        {
            _failures.Enqueue(failure);
            throw;
        }
    }

    private int FrameRoute(Func<string, int> copies)
    {
        var id = Interlocked.Increment(ref _lastFrameRoute);
        _frameCopies[id] = copies;
        return id;
    }
}
