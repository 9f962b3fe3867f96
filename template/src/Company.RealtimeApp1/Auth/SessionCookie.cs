namespace Company.RealtimeApp1.Auth;

/// <summary>
/// The cookies <c>POST /session</c> sets for browsers. <see cref="Name"/> holds an access token and counts as a
/// credential only at a WebSocket handshake that carries an allowed <c>Origin</c>; <see cref="RefreshName"/>
/// holds the session's refresh token and is sent to <c>/session</c> only, where it renews both (so a page
/// stays signed in across a reload without a token in storage). HttpOnly keeps them from scripts;
/// SameSite=Strict keeps other sites' pages from sending them.
/// </summary>
internal static class SessionCookie
{
    public const string Name = "wsauth_session";

    public const string RefreshName = "wsauth_refresh";

    /// <summary>The only path the refresh cookie is sent to.</summary>
    public const string RefreshPath = "/session";

    /// <summary>The access-token cookie's attributes; Secure whenever the browser came over HTTPS.</summary>
    public static CookieOptions Options(HttpRequest request, TimeSpan? maxAge = null) => Create(request, "/", maxAge);

    /// <summary>The refresh cookie's attributes: the same, on <see cref="RefreshPath"/> only.</summary>
    public static CookieOptions RefreshOptions(HttpRequest request, TimeSpan? maxAge = null) => Create(request, RefreshPath, maxAge);

    private static CookieOptions Create(HttpRequest request, string path, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Path = path,
        Secure = request.IsHttps,
        IsEssential = true,
        MaxAge = maxAge,
    };
}
