using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Tests;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Jwt__AccessTokenMinutes", "0", "The settings under 'Jwt' are invalid, so the app stops: AccessTokenMinutes: The field JwtOptions.AccessTokenMinutes must be between 1 and 1440.")]
    [InlineData("Jwt__SigningKey", "", "The settings under 'Jwt' are invalid, so the app stops: No signing key is configured. Set 'Jwt:SigningKey'")]
    [InlineData("WebSockets__MaxMessageBytes", "-1", "The settings under 'WebSockets' are invalid, so the app stops: MaxMessageBytes: The field RealtimeOptions.MaxMessageBytes must be between 1024 and 16777216.")]
    [InlineData("WebSockets__MaxMessageBytes", "lots", "A setting cannot be read, so the app stops: Failed to convert configuration value")]
    public async Task AnInvalidSettingStopsTheProcessWithOneLineNamingItBeforeTheDatabaseIsTouched(string variable, string value, string line)
    {
        // A database the app could not open: had it been touched first, the line would name ConnectionStrings:Default.
        var (exitCode, output, error) = await AppProcess.RunAsync(
            TestDatabase.Unreachable("x"), "", new Dictionary<string, string> { ["Jwt__SigningKey"] = new string('k', 32), [variable] = value });

        var printed = (output + "\n" + error).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(1, exitCode);
        Assert.Contains(printed, text => text.StartsWith(line, StringComparison.Ordinal));
        Assert.DoesNotContain(printed, text => text.StartsWith("at ", StringComparison.Ordinal) || text.Contains("Exception", StringComparison.Ordinal));
        Assert.DoesNotContain(printed, text => text.Contains("ConnectionStrings", StringComparison.Ordinal));
    }

    [Fact]
    public void OutsideDevelopmentAMissingSigningKeyStopsTheAppNamingTheSetting()
    {
        using var app = RealtimeApplication.With(new() { ["Jwt:SigningKey"] = "" }, environment: "Production");

        var failure = app.StartupFailure();

        Assert.Contains("No signing key is configured. Set 'Jwt:SigningKey'", failure);
    }

    [Fact]
    public void OutsideDevelopmentAShortSigningKeyStopsTheAppWithoutPrintingIt()
    {
        const string shortKey = "only-twenty-one-bytes";
        using var app = RealtimeApplication.With(new() { ["Jwt:SigningKey"] = shortKey }, environment: "Production");

        var failure = app.StartupFailure();

        Assert.Contains("'Jwt:SigningKey' is 21 bytes long; it must be at least 32 bytes.", failure);
        Assert.DoesNotContain(shortKey, failure);
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

        var failure = app.StartupFailure();

        Assert.Contains("AccessTokenMinutes", failure);
    }

    [Fact]
    public void AnOutboundQueueSmallerThanTheLargestMessageStopsTheApp()
    {
        using var target = RealtimeApplication.With(new()
        {
            ["WebSockets:MaxMessageBytes"] = "65536",
            ["WebSockets:OutboundQueueBytes"] = "65535",
        });

        var failure = target.StartupFailure();

        Assert.Contains(
            "'WebSockets:OutboundQueueBytes' (65535) is smaller than 'WebSockets:MaxMessageBytes' (65536): " +
            "a message that large could be stored but never delivered. Make OutboundQueueBytes at least MaxMessageBytes.",
            failure);
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
