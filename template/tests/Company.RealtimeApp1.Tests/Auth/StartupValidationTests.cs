using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Tests;

public sealed class StartupValidationTests
{
    [Fact]
    public void OutsideDevelopmentAMissingSigningKeyStopsTheAppNamingTheSetting()
    {
        using var app = RealtimeApplication.With(new() { ["Jwt:SigningKey"] = "" }, environment: "Production");

        var failure = Assert.Throws<OptionsValidationException>(() => app.Services);

        Assert.Contains("No signing key is configured. Set 'Jwt:SigningKey'", failure.Message);
    }

    [Fact]
    public void OutsideDevelopmentAShortSigningKeyStopsTheAppWithoutPrintingIt()
    {
        const string shortKey = "only-twenty-one-bytes";
        using var app = RealtimeApplication.With(new() { ["Jwt:SigningKey"] = shortKey }, environment: "Production");

        var failure = Assert.Throws<OptionsValidationException>(() => app.Services);

        Assert.Contains("'Jwt:SigningKey' is 21 bytes long; it must be at least 32 bytes.", failure.Message);
        Assert.DoesNotContain(shortKey, failure.Message);
    }

    [Fact]
    public void InDevelopmentAMissingSigningKeyIsReplacedByAThrowAwayOne()
    {
        using var app = RealtimeApplication.With(new() { ["Jwt:SigningKey"] = "" }, environment: "Development");

        var key = app.Services.GetRequiredService<IOptions<Auth.JwtOptions>>().Value.SigningKey;

        Assert.Equal(64, key.Length);
    }

    [Fact]
    public void AnOutOfRangeTokenLifetimeStopsTheApp()
    {
        using var app = RealtimeApplication.With(new() { ["Jwt:AccessTokenMinutes"] = "0" });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Services);

        Assert.Contains("AccessTokenMinutes", failure.Message);
    }

    [Fact]
    public void AnOutboundQueueSmallerThanTheLargestMessageStopsTheApp()
    {
        using var target = RealtimeApplication.With(new()
        {
            ["WebSockets:MaxMessageBytes"] = "65536",
            ["WebSockets:OutboundQueueBytes"] = "65535",
        });

        var failure = Assert.Throws<OptionsValidationException>(() => target.Services);

        Assert.Contains(
            "'WebSockets:OutboundQueueBytes' (65535) is smaller than 'WebSockets:MaxMessageBytes' (65536): " +
            "a message that large could be stored but never delivered. Make OutboundQueueBytes at least MaxMessageBytes.",
            failure.Message);
    }

    [Fact]
    public void AnOutboundQueueAsLargeAsTheLargestMessageIsAccepted()
    {
        using var target = RealtimeApplication.With(new()
        {
            ["WebSockets:MaxMessageBytes"] = "65536",
            ["WebSockets:OutboundQueueBytes"] = "65536",
        });

        Assert.NotNull(target.Services);
    }
}
