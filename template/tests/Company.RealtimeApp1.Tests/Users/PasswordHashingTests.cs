using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Tests;

public sealed class PasswordHashingTests
{
    private static readonly User AnyUser = new();

    [Fact]
    public void HashesAreBcryptAtTheConfiguredWorkFactor()
    {
        var hash = Hasher(workFactor: 5).HashPassword(AnyUser, "correct horse battery staple");

        Assert.StartsWith("$2a$05$", hash);
    }

    [Fact]
    public void TheRightPasswordVerifies()
    {
        var hasher = Hasher(workFactor: 4);
        var hash = hasher.HashPassword(AnyUser, "correct horse battery staple");

        Assert.Equal(PasswordVerificationResult.Success, hasher.VerifyHashedPassword(AnyUser, hash, "correct horse battery staple"));
    }

    [Fact]
    public void AWrongPasswordFails()
    {
        var hasher = Hasher(workFactor: 4);
        var hash = hasher.HashPassword(AnyUser, "correct horse battery staple");

        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(AnyUser, hash, "correct horse battery stapler"));
    }

    [Fact]
    public void RaisingTheWorkFactorAsksForARehash()
    {
        var hash = Hasher(workFactor: 4).HashPassword(AnyUser, "correct horse battery staple");

        var result = Hasher(workFactor: 5).VerifyHashedPassword(AnyUser, hash, "correct horse battery staple");

        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, result);
    }

    [Fact]
    public void AHashFromAnotherSchemeFailsRatherThanThrows()
    {
        var identityV3Hash = new PasswordHasher<User>().HashPassword(AnyUser, "correct horse battery staple");

        var result = Hasher(workFactor: 4).VerifyHashedPassword(AnyUser, identityV3Hash, "correct horse battery staple");

        Assert.Equal(PasswordVerificationResult.Failed, result);
    }

    [Theory]
    [InlineData(72, true)]
    [InlineData(73, false)]
    public async Task PasswordsBcryptWouldTruncateAreRefused(int bytes, bool accepted)
    {
        // 'é' is two UTF-8 bytes: the limit is on bytes, not characters.
        var password = new string('é', bytes / 2) + new string('e', bytes % 2);

        var result = await new BcryptLengthPasswordValidator<User>().ValidateAsync(null!, AnyUser, password);

        Assert.Equal(accepted, result.Succeeded);
        if (!accepted)
        {
            Assert.Equal(BcryptLengthPasswordValidator<User>.ErrorCode, Assert.Single(result.Errors).Code);
        }
    }

    [Fact]
    public async Task SigningInUpgradesAHashMadeAtALowerWorkFactor()
    {
        using var app = RealtimeApplication.With(new() { ["PasswordHashing:WorkFactor"] = "5" });
        var (userName, password) = await app.CreateUniqueUserAsync();
        await app.ChangeUserAsync(userName, (users, user) =>
        {
            user.PasswordHash = Hasher(workFactor: 4).HashPassword(user, password);
            return users.UpdateAsync(user);
        });

        await app.SignInAsync(userName, password);

        string? upgraded = null;
        await app.ChangeUserAsync(userName, (_, user) =>
        {
            upgraded = user.PasswordHash;
            return Task.FromResult(IdentityResult.Success);
        });
        Assert.StartsWith("$2a$05$", upgraded);
    }

    [Fact]
    public async Task RegistrationRefusesAPasswordOver72Bytes()
    {
        using var app = new RealtimeApplication();
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserAdministration>();

        var result = await users.CreateUserAsync("long-password-user", new string('x', 73), []);

        Assert.False(result.Succeeded);
        Assert.Equal(BcryptLengthPasswordValidator<User>.ErrorCode, Assert.Single(result.Errors).Code);
    }

    [Theory]
    [InlineData("unknown user")]
    [InlineData("wrong password")]
    [InlineData("disabled user")]
    public async Task EveryFailedSignInCostsExactlyOneBcryptVerification(string failure)
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        if (failure == "disabled user")
        {
            await app.ChangeUserAsync(userName, (users, user) =>
            {
                user.IsDisabled = true;
                return users.UpdateAsync(user);
            });
        }

        var counting = new CountingHasher(Hasher(workFactor: 4));
        using var counted = app.WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.AddSingleton<IPasswordHasher<User>>(counting)));
        var (name, attempt) = failure switch
        {
            "unknown user" => ("nobody-" + userName, password),
            "wrong password" => (userName, "not the password"),
            _ => (userName, password),
        };

        using var response = await counted.CreateClient().PostAsync("/token", RealtimeApplication.Form(
            ("grant_type", "password"), ("username", name), ("password", attempt)));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, counting.Verifications);
    }

    private sealed class CountingHasher(IPasswordHasher<User> inner) : IPasswordHasher<User>
    {
        private int _verifications;

        public int Verifications => _verifications;

        public string HashPassword(User user, string password) => inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _verifications);
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    private static BcryptPasswordHasher<User> Hasher(int workFactor) =>
        new(Options.Create(new PasswordHashingOptions { WorkFactor = workFactor }));
}
