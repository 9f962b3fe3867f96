using System.Net;
using System.Net.Http.Json;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>A signed-in test user: who, with which password, and the access token the sign-in gave.</summary>
public sealed record TestUser(Guid Id, string UserName, string Password, string Token);

/// <summary>Users and organizations for tests, and the token-endpoint steps and assertions many tests share.</summary>
public static class TestUsers
{
    /// <summary>A user with a unique name and a valid password, so tests sharing an app do not interfere.</summary>
    public static async Task<(string UserName, string Password)> CreateUniqueUserAsync(this RealtimeApplication app, params string[] roles)
    {
        var userName = $"user-{Guid.NewGuid():N}"[..21];
        const string password = "correct horse battery staple";
        await app.CreateUserAsync(userName, password, roles);
        return (userName, password);
    }

    public static async Task<User> CreateUserAsync(this RealtimeApplication app, string userName, string password, params string[] roles)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateUserAsync(userName, password, roles);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        return (await scope.ServiceProvider.GetRequiredService<UserManager<User>>().FindByNameAsync(userName))!;
    }

    public static async Task<Organization> CreateOrganizationAsync(this RealtimeApplication app, string slug, params (string UserName, OrganizationRole Role)[] members)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var organizations = scope.ServiceProvider.GetRequiredService<OrganizationAdministration>();
        var created = await organizations.CreateOrganizationAsync(slug, null);
        Assert.Null(created.Error);
        foreach (var (userName, role) in members)
        {
            Assert.Null((await organizations.SetMembershipAsync(slug, userName, role)).Error);
        }

        return created.Value!;
    }

    /// <summary>Runs <paramref name="change"/> against the user through Identity's UserManager.</summary>
    public static async Task ChangeUserAsync(this RealtimeApplication app, string userName, Func<UserManager<User>, User, Task<IdentityResult>> change)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        var user = await users.FindByNameAsync(userName);
        Assert.NotNull(user);
        var result = await change(users, user);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    public static Task<HttpResponseMessage> PostTokenAsync(this RealtimeApplication app, params (string Key, string Value)[] fields) =>
        app.CreateClient().PostAsync("/token", RealtimeApplication.Form(fields));

    /// <summary>Signs in with the password grant and returns the token response.</summary>
    public static async Task<TokenPair> SignInAsync(this RealtimeApplication app, string userName, string password)
    {
        using var response = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TokenPair>())!;
    }

    /// <summary>A new user with a unique name (and <paramref name="roles"/>), signed in with the password grant.</summary>
    public static async Task<TestUser> CreateSignedInUserAsync(this RealtimeApplication app, params string[] roles)
    {
        var (userName, password) = await app.CreateUniqueUserAsync(roles);
        var token = (await app.SignInAsync(userName, password)).AccessToken;
        return new TestUser(Guid.Parse(new JsonWebToken(token).Subject), userName, password, token);
    }

    /// <summary>The refresh grant, which must succeed.</summary>
    public static async Task<TokenPair> RefreshAsync(this RealtimeApplication app, string refreshToken)
    {
        using var response = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", refreshToken));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TokenPair>())!;
    }

    /// <summary>The refresh grant, which must be refused as a dead refresh token is.</summary>
    public static async Task AssertRefreshRefusedAsync(this RealtimeApplication app, string refreshToken)
    {
        using var response = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", refreshToken));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_grant", "The refresh token is invalid, expired or revoked."), await response.ReadOAuthErrorAsync());
    }

    /// <summary>The password grant, which must be refused with the one answer every credential failure gets.</summary>
    public static async Task AssertSignInRefusedAsync(this RealtimeApplication app, string userName, string password)
    {
        using var response = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await response.ReadOAuthErrorAsync());
    }
}
