using System.Net;
using System.Net.Http.Json;
using System.Text;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Organizations;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.Tests;

public sealed class BearerAuthenticationTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task MeDescribesTheUserTheirRolesAndTheirOrganizations()
    {
        var (userName, password) = await app.CreateUniqueUserAsync("admin");
        var (otherName, _) = await app.CreateUniqueUserAsync();
        var slug = "org-" + Guid.NewGuid().ToString("N")[..8];
        var organization = await app.CreateOrganizationAsync(slug, (userName, OrganizationRole.Admin), (otherName, OrganizationRole.Member));
        var tokens = await app.SignInAsync(userName, password);

        using var response = await app.CreateClient(tokens.AccessToken).GetAsync("/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = (await response.Content.ReadFromJsonAsync<Me>())!;
        Assert.Equal(new JsonWebToken(tokens.AccessToken).Subject, me.Id.ToString());
        Assert.Equal(userName, me.Username);
        Assert.Equal(["admin"], me.Roles);
        var membership = Assert.Single(me.Organizations);
        Assert.Equal(new MyOrg(organization.Id, slug, slug, "admin"), membership);
    }

    [Fact]
    public async Task WithoutATokenTheAnswerIsAPlainBearerChallenge()
    {
        using var response = await app.CreateClient().GetAsync("/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ATokenMadeWithTheServersKeyAndClaimsIsAccepted()
    {
        // The control for the forgeries below: each differs from this token in one thing only.
        var user = await app.CreateUniqueUserAsync();

        using var response = await app.CreateClient(await app.ForgeAsync(user.UserName)).GetAsync("/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AGarbageTokenIsInvalidToken()
    {
        await AssertInvalidTokenAsync("not-a-jwt");
    }

    [Fact]
    public async Task AnUnsignedTokenIsInvalidToken()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var genuine = new JsonWebToken((await app.SignInAsync(userName, password)).AccessToken);
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = genuine.EncodedPayload;

        await AssertInvalidTokenAsync($"{header}.{payload}.");
    }

    [Fact]
    public async Task ATokenSignedWithAnotherKeyIsInvalidToken()
    {
        var user = await app.CreateUniqueUserAsync();
        await AssertInvalidTokenAsync(await app.ForgeAsync(user.UserName, key: new string('k', 64)));
    }

    [Fact]
    public async Task AnExpiredTokenIsInvalidToken()
    {
        var user = await app.CreateUniqueUserAsync();
        await AssertInvalidTokenAsync(await app.ForgeAsync(user.UserName, expires: DateTime.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public async Task ATokenForAnotherAudienceIsInvalidToken()
    {
        var user = await app.CreateUniqueUserAsync();
        await AssertInvalidTokenAsync(await app.ForgeAsync(user.UserName, audience: "someone-else"));
    }

    [Fact]
    public async Task ATokenFromAnotherIssuerIsInvalidToken()
    {
        var user = await app.CreateUniqueUserAsync();
        await AssertInvalidTokenAsync(await app.ForgeAsync(user.UserName, issuer: "someone-else"));
    }

    [Fact]
    public async Task ATokenSignedWithAnotherHmacAlgorithmIsInvalidToken()
    {
        var user = await app.CreateUniqueUserAsync();
        await AssertInvalidTokenAsync(await app.ForgeAsync(user.UserName, algorithm: SecurityAlgorithms.HmacSha512));
    }

    [Fact]
    public async Task ADeletedUsersTokenIsInvalidToken()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        await app.ChangeUserAsync(userName, (users, user) => users.DeleteAsync(user));

        await AssertInvalidTokenAsync(tokens.AccessToken);
    }

    [Fact]
    public async Task ADisabledUsersTokenIsInvalidToken()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        await app.ChangeUserAsync(userName, (users, user) =>
        {
            user.IsDisabled = true;
            return users.UpdateAsync(user);
        });

        await AssertInvalidTokenAsync(tokens.AccessToken);
    }

    [Theory]
    [InlineData("disabled")]
    [InlineData("password changed")]
    [InlineData("deleted")]
    public async Task ATokenAcceptedAMomentAgoIsRefusedOnceItsUserLosesAccess(string change)
    {
        // The first request leaves the user's check remembered (AccessCache); losing access must forget it.
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        using var accepted = await app.CreateClient(tokens.AccessToken).GetAsync("/me");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        await app.ChangeUserAsync(userName, (users, user) => change switch
        {
            "disabled" => Disable(users, user),
            "password changed" => users.ChangePasswordAsync(user, password, "a brand new passphrase"),
            _ => users.DeleteAsync(user),
        });

        await AssertInvalidTokenAsync(tokens.AccessToken);
    }

    [Fact]
    public async Task AUserReEnabledAfterARefusalIsLetInAtOnce()
    {
        // Refusals are never remembered: giving access back takes effect on the next request.
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        await app.ChangeUserAsync(userName, Disable);
        await AssertInvalidTokenAsync(tokens.AccessToken);

        await app.ChangeUserAsync(userName, (users, user) =>
        {
            user.IsDisabled = false;
            return users.UpdateAsync(user);
        });

        // Disabling rotated nothing, so the token issued before is valid again.
        using var response = await app.CreateClient(tokens.AccessToken).GetAsync("/me");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ChangingThePasswordInvalidatesEarlierTokens()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        await app.ChangeUserAsync(userName, (users, user) => users.ChangePasswordAsync(user, password, "a brand new passphrase"));

        await AssertInvalidTokenAsync(tokens.AccessToken);
        var fresh = await app.SignInAsync(userName, "a brand new passphrase");
        using var me = await app.CreateClient(fresh.AccessToken).GetAsync("/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task AQueryStringTokenIsIgnoredOnHttpEndpoints()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        using var response = await app.CreateClient().GetAsync("/me?access_token=" + tokens.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    private static Task<Microsoft.AspNetCore.Identity.IdentityResult> Disable(
        Microsoft.AspNetCore.Identity.UserManager<Users.User> users, Users.User user)
    {
        user.IsDisabled = true;
        return users.UpdateAsync(user);
    }

    private async Task AssertInvalidTokenAsync(string token)
    {
        using var response = await app.CreateClient(token).GetAsync("/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.StartsWith("error=\"invalid_token\"", challenge.Parameter);
    }
}
