using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Company.RealtimeApp1.Diagnostics;

internal static class HealthEndpoint
{
    /// <summary>
    /// <c>GET /health</c>: <c>200 {"status":"Healthy"}</c>, or <c>503 {"status":"Unhealthy"}</c> when the database (or
    /// Redis, when configured) does not answer. JSON in both states, as every other answer of the app: the
    /// framework's own writer answers <c>text/plain</c>. Which check failed is not said to anyone who asks.
    /// </summary>
    public static IEndpointConventionBuilder MapHealth(this IEndpointRouteBuilder routes) =>
        routes.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteStatusAsync });

    private static async Task WriteStatusAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
