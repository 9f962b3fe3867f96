using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// <c>/asyncapi/v1.json</c>, in Development: the AsyncAPI 3.0 document of the WebSocket endpoints, valid against the
/// official schema (<c>asyncapi-3.0.0.schema.json</c>, from the npm package <c>@asyncapi/specs</c>, Apache-2.0).
/// </summary>
public sealed class AsyncApiDocumentTests
{
    private static readonly Lazy<JsonSchema> AsyncApiSchema = new(() =>
    {
        using var stream = typeof(AsyncApiDocumentTests).Assembly.GetManifestResourceStream("asyncapi-3.0.0.schema.json")!;
        using var reader = new StreamReader(stream);
        return JsonSchema.FromText(reader.ReadToEnd());
    });

    private static readonly string[] CommonToClient = ["welcome", "auth", "pong", "auth.expiring", "auth.refreshed", "resumed", "error"];

    private static readonly string[] CommonFromClient = ["ping", "auth.refresh", "resume"];

    [Fact]
    public async Task TheDocumentIsValidAgainstTheAsyncApi300Schema()
    {
        var document = await ServedDocumentAsync();

        var errors = Validate(document);

        Assert.True(errors.Count == 0, $"/asyncapi/v1.json is not a valid AsyncAPI 3.0.0 document:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        Assert.Equal("3.0.0", document["asyncapi"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheSchemaRejectsADocumentThatIsNotAsyncApi300()
    {
        var document = await ServedDocumentAsync();
        var withAnAsyncApi2Action = document.DeepClone().AsObject();
        var operation = withAnAsyncApi2Action["operations"]!.AsObject().First().Value!;
        operation["action"] = "publish";
        var withoutInfo = document.DeepClone().AsObject();
        withoutInfo.Remove("info");
        var withAnUnknownMember = document.DeepClone().AsObject();
        withAnUnknownMember["channels"]!.AsObject().First().Value!["topic"] = "x";

        Assert.Empty(Validate(document));
        Assert.NotEmpty(Validate(withAnAsyncApi2Action));
        Assert.NotEmpty(Validate(withoutInfo));
        Assert.NotEmpty(Validate(withAnUnknownMember));
    }

    [Fact]
    public async Task EveryEndpointHasTheMessagesOfEveryEndpointTheCredentialsAndTheCloseCodes()
    {
        var document = await ServedDocumentAsync();

        // The test-only echo consumer declares nothing: its channel carries what every endpoint carries, no more.
        var echo = document["channels"]!["test_echo_stream"]!;
        Assert.Equal("/test/echo/{stream}", echo["address"]!.GetValue<string>());
        Assert.Equal(["stream"], echo["parameters"]!.AsObject().Select(parameter => parameter.Key));
        Assert.Equal([.. CommonToClient, .. CommonFromClient], echo["messages"]!.AsObject().Select(message => message.Key));
        Assert.Equal(CommonToClient, MessagesOf(document, "test_echo_stream.send"));
        Assert.Equal(CommonFromClient, MessagesOf(document, "test_echo_stream.receive"));
        Assert.Equal("#/components/messages/welcome", echo["messages"]!["welcome"]!["$ref"]!.GetValue<string>());
        Assert.Equal(
            ["4001", "4003", "4029", "1001", "1003", "1007", "1008", "1009", "1011", "1012", "1013"],
            echo["x-close-codes"]!.AsObject().Select(code => code.Key).OrderBy(code => code[0] == '1').ThenBy(code => code, StringComparer.Ordinal));
        Assert.Contains("- 4029: ", echo["description"]!.GetValue<string>(), StringComparison.Ordinal);

        var welcome = document["components"]!["messages"]!["welcome"]!["payload"]!;
        Assert.Equal(["type", "user", "connectionId", "expiresAt"], welcome["properties"]!.AsObject().Select(property => property.Key));
        Assert.Equal("welcome", welcome["properties"]!["type"]!["const"]!.GetValue<string>());
        Assert.Equal(["type", "user", "connectionId", "expiresAt"], Names(welcome["required"]));
        // pong's id is written only when the ping had one.
        Assert.Equal(["type"], Names(document["components"]!["messages"]!["pong"]!["payload"]!["required"]));
        Assert.Equal(
            ["invalid_json", "unknown_type", "invalid_message", "invalid_refresh"],
            Names(document["components"]!["messages"]!["error"]!["payload"]!["properties"]!["code"]!["enum"]));
        Assert.Equal(["type", "access_token"], Names(document["components"]!["messages"]!["auth.refresh"]!["payload"]!["required"]));
        Assert.Equal(["type"], Names(document["components"]!["messages"]!["ping"]!["payload"]!["required"]));
        // The server writes numbers as numbers, and a resume's since must be one.
        var auth = document["components"]!["messages"]!["auth"]!["payload"]!["properties"]!;
        Assert.Equal("""{"type":"integer","enum":[401,403,503]}""", auth["status"]!.ToJsonString());
        Assert.Equal(
            """{"type":"integer","minimum":0}""",
            document["components"]!["messages"]!["resume"]!["payload"]!["properties"]!["since"]!.ToJsonString());

        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal(["bearerHeader", "access_tokenQuery", "tokenQuery", "ticketQuery", "bearerSubprotocol", "sessionCookie"], schemes.Select(scheme => scheme.Key));
        Assert.Equal(("http", "bearer"), (schemes["bearerHeader"]!["type"]!.GetValue<string>(), schemes["bearerHeader"]!["scheme"]!.GetValue<string>()));
        Assert.Equal(("httpApiKey", "query", "ticket"), ApiKey(schemes["ticketQuery"]!));
        Assert.Equal(("httpApiKey", "query", "access_token"), ApiKey(schemes["access_tokenQuery"]!));
        Assert.Equal(("httpApiKey", "header", "Sec-WebSocket-Protocol"), ApiKey(schemes["bearerSubprotocol"]!));
        Assert.Contains("bearer.<access token>", schemes["bearerSubprotocol"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(("httpApiKey", "cookie", Auth.SessionCookie.Name), ApiKey(schemes["sessionCookie"]!));
        Assert.Equal(6, document["operations"]!["test_echo_stream.send"]!["security"]!.AsArray().Count);
    }

    [Fact]
    public async Task AConsumersDeclaredMessagesAreOnItsChannelWithTheirPayloads()
    {
        var document = await ServedDocumentAsync();

        // The README's consumer: a stored message, an envelope, and two client messages.
        Assert.Equal(["announcement", "typing"], MessagesOf(document, "ws_announcements_orgId.send").Skip(CommonToClient.Length));
        // typing goes both ways: the client's is the channel's typing.received.
        Assert.Equal(["announce", "typing.received"], MessagesOf(document, "ws_announcements_orgId.receive").Skip(CommonFromClient.Length));
        var channel = document["channels"]!["ws_announcements_orgId"]!["messages"]!;
        Assert.Equal(["type", "id", "text", "by", "createdAt"], Properties(channel["announcement"]!));
        Assert.Equal(["type", "id", "text", "by", "createdAt"], Names(channel["announcement"]!["payload"]!["required"]));
        Assert.Equal(["type", "data", "sender"], Properties(channel["typing"]!));
        Assert.Equal(["type"], Properties(channel["typing.received"]!));
        Assert.Equal("typing", channel["typing.received"]!["name"]!.GetValue<string>());
        Assert.Equal(["type", "text"], Properties(channel["announce"]!));
        Assert.Equal(["type", "text"], Names(channel["announce"]!["payload"]!["required"]));
    }
#if (examples)

    [Fact]
    public async Task TheExampleEndpointsAreChannelsWithTheirMessagesAndPresence()
    {
        var document = await ServedDocumentAsync();
        var channels = document["channels"]!;

        Assert.Equal("/ws/notifications", channels["ws_notifications"]!["address"]!.GetValue<string>());
        Assert.Null(channels["ws_notifications"]!["parameters"]);
        Assert.Equal([.. CommonToClient, "notification"], MessagesOf(document, "ws_notifications.send"));
        Assert.Equal(CommonFromClient, MessagesOf(document, "ws_notifications.receive"));
        Assert.Equal(["type", "id", "title", "body", "data", "createdAt"], Properties(channels["ws_notifications"]!["messages"]!["notification"]!));

        var events = channels["ws_events_orgId"]!;
        Assert.Equal("/ws/events/{orgId}", events["address"]!.GetValue<string>());
        Assert.Equal(["orgId"], events["parameters"]!.AsObject().Select(parameter => parameter.Key));
        Assert.Equal(
            [.. CommonToClient, "presence", "presence.joined", "presence.left", "org.event", "org.signal"],
            MessagesOf(document, "ws_events_orgId.send"));
        Assert.Equal([.. CommonFromClient, "publish", "signal"], MessagesOf(document, "ws_events_orgId.receive"));
        var orgEvent = events["messages"]!["org.event"]!;
        Assert.Equal(["type", "id", "orgId", "event", "data", "sender", "createdAt"], Properties(orgEvent));
        Assert.Equal("org.event", orgEvent["payload"]!["properties"]!["type"]!["const"]!.GetValue<string>());
        Assert.Equal(["id", "username"], orgEvent["payload"]!["properties"]!["sender"]!["properties"]!.AsObject().Select(property => property.Key));
        Assert.Equal(["type", "event", "data", "sender"], Properties(events["messages"]!["org.signal"]!));
        Assert.Equal(["type", "event", "data"], Properties(events["messages"]!["publish"]!));
        Assert.Equal(
            ["type", "members"],
            document["components"]!["messages"]!["presence"]!["payload"]!["properties"]!.AsObject().Select(property => property.Key));
    }
#endif

    [Fact]
    public async Task OutsideDevelopmentThereIsNoAsyncApiDocument()
    {
        await using var app = RealtimeApplication.With([], "Production");

        using var response = await app.CreateClient().GetAsync("/asyncapi/v1.json");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static async Task<JsonObject> ServedDocumentAsync()
    {
        await using var app = RealtimeApplication.With([], "Development");
        using var response = await app.CreateClient().GetAsync("/asyncapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    /// <summary>Every error the schema finds, by where it is in the document.</summary>
    private static List<string> Validate(JsonNode document)
    {
        using var json = JsonDocument.Parse(document.ToJsonString());
        var results = AsyncApiSchema.Value.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        return results.IsValid
            ? []
            : [.. (results.Details ?? []).Where(detail => detail.Errors is { Count: > 0 })
                .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation} ({detail.EvaluationPath}): {error.Value}"))
                .DefaultIfEmpty("invalid, with no error detail")];
    }

    private static string[] MessagesOf(JsonObject document, string operation) =>
        [.. document["operations"]![operation]!["messages"]!.AsArray().Select(reference => reference!["$ref"]!.GetValue<string>().Split('/')[^1])];

    private static string[] Properties(JsonNode message) => [.. message["payload"]!["properties"]!.AsObject().Select(property => property.Key)];

    private static string[] Names(JsonNode? array) => [.. array!.AsArray().Select(name => name!.ToString())];

    private static (string Type, string In, string Name) ApiKey(JsonNode scheme) =>
        (scheme["type"]!.GetValue<string>(), scheme["in"]!.GetValue<string>(), scheme["name"]!.GetValue<string>());
}
