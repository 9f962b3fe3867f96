using System.Reflection;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Hosting;

/// <summary>
/// Every setting is checked before anything else runs (the database included): the options validated at start-up
/// (<c>ValidateOnStart</c>) are validated here, first, and an invalid one stops the app with one logged line per
/// failure, naming the section, and exit code 1, never a stack trace.
/// </summary>
internal static partial class StartupValidation
{
    /// <summary>False, after logging what is wrong, when a setting is missing or invalid.</summary>
    public static bool SettingsAreValid(this WebApplication app)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (Exception invalid) when (app.ReportInvalidSettings(invalid))
        {
            return false;
        }
    }

    /// <summary>
    /// True, after logging what is wrong as <see cref="SettingsAreValid"/> does, when <paramref name="exception"/> says
    /// that a setting is missing or invalid: a command meets the settings it uses when it first uses them.
    /// </summary>
    public static bool ReportInvalidSettings(this WebApplication app, Exception exception)
    {
        switch (exception)
        {
            case OptionsValidationException invalid:
                Report(app, invalid);
                return true;
            case InvalidOperationException unreadable when unreadable.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                // A value the binder cannot read as its type (a number that is not one): its message names the key.
                Log.UnreadableSetting(Logger(app), unreadable.Message);
                return true;
            case AggregateException invalid when invalid.InnerExceptions.All(inner => inner is OptionsValidationException):
                foreach (var inner in invalid.InnerExceptions.Cast<OptionsValidationException>())
                {
                    Report(app, inner);
                }

                return true;
            default:
                return false;
        }
    }

    private static void Report(WebApplication app, OptionsValidationException invalid)
    {
        var logger = Logger(app);
        var section = invalid.OptionsType.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string
            ?? invalid.OptionsType.Name;
        foreach (var failure in invalid.Failures)
        {
            Log.InvalidSetting(logger, section, failure);
        }
    }

    private static ILogger Logger(WebApplication app) => app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Company.RealtimeApp1.Configuration");

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Critical, "A setting cannot be read, so the app stops: {Failure}")]
        public static partial void UnreadableSetting(ILogger logger, string failure);

        [LoggerMessage(1, LogLevel.Critical, "The settings under '{Section}' are invalid, so the app stops: {Failure}")]
        public static partial void InvalidSetting(ILogger logger, string section, string failure);
    }
}
