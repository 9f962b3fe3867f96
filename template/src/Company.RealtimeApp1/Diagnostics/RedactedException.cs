namespace Company.RealtimeApp1.Diagnostics;

/// <summary>
/// An exception as log providers print it (its message, stack trace, inner exceptions and <see cref="ToString"/>),
/// with credentials masked. Framework exceptions quote what they refused: Kestrel's <c>BadHttpRequestException</c>
/// for a request line it cannot parse carries that line, query string and all. The original type's name stays
/// first in <see cref="ToString"/>, as a console or file provider prints it; a provider that records
/// <see cref="object.GetType"/> sees this type, and only for an exception that held a credential.
/// </summary>
internal sealed class RedactedException : Exception
{
    private readonly string _text;
    private readonly string? _stackTrace;

    private RedactedException(Exception original, Exception? inner)
        : base(CredentialRedaction.Redact(original.Message), inner)
    {
        _text = CredentialRedaction.Redact(original.ToString());
        _stackTrace = original.StackTrace is { } stackTrace ? CredentialRedaction.Redact(stackTrace) : null;
        HResult = original.HResult;
        Source = original.Source;
    }

    public override string? StackTrace => _stackTrace;

    public override string ToString() => _text;

    /// <summary>
    /// <paramref name="exception"/> itself when none of its text holds a credential (its <see cref="Exception.ToString"/>
    /// holds its message, its stack and every inner exception's), else a copy whose every text is masked.
    /// </summary>
    public static Exception From(Exception exception)
    {
        var text = exception.ToString();
        return ReferenceEquals(CredentialRedaction.Redact(text), text)
            ? exception
            : new RedactedException(exception, exception.InnerException is { } inner ? From(inner) : null);
    }
}
