using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

internal static class AuthServiceCollectionExtensions
{
    /// <summary>JWT bearer authentication, the token endpoint's services and its rate limits.</summary>
    public static IServiceCollection AddTokenAuthentication(this IServiceCollection services, IHostEnvironment environment)
    {
        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtSigningKeyValidator>();
        if (environment.IsDevelopment())
        {
            // A fresh template has a key in appsettings.Development.json; without one, use a throw-away
            // key rather than refuse to start (tokens then do not survive a restart).
            services.PostConfigure<JwtOptions>(options =>
            {
                if (string.IsNullOrWhiteSpace(options.SigningKey))
                {
                    options.SigningKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
                }
            });
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AccessTokenIssuer>();
        services.AddSingleton<AccessCache>();
        services.AddSingleton<AccessTokenValidator>();
        services.AddScoped<RefreshTokenStore>();
        services.AddScoped<TokenGrants>();
        services.AddTokenRateLimiting();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>, ConfigureJwtBearer>();

        return services;
    }
}
