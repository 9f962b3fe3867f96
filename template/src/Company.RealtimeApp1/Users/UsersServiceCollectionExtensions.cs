using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Users;

internal static class UsersServiceCollectionExtensions
{
    /// <summary>ASP.NET Core Identity's user store over EF Core, with bcrypt hashing and lockout.</summary>
    public static IServiceCollection AddUsers(this IServiceCollection services)
    {
        services.AddOptions<PasswordHashingOptions>()
            .BindConfiguration(PasswordHashingOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordHashingOptions>, PasswordHashingOptionsValidator>();

        // Registered before AddIdentityCore, whose own hasher is only added when none is.
        services.AddSingleton<IPasswordHasher<User>, BcryptPasswordHasher<User>>();
        services.AddSingleton<DummyPasswordHash>();
        services.AddScoped<PasswordSignIn>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddScoped<UserAdministration>();
        services.AddSingleton<UserConnectionAuthority>();
        services.AddSingleton<IConnectionAuthority>(provider => provider.GetRequiredService<UserConnectionAuthority>());
        services.AddSingleton<IConnectionTokenValidator>(provider => provider.GetRequiredService<UserConnectionAuthority>());
        services.AddSingleton<IRevocationListener, AccessCacheRevocationListener>();
        services.AddSingleton<ISignInRevocationListener, SocketsEndWithSignIn>();
        services.AddSingleton<ISignInOriginPolicy, SignInOrigins>();
        services.AddSingleton<ITokenRateLimiters, SharedTokenRateLimiters>();

        services.AddIdentityCore<User>(options =>
            {
                // Length over composition rules (NIST SP 800-63B); bcrypt caps the other end.
                options.Password.RequiredLength = 12;
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;

                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
            })
            .AddRoles<Role>()
            .AddUserManager<RevokingUserManager>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddPasswordValidator<BcryptLengthPasswordValidator<User>>();

        return services;
    }
}
