using System.Text;
using System.Text.RegularExpressions;
using Company.RealtimeApp1.Auth;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Company.RealtimeApp1.Diagnostics;

/// <summary>
/// Removes credentials from every log record before any provider sees it. The framework logs request
/// URLs (query strings included) and our code logs what it handles; rather than trust every call site
/// and every log level, one filter sits between all loggers and all providers.
/// </summary>
internal static partial class CredentialRedaction
{
    public const string Mask = "[redacted]";

    /// <summary>Wraps the logger factory so that every logger, the framework's included, redacts credentials.</summary>
    public static ILoggingBuilder RedactCredentials(this ILoggingBuilder logging)
    {
        logging.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(services =>
            new RedactingLoggerFactory(ActivatorUtilities.CreateInstance<LoggerFactory>(services))));
        return logging;
    }

    /// <summary>Returns <paramref name="text"/> with query-string credentials, bearer tokens and JWTs masked.</summary>
    public static string Redact(string text)
    {
        if (!MayContainCredential(text))
        {
            return text;
        }

        text = MaskParameters(text);
        text = BearerCredential().Replace(text, "${scheme}" + Mask);
        return Jwt().Replace(text, Mask);
    }

    /// <summary>
    /// Masks the value of every credential parameter and returns <paramref name="text"/> itself when there is none.
    /// A query or form value runs to the next <c>&amp;</c> (a raw <c>;</c>, <c>,</c> or quote is part of it); a
    /// cookie's value runs to the next <c>;</c>, after which the other cookies are scanned on their own. After a
    /// pair that is not a credential, scanning goes on inside its value rather than past it: a path may hold
    /// <c>=</c> itself (<c>/ws/x=1?ticket=K</c> as a request log prints a decoded <c>x%3D1</c>, or <c>/a=b?refresh_token=R</c>),
    /// and then what reads as that pair's value holds the whole query.
    /// </summary>
    private static string MaskParameters(string text)
    {
        StringBuilder? masked = null;
        var copied = 0;
        var resumeAt = 0;
        for (var match = Parameter().Match(text); match.Success; match = Parameter().Match(text, resumeAt))
        {
            var name = match.Groups["name"].Value;
            var value = match.Groups["value"];
            if (!IsCredentialName(name))
            {
                resumeAt = value.Index;
                continue;
            }

            var cookieEnd = IsSessionCookie(name) ? value.Value.IndexOf(';') : -1;
            var end = cookieEnd < 0 ? value.Index + value.Length : value.Index + cookieEnd;
            masked ??= new StringBuilder(text.Length);
            masked.Append(text, copied, value.Index - copied).Append(Mask);
            copied = resumeAt = end;
        }

        return masked is null ? text : masked.Append(text, copied, text.Length - copied).ToString();
    }

    private static bool MayContainCredential(string text) =>
        text.Contains('=') || text.Contains("eyJ", StringComparison.Ordinal) || text.Contains("earer", StringComparison.Ordinal);

    // Query-string and form parameters that carry a credential, and the session cookie (Cookie and Set-Cookie headers).
    private static readonly HashSet<string> CredentialNames = new(
        ["access_token", "refresh_token", "id_token", "token", "ticket", "password", "client_secret", SessionCookie.Name, SessionCookie.RefreshName],
        StringComparer.OrdinalIgnoreCase);

    private static bool IsSessionCookie(string name) =>
        name.Equals(SessionCookie.Name, StringComparison.OrdinalIgnoreCase) || name.Equals(SessionCookie.RefreshName, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Compares the name as the app reads it (<c>HttpRequest.Query</c>: <c>+</c> is a space, percent-escapes
    /// decoded, case ignored), so that <c>%74icket</c> or <c>access%5Ftoken</c> on the wire is masked too.
    /// </summary>
    private static bool IsCredentialName(string name)
    {
        if (name.Contains('%') || name.Contains('+'))
        {
            name = Uri.UnescapeDataString(name.Replace('+', ' '));
        }

        return CredentialNames.Contains(name);
    }

    // Any name=value pair; the name is the whole run of characters that can spell a parameter name on the wire.
    [GeneratedRegex(@"(?<![A-Za-z0-9_%+.~-])(?<name>[A-Za-z0-9_%+.~-]+)=(?<value>[^&\s]+)")]
    private static partial Regex Parameter();

    // "Bearer abc" in a header and "bearer.abc" in a WebSocket subprotocol. After "Bearer " a short word of
    // lowercase letters is the framework talking about the scheme ("Bearer was not authenticated"), not a
    // credential: every token the app issues or accepts is longer, or has digits, capitals or punctuation.
    [GeneratedRegex(@"(?<scheme>\b[Bb]earer(?:\.| (?![a-z]{1,15}(?![A-Za-z0-9\-._~+/=]))))[A-Za-z0-9\-._~+/]+=*")]
    private static partial Regex BearerCredential();

    // Anything shaped like a JWS compact serialization, wherever it appears.
    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")]
    private static partial Regex Jwt();
}

internal sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();
}

internal sealed class RedactingLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
        {
            return;
        }

        var message = formatter(state, exception);
        var redacted = CredentialRedaction.Redact(message);
        var safeException = exception is null ? null : RedactedException.From(exception);
        if (ReferenceEquals(redacted, message) && !HasCredentialValue(state))
        {
            inner.Log(logLevel, eventId, state, safeException, formatter);
            return;
        }

        inner.Log(logLevel, eventId, RedactedState.From(redacted, state), safeException, static (s, _) => s.Message);
    }

    private static bool HasCredentialValue<TState>(TState state) =>
        state is IEnumerable<KeyValuePair<string, object?>> values
        && values.Any(pair => pair.Value is string text && !ReferenceEquals(CredentialRedaction.Redact(text), text));

    /// <summary>The structured values of a redacted record, themselves redacted, so that structured sinks stay clean too.</summary>
    private sealed class RedactedState(string message, IReadOnlyList<KeyValuePair<string, object?>> values)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message { get; } = message;

        public static RedactedState From<TState>(string message, TState state)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.Select(pair => pair.Value is string text ? KeyValuePair.Create(pair.Key, (object?)CredentialRedaction.Redact(text)) : pair)
                    .Where(pair => pair.Key != "{OriginalFormat}")
                    .ToList()
                : [];
            return new RedactedState(message, values);
        }

        public int Count => values.Count;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }
}
