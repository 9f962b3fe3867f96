namespace Company.RealtimeApp1.Auth;

/// <summary>
/// The cookie <c>POST /session</c> sets for browsers: it holds an access token, and counts as a
/// credential only at a WebSocket handshake that carries an allowed <c>Origin</c>. HttpOnly keeps it
/// from scripts; SameSite=Strict keeps other sites' pages from sending it.
/// </summary>
internal static class SessionCookie
{
    public const string Name = "wsauth_session";

    /// <summary>The attributes the cookie is set and cleared with; Secure whenever the browser came over HTTPS.</summary>
    public static CookieOptions Options(HttpRequest request, TimeSpan? maxAge = null) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        Secure = request.IsHttps,
        IsEssential = true,
        MaxAge = maxAge,
    };
}
