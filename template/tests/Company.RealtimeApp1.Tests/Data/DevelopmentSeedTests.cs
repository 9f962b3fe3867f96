using System.Net;
using System.Net.Http.Json;

namespace Company.RealtimeApp1.Tests;

public sealed class DevelopmentSeedTests
{
    [Theory]
    [InlineData("alice", "alice-dev-password", new[] { "admin" }, "acme", "admin")]
    [InlineData("bob", "bob-dev-password", new string[0], "acme", "member")]
    [InlineData("carol", "carol-dev-password", new string[0], "globex", "admin")]
    public async Task DevelopmentSeedsTheDocumentedUsersAndOrganizations(
        string userName, string password, string[] roles, string organization, string organizationRole)
    {
        using var app = RealtimeApplication.With([], environment: "Development");
        var tokens = await app.SignInAsync(userName, password);

        var me = await app.CreateClient(tokens.AccessToken).GetFromJsonAsync<Me>("/me");

        Assert.Equal(userName, me!.Username);
        Assert.Equal(roles, me.Roles);
        var membership = Assert.Single(me.Organizations);
        Assert.Equal((organization, organizationRole), (membership.Slug, membership.Role));
    }

    [Fact]
    public void TheStartUpLogNamesTheSeededUsersAndWhereTheirPasswordsAreButNoPassword()
    {
        using var app = RealtimeApplication.With([], environment: "Development");
        var port = app.ServerAddress.Port;

        var messages = app.Logs.GetSnapshot().Select(record => record.Message).ToList();

        Assert.Contains(
            "Development seed applied (it only adds what is missing): users alice, bob, carol, organizations acme, globex; " +
            "their passwords are in the Seed section of appsettings.Development.json",
            messages);
#if (examples)
        Assert.Contains(messages, message => message.StartsWith("The development page (sign in, streams, who is online) is at http://", StringComparison.Ordinal)
            && message.Contains($":{port}/;", StringComparison.Ordinal));
#endif
        Assert.DoesNotContain(messages, message => message.Contains("-dev-password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMemberPromotedThroughTheApiStaysPromotedWhenTheAppRestartsAndSeedsAgain()
    {
        using var database = TestDatabase.Shared();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Default"] = database.ConnectionString };
        await using (var first = RealtimeApplication.With(settings, environment: "Development"))
        {
            var alice = await first.SignInAsync("alice", "alice-dev-password");
            var bob = await first.SignInAsync("bob", "bob-dev-password");
            var acme = Assert.Single((await first.CreateClient(alice.AccessToken).GetFromJsonAsync<Me>("/me"))!.Organizations);
            var bobId = (await first.CreateClient(bob.AccessToken).GetFromJsonAsync<Me>("/me"))!.Id;

            using var promoted = await first.CreateClient(alice.AccessToken).PostAsJsonAsync(
                $"/api/orgs/{acme.Id}/members", new { userId = bobId, role = "admin" });

            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        }

        // A command in Development sees the promotion too (it does not seed: the seed is the server's, at its start).
        var list = await AppProcess.RunAsync(
            database.ConnectionString, "", new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development" }, "orgs", "list");

        Assert.Equal(
            (0, "acme (Acme Corporation): alice admin, bob admin\nglobex (Globex Corporation): carol admin"),
            (list.ExitCode, list.Output.ReplaceLineEndings("\n")));
        await using var restarted = RealtimeApplication.With(settings, environment: "Development");
        var tokens = await restarted.SignInAsync("bob", "bob-dev-password");
        var me = await restarted.CreateClient(tokens.AccessToken).GetFromJsonAsync<Me>("/me");
        Assert.Equal(("acme", "admin"), (Assert.Single(me!.Organizations).Slug, me.Organizations[0].Role));
    }

    [Fact]
    public async Task OutsideDevelopmentNothingIsSeeded()
    {
        using var app = new RealtimeApplication();

        using var response = await app.PostTokenAsync(("grant_type", "password"), ("username", "alice"), ("password", "alice-dev-password"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_grant", (await response.ReadOAuthErrorAsync()).Error);
    }

    [Fact]
    public async Task DevelopmentDescribesTheApiWithOpenApi()
    {
        using var app = RealtimeApplication.With([], environment: "Development");

        using var response = await app.CreateClient().GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"/token\"", document);
        Assert.Contains("\"/me\"", document);
    }

    [Fact]
    public async Task OpenApiIsNotServedOutsideDevelopment()
    {
        using var app = new RealtimeApplication();

        using var response = await app.CreateClient().GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task HealthIsOkWhenTheDatabaseAnswers()
    {
        using var app = new RealtimeApplication();

        using var response = await app.CreateClient().GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":"Healthy"}""", await response.Content.ReadAsStringAsync());
    }
}
