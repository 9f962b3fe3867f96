using System.Net.WebSockets;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The AsyncAPI 3.0 document of the WebSocket endpoints, built from what is mapped, so that it cannot drift from the
/// code: a channel per consumer (its route and parameters); the messages every endpoint carries and those its consumer
/// declares (<see cref="SendsAttribute{TMessage}"/>, <see cref="ReceivesAttribute{TMessage}"/>,
/// <see cref="SendsPresenceAttribute"/>), each payload's JSON Schema exported from its C# type with the contract the
/// wire serializes it with; a <c>send</c> and a <c>receive</c> operation per channel; the handshake's credentials as
/// security schemes; and the close codes, in each channel's description and its <c>x-close-codes</c> (AsyncAPI has no
/// field of its own for them).
/// </summary>
internal static partial class AsyncApiDocument
{
    public const string Version = "3.0.0";

    /// <summary>How a client's message is read by <see cref="IncomingMessage.Read{T}"/>: the web defaults take a number in a string too.</summary>
    private static readonly JsonSchemaExporterOptions AsRead = new() { TreatNullObliviousAsNonNullable = true };

    /// <summary>
    /// How the server writes a message (a number is always a JSON number), and how the control messages are read
    /// (a number must be one): the web defaults' leniency in reading a number from a string left out.
    /// </summary>
    private static readonly JsonSchemaExporterOptions AsWritten = new()
    {
        TreatNullObliviousAsNonNullable = true,
        TransformSchemaNode = (_, schema) =>
        {
            if (schema is JsonObject { } number && number["type"] is JsonArray types && number.ContainsKey("pattern")
                && types.Select(type => type?.GetValue<string>()).FirstOrDefault(type => type is "integer" or "number") is { } numeric)
            {
                number["type"] = types.Count == 2 ? numeric : new JsonArray([.. types.Where(type => type?.GetValue<string>() != "string").Select(type => type!.DeepClone())]);
                number.Remove("pattern");
            }

            return schema;
        },
    };

    /// <summary>The messages every endpoint carries, whatever its consumer.</summary>
    private static readonly ProtocolMessage[] Common =
    [
        new("welcome", RealtimeJsonContext.Default.WelcomeMessage, FromServer: true,
            "The first message on an accepted socket: the user, the connection's id and when its access token expires."),
        new("auth", RealtimeJsonContext.Default.AuthFailureMessage, FromServer: true,
            "A refused handshake (WebSockets:RejectWith=AuthMessage): the only message, then the socket closes 4001 (status 401), 4003 (403) or 1013 (503).")
        {
            Refine = payload =>
            {
                Enumerate(payload, "status", [StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable]);
                Enumerate(payload, "error", [.. ConstantsOf(typeof(HandshakeFailure))]);
            },
        },
        new("pong", RealtimeJsonContext.Default.PongMessage, FromServer: true, "The answer to a ping, echoing its id if it had one."),
        new("auth.expiring", RealtimeJsonContext.Default.AuthExpiringMessage, FromServer: true,
            "The access token expires soon (WebSockets:ExpiryWarning before): send auth.refresh, or the socket closes 4001 at expiresAt."),
        new("auth.refreshed", RealtimeJsonContext.Default.AuthRefreshedMessage, FromServer: true,
            "The socket goes on under the access token of the auth.refresh, until its expiresAt."),
        new("resumed", RealtimeJsonContext.Default.ResumedMessage, FromServer: true,
            "After the replay a since asked for: recovered is true when nothing after since is missing, false when the history no longer held it."),
        new("error", RealtimeJsonContext.Default.ErrorMessage, FromServer: true, "A client message was refused; the socket stays open.")
        {
            Refine = payload => Enumerate(payload, "code", [.. ConstantsOf(typeof(ErrorCodes))]),
        },
        new(ControlMessages.Ping, JsonSerializerOptions.Web.GetTypeInfo(typeof(PingMessage)), FromServer: false,
            "Answered with pong, echoing any id.")
        {
            Required = [],
        },
        new(ControlMessages.AuthRefresh, JsonSerializerOptions.Web.GetTypeInfo(typeof(AuthRefreshRequest)), FromServer: false,
            "A new access token of the same user, so that the socket outlives the one it was opened with: answered auth.refreshed, or error invalid_refresh.")
        {
            Required = [ControlMessages.AccessTokenMember],
        },
        new(ControlMessages.Resume, JsonSerializerOptions.Web.GetTypeInfo(typeof(ResumeRequest)), FromServer: false,
            "Sends every stored message after since that this socket has not delivered yet, then resumed (as ?since= on the URL does at the handshake).")
        {
            Required = ["since"],
            Refine = payload => payload["properties"]!["since"]!["minimum"] = 0,
        },
    ];

    /// <summary>What a consumer that joins a stream with presence adds.</summary>
    private static readonly ProtocolMessage[] Presence =
    [
        new("presence", PresenceJsonContext.Default.PresenceSnapshot, FromServer: true,
            "Who is online on the stream now, on every instance, each user once: after the welcome (and after the replay and resumed, when resuming)."),
        new("presence.joined", PresenceJsonContext.Default.PresenceChange, FromServer: true, "A user's first socket on the stream opened, on any instance."),
        new("presence.left", PresenceJsonContext.Default.PresenceChange, FromServer: true,
            "A user's last socket on the stream closed, or its instance stopped answering."),
    ];

    /// <summary>The document of <paramref name="consumers"/>, served at <paramref name="server"/> (if known).</summary>
    public static JsonObject Create(string title, IEnumerable<ConsumerChannel> consumers, RealtimeOptions options, AsyncApiServer? server = null)
    {
        var channels = new JsonObject();
        var operations = new JsonObject();
        var closeCodes = CloseCodesOf(options);
        foreach (var consumer in consumers.OrderBy(consumer => consumer.Route.RawText, StringComparer.Ordinal))
        {
            var address = Address(consumer.Route);
            var id = UniqueId(channels, ChannelId(address));
            var messages = MessagesOf(consumer.ConsumerType).ToList();
            // A type both sides send (typing, say) is two messages: the client's is keyed <type>.received.
            var bothWays = messages.GroupBy(message => message.Name).Where(named => named.Select(message => message.FromServer).Distinct().Count() > 1)
                .Select(named => named.Key).ToHashSet(StringComparer.Ordinal);
            string Key(ChannelMessage message) => !message.FromServer && bothWays.Contains(message.Name) ? $"{message.Name}.received" : message.Name;
            var channelMessages = new JsonObject();
            foreach (var message in messages)
            {
                channelMessages[Key(message)] = message.Component is { } component
                    ? new JsonObject { ["$ref"] = $"#/components/messages/{component}" }
                    : message.Object;
            }

            var channel = new JsonObject
            {
                ["address"] = address,
                ["title"] = consumer.ConsumerType.Name,
                ["description"] = $"A WebSocket at {address} (a GET upgrade request; one credential, see the security schemes). "
                    + "Every message is a JSON text frame whose first member is its type. The socket closes with:\n\n"
                    + string.Join("\n", closeCodes.Select(code => $"- {code.Key}: {code.Value}")),
                ["messages"] = channelMessages,
                ["bindings"] = new JsonObject { ["ws"] = WebSocketBinding() },
                ["x-close-codes"] = new JsonObject(closeCodes.Select(code => KeyValuePair.Create(code.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)code.Value))),
            };
            if (Parameters(consumer.Route) is { Count: > 0 } parameters)
            {
                channel["parameters"] = parameters;
            }

            channels[id] = channel;
            foreach (var (action, fromServer, summary) in new[] { ("send", true, "What the server sends"), ("receive", false, "What a client may send") })
            {
                operations[$"{id}.{action}"] = new JsonObject
                {
                    ["action"] = action,
                    ["channel"] = new JsonObject { ["$ref"] = $"#/channels/{id}" },
                    ["summary"] = $"{summary} on {address}.",
                    ["security"] = new JsonArray([.. SecuritySchemes(options).Select(scheme => (JsonNode)new JsonObject { ["$ref"] = $"#/components/securitySchemes/{scheme.Key}" })]),
                    ["messages"] = new JsonArray([.. messages.Where(message => message.FromServer == fromServer)
                        .Select(message => (JsonNode)new JsonObject { ["$ref"] = $"#/channels/{id}/messages/{Key(message)}" })]),
                };
            }
        }

        var document = new JsonObject
        {
            ["asyncapi"] = Version,
            ["info"] = new JsonObject
            {
                ["title"] = $"{title} WebSocket API",
                ["version"] = "v1",
                ["description"] = "The WebSocket endpoints: their messages, the credentials a handshake takes and the close codes. "
                    + "A refused handshake is accepted, gets one auth message and is closed (unless WebSockets:RejectWith=HttpStatus: then a plain 401 or 403).",
            },
        };
        if (server is not null)
        {
            var local = new JsonObject { ["host"] = server.Host, ["protocol"] = server.Secure ? "wss" : "ws" };
            if (server.PathBase.Length > 0)
            {
                local["pathname"] = server.PathBase;
            }

            document["servers"] = new JsonObject { ["this"] = local };
        }

        document["defaultContentType"] = "application/json";
        document["channels"] = channels;
        document["operations"] = operations;
        document["components"] = new JsonObject
        {
            ["messages"] = new JsonObject(Common.Concat(Presence).DistinctBy(message => message.Name)
                .Select(message => KeyValuePair.Create(ComponentName(message.Name), (JsonNode?)Message(message)))),
            ["securitySchemes"] = new JsonObject(SecuritySchemes(options).Select(scheme => KeyValuePair.Create(scheme.Key, (JsonNode?)scheme.Value))),
        };
        return document;
    }

    /// <summary>A channel's messages: every endpoint's (by reference), presence's if declared, then the consumer's own (inline).</summary>
    private static IEnumerable<ChannelMessage> MessagesOf(Type consumerType)
    {
        var common = consumerType.IsDefined(typeof(SendsPresenceAttribute), inherit: false) ? Common.Concat(Presence) : Common;
        foreach (var message in common)
        {
            yield return new ChannelMessage(message.Name, message.FromServer, ComponentName(message.Name), null);
        }

        foreach (var declared in consumerType.GetCustomAttributes<ConsumerMessageAttribute>(inherit: false))
        {
            var message = new ProtocolMessage(declared.Type, JsonSerializerOptions.Web.GetTypeInfo(declared.Message), declared.FromServer, declared.Summary)
            {
                Stored = declared.IsStored,
                ReadLeniently = !declared.FromServer,
            };
            yield return new ChannelMessage(declared.Type, declared.FromServer, null, Message(message));
        }
    }

    private static JsonObject Message(ProtocolMessage message)
    {
        var payload = Payload(message);
        message.Refine?.Invoke(payload);
        var result = new JsonObject { ["name"] = message.Name, ["title"] = message.Name };
        if (message.Summary is not null)
        {
            result["summary"] = message.Summary;
        }

        result["payload"] = payload;
        return result;
    }

    /// <summary>
    /// The payload's schema: the type's exported schema with its <c>type</c> as a constant first member (and, for a
    /// stored message, <c>id</c> before its content and <c>createdAt</c> after it, as <see cref="StoredFrame"/> writes
    /// them). What the server sends has every member it always writes as required; a client message, the members its
    /// reader needs.
    /// </summary>
    private static JsonObject Payload(ProtocolMessage message)
    {
        var contract = message.Contract;
        // An object's schema; a type with no members of its own (object: any JSON) exports as true.
        var exported = contract.GetJsonSchemaAsNode(message.ReadLeniently ? AsRead : AsWritten) as JsonObject ?? [];
        var properties = new JsonObject { ["type"] = new JsonObject { ["type"] = "string", ["const"] = message.Name } };
        if (message.Stored)
        {
            properties["id"] = new JsonObject
            {
                ["type"] = "integer",
                ["minimum"] = 1,
                ["description"] = "The message's position in its stream: the first is 1, each next one is one more. Reconnect with ?since=<the last id seen> to get what was missed.",
            };
        }

        if (exported["properties"] is JsonObject members)
        {
            foreach (var (name, schema) in members.Where(member => member.Key != "type"))
            {
                properties[name] = schema?.DeepClone();
            }
        }

        if (message.Stored)
        {
            properties["createdAt"] = new JsonObject { ["type"] = "string", ["format"] = "date-time", ["description"] = "When the message was stored." };
        }

        IEnumerable<string> required = message.FromServer
            ? properties.Select(property => property.Key).Where(name => !IsWrittenConditionally(contract, name))
            : ["type", .. message.Required ?? exported["required"]?.AsArray().Select(name => name!.GetValue<string>()) ?? []];
        return new JsonObject
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray([.. required.Distinct().Select(name => (JsonNode)JsonValue.Create(name))]),
        };
    }

    /// <summary>A member the serializer leaves out when it is null or default (<c>JsonIgnore(Condition = …)</c>).</summary>
    private static bool IsWrittenConditionally(JsonTypeInfo contract, string name) =>
        contract.Properties.FirstOrDefault(property => property.Name == name) is { } property
        && (property.ShouldSerialize is not null
            || property.AttributeProvider?.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), inherit: true).Length > 0);

    /// <summary>The values <paramref name="property"/> takes.</summary>
    private static void Enumerate<T>(JsonObject payload, string property, T[] values) =>
        payload["properties"]![property]!["enum"] = new JsonArray([.. values.Select(value => JsonValue.Create(value))]);

    /// <summary>The values of <paramref name="type"/>'s public string constants: the codes a message may carry.</summary>
    private static IEnumerable<string> ConstantsOf(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!);

    /// <summary>The close codes a socket may see, and why; the limits as configured.</summary>
    private static SortedDictionary<int, string> CloseCodesOf(RealtimeOptions options) => new()
    {
        [(int)WebSocketCloseStatus.EndpointUnavailable] = "The server is stopping: reconnect, with ?since= to get what was missed.",
        [(int)WebSocketCloseStatus.InvalidMessageType] = "A binary frame: only JSON text frames are accepted.",
        [(int)WebSocketCloseStatus.InvalidPayloadData] = "A text frame that is not valid UTF-8.",
        [(int)WebSocketCloseStatus.PolicyViolation] = "Slow consumer: the client did not read, and the messages waiting for it overflowed its outbound queue.",
        [(int)WebSocketCloseStatus.MessageTooBig] = $"A message over WebSockets:MaxMessageBytes ({options.MaxMessageBytes} bytes), counted across fragments.",
        [(int)WebSocketCloseStatus.InternalServerError] = "A server fault, logged with the connection id.",
        [CloseCodes.ServiceRestart] = "A stream's messages could not be delivered in order: reconnect with ?since=<the last id seen> to get what was missed.",
        [CloseCodes.TryAgainLater] = "The handshake could not be served for now (auth temporarily_unavailable): try again shortly.",
        [CloseCodes.Unauthorized] = "No, an invalid, expired or revoked credential (after an auth message with status 401); the access token expired "
            + "without auth.refresh; or the user's password changed, the user was disabled or deleted, or their refresh tokens were revoked.",
        [CloseCodes.Forbidden] = "Authenticated but not allowed on this endpoint (after an auth message with status 403), or the access the socket relied on was revoked.",
        [CloseCodes.TooManyRequests] = $"More than WebSockets:MessagesPerSecond ({options.MessagesPerSecond}, burst {options.MessageBurst}) client messages, "
            + $"or the user's socket beyond WebSockets:MaxConnectionsPerUser ({options.MaxConnectionsPerUser}, across all instances).",
    };

    /// <summary>The handshake's credentials, exactly one per request (two different ones are refused).</summary>
    private static IEnumerable<KeyValuePair<string, JsonObject>> SecuritySchemes(RealtimeOptions options)
    {
        yield return KeyValuePair.Create("bearerHeader", new JsonObject
        {
            ["type"] = "http",
            ["scheme"] = "bearer",
            ["bearerFormat"] = "JWT",
            ["description"] = "Authorization: Bearer <access token> (from POST /token), where the client can set headers.",
        });
        foreach (var parameter in HandshakeCredentials.TokenParameters)
        {
            yield return KeyValuePair.Create($"{parameter}Query", new JsonObject
            {
                ["type"] = "httpApiKey",
                ["name"] = parameter,
                ["in"] = "query",
                ["description"] = $"?{parameter}=<access token>: accepted on WebSocket paths only.",
            });
        }

        yield return KeyValuePair.Create("ticketQuery", new JsonObject
        {
            ["type"] = "httpApiKey",
            ["name"] = HandshakeCredentials.TicketParameter,
            ["in"] = "query",
            ["description"] = $"?{HandshakeCredentials.TicketParameter}=<ticket>: single use, from POST /ws/ticket (bearer), valid for WebSockets:TicketSeconds ({options.TicketSeconds} s); keeps the token out of the URL.",
        });
        yield return KeyValuePair.Create("bearerSubprotocol", new JsonObject
        {
            ["type"] = "httpApiKey",
            ["name"] = "Sec-WebSocket-Protocol",
            ["in"] = "header",
            ["description"] = $"The subprotocols [\"{WebSocketHandshake.SubProtocol}\", \"{HandshakeCredentials.SubProtocolPrefix}<access token>\"] "
                + $"(new WebSocket(url, [...]) in a browser): the server selects {WebSocketHandshake.SubProtocol} and never echoes the token.",
        });
        if (options.SessionCookie.Length > 0)
        {
            yield return KeyValuePair.Create("sessionCookie", new JsonObject
            {
                ["type"] = "httpApiKey",
                ["name"] = options.SessionCookie,
                ["in"] = "cookie",
                ["description"] = "The browser's session cookie (POST /session), accepted only with the Origin header of an allowed origin (WebSockets:AllowedOrigins or the request's own).",
            });
        }
    }

    /// <summary>The WebSocket binding: a GET upgrade, and what its query string may carry besides a credential.</summary>
    private static JsonObject WebSocketBinding() => new()
    {
        ["method"] = "GET",
        ["query"] = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["since"] = new JsonObject
                {
                    ["type"] = "integer",
                    ["minimum"] = 0,
                    ["description"] = "The last message id the client saw: every later stored message is sent, in order, then resumed, then the live stream.",
                },
            },
        },
        ["bindingVersion"] = "0.1.0",
    };

    /// <summary>The route as an AsyncAPI address: its parameters as <c>{name}</c>, without constraints, defaults or <c>?</c>.</summary>
    private static string Address(RoutePattern route) =>
        "/" + string.Join("/", route.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => $"{{{parameter.Name}}}",
            _ => "",
        }))));

    private static JsonObject Parameters(RoutePattern route) => new(route.Parameters.Select(parameter => KeyValuePair.Create(parameter.Name, (JsonNode?)new JsonObject
    {
        ["description"] = $"The route's {parameter.Name}"
            + (parameter.ParameterPolicies.Count > 0 ? $" ({string.Join(", ", parameter.ParameterPolicies.Select(policy => policy.Content))})" : "")
            + (parameter.IsOptional ? "; optional, with the / before it." : "."),
    })));

    private static string ChannelId(string address) => NotIdentifier().Replace(address, "_").Trim('_') is { Length: > 0 } id ? id : "root";

    private static string UniqueId(JsonObject channels, string id)
    {
        var unique = id;
        for (var n = 2; channels.ContainsKey(unique); n++)
        {
            unique = $"{id}_{n}";
        }

        return unique;
    }

    /// <summary>Component names allow letters, digits, '.', '-' and '_': a message's type is one already.</summary>
    private static string ComponentName(string type) => NotComponentName().Replace(type, "_");

    [GeneratedRegex("[^A-Za-z0-9]+")]
    private static partial Regex NotIdentifier();

    [GeneratedRegex(@"[^\w.\-]")]
    private static partial Regex NotComponentName();

    /// <summary>A message of the protocol, and how its payload is described.</summary>
    private sealed record ProtocolMessage(string Name, JsonTypeInfo Contract, bool FromServer, string? Summary)
    {
        public bool Stored { get; init; }

        /// <summary>A client message read by <see cref="IncomingMessage.Read{T}"/>, with the web defaults' leniency.</summary>
        public bool ReadLeniently { get; init; }

        /// <summary>The members a client message needs, where its reader checks them itself (else what its C# type says).</summary>
        public string[]? Required { get; init; }

        /// <summary>What the C# type cannot say: the codes a member may take.</summary>
        public Action<JsonObject>? Refine { get; init; }
    }

    /// <summary>A message on a channel: a reference to a component, or the consumer's own message inline.</summary>
    private sealed record ChannelMessage(string Name, bool FromServer, string? Component, JsonObject? Object);
}

/// <summary>A consumer's WebSocket endpoint: its route and the consumer it runs.</summary>
internal sealed record ConsumerChannel(RoutePattern Route, Type ConsumerType);

/// <summary>Where the document was asked for: the server its channels are on.</summary>
internal sealed record AsyncApiServer(string Host, bool Secure, string PathBase);
