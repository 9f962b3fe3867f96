using NetArchTest.Rules;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A folder is a feature and dependencies run one way. The WebSocket machinery (Realtime) knows nothing
/// of the app, and the token layer (Auth) knows nothing of the WebSocket machinery: each declares what it
/// needs as a small interface, and the app answers (Users/RealtimeSeams.cs).
/// </summary>
public sealed class ArchitectureTests
{
    private const string App = "Company.RealtimeApp1";

    [Fact]
    public void RealtimeUsesNothingOfTheApp() =>
        AssertNoDependency($"{App}.Realtime", $"{App}.Auth", $"{App}.Users", $"{App}.Organizations", $"{App}.Data", $"{App}.Consumers", $"{App}.Diagnostics");

    [Fact]
    public void AuthKnowsNothingOfRealtimeOrTheConsumers() =>
        AssertNoDependency($"{App}.Auth", $"{App}.Realtime", $"{App}.Consumers");

    [Theory]
    [InlineData("Users")]
    [InlineData("Organizations")]
    [InlineData("Data")]
    public void NoFeatureBelowTheConsumersKnowsThem(string feature) =>
        AssertNoDependency($"{App}.{feature}", $"{App}.Consumers");

    private static void AssertNoDependency(string layer, params string[] forbidden)
    {
        var result = Types.InAssembly(typeof(Program).Assembly)
            .That().ResideInNamespace(layer)
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult();

        Assert.True(result.IsSuccessful,
            $"{layer} must not use {string.Join(", ", forbidden)}, but these types do: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }
}
