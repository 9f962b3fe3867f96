using NetArchTest.Rules;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A folder is a feature and dependencies run one way. The WebSocket machinery is a library of its own that
/// references nothing of the app (the compiler holds that: the app references it, not the other way round),
/// and the token layer (Auth) knows nothing of it: each declares what it needs as a small interface, and the
/// app answers (Users/RealtimeSeams.cs). These tests hold the directions inside the app's assembly.
/// </summary>
public sealed class ArchitectureTests
{
    private const string App = "Company.RealtimeApp1";

    [Fact]
    public void AuthKnowsNothingOfTheWebSocketLibraryOrTheConsumers() =>
        AssertNoDependency($"{App}.Auth", $"{App}.WebSockets", $"{App}.Consumers");

    [Theory]
    [InlineData("Users")]
    [InlineData("Organizations")]
    [InlineData("Data")]
    public void NoFeatureBelowTheConsumersKnowsThem(string feature) =>
        AssertNoDependency($"{App}.{feature}", $"{App}.Consumers");

    [Fact]
    public void TheClientReferencesTheBaseClassLibraryOnly()
    {
        // It ships in MAUI, desktop and worker apps: nothing of the app, its realtime layer, ASP.NET Core or a package.
        var references = typeof(Client.RealtimeClient).Assembly.GetReferencedAssemblies().Select(assembly => assembly.Name!).ToList();

        Assert.Contains("System.Net.WebSockets.Client", references);
        Assert.All(references, name => Assert.True(name.StartsWith("System", StringComparison.Ordinal), $"The client references {name}."));
    }

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
