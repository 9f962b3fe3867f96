using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;

namespace WsAuth.Bench.Servers;

/// <summary>
/// The app generated from <c>template/</c> as a user gets it (<c>dotnet new wsauth --tests false</c> in an
/// isolated hive), run in Development with its default settings and in-memory bus. Only settings that
/// affect setup are changed: extra seed users and organizations, a low bcrypt cost to seed and sign them in
/// quickly, and a higher <c>/token</c> limit per client address so one address can sign in thousands of users.
/// </summary>
internal sealed class SubjectServer(BenchPaths paths, string? existingApp = null, bool presence = false) : ServerUnderTest(paths)
{
    private const string AppName = "Bench.Subject";
    /// <summary>Setup requests in flight: each writes to SQLite, so more do not go faster.</summary>
    private const int SignInConcurrency = 4;

    /// <summary>The generated solution's folder (<c>--subject</c>, or a fresh instantiation).</summary>
    private string SolutionDirectory => existingApp ?? Path.Combine(Paths.Temp, "subject");

    /// <summary>The app's project folder inside it: <c>src/&lt;name&gt;/</c>.</summary>
    private string AppDirectory => Directory.GetFiles(Path.Combine(SolutionDirectory, "src"), "*.csproj", SearchOption.AllDirectories)
        .Select(Path.GetDirectoryName)
        .Single(directory => File.Exists(Path.Combine(directory!, "Program.cs")))!;

    public override string Name => "subject";

    public override string Description => "the app generated from template/ (Development, default settings, in-memory bus)";

    public override string ProjectFile => Directory.GetFiles(AppDirectory, "*.csproj").Single();

    public World? World { get; private set; }

    /// <summary>Instantiates the template into a fresh directory through a fresh hive, and reads its token settings.</summary>
    public override async Task PrepareAsync(BenchProfile profile, CancellationToken cancellationToken)
    {
        if (existingApp is not null)
        {
            // An app generated earlier (--subject), perhaps with a change to try: a fresh database, nothing else.
            foreach (var database in Directory.GetFiles(AppDirectory, "app.db*"))
            {
                File.Delete(database);
            }
        }
        else
        {
            await InstantiateAsync(cancellationToken);
        }

        var development = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppDirectory, "appsettings.Development.json"), cancellationToken))!;
        var defaults = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppDirectory, "appsettings.json"), cancellationToken))!;
        World = World.Create(
            profile.Users,
            profile.Organizations,
            development["Jwt"]!["SigningKey"]!.GetValue<string>(),
            defaults["Jwt"]!["Issuer"]!.GetValue<string>(),
            defaults["Jwt"]!["Audience"]!.GetValue<string>());
    }

    private async Task InstantiateAsync(CancellationToken cancellationToken)
    {
        var hive = Path.Combine(Paths.Temp, "hive");
        foreach (var directory in new[] { hive, SolutionDirectory })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        (await Command.RunAsync("dotnet", ["new", "install", Paths.Root, "--debug:custom-hive", hive],
            Paths.Temp, TimeSpan.FromMinutes(2), cancellationToken)).EnsureSuccess("Installing the template");
        (await Command.RunAsync("dotnet", ["new", "wsauth", "-n", AppName, "-o", SolutionDirectory, "--debug:custom-hive", hive, "--tests", "false"],
            Paths.Temp, TimeSpan.FromMinutes(3), cancellationToken)).EnsureSuccess("Instantiating the template");
    }

    public override async Task<ServerSession> StartAsync(World? world, BenchProfile profile, int? core, CancellationToken cancellationToken)
    {
        world = World ?? throw new InvalidOperationException("Prepare the subject first.");
        Settings.Clear();
        Settings["ASPNETCORE_ENVIRONMENT"] = "Development";
        Settings["PasswordHashing__WorkFactor"] = "4";
        Settings["RateLimiting__Token__PerClient"] = "1000000";
        // SignalR and the bare peer have no presence: the scenarios compare like with like. What presence costs is
        // its own measurement (issue 22: joins/s and memory with it on against off).
        Settings["WebSockets__Presence__Enabled"] = presence ? "true" : "false";

        var environment = new Dictionary<string, string>(Settings);
        // The seed keeps its own three users (indexes 0-2) and two organizations (0-1); ours come after them.
        foreach (var user in world.Users)
        {
            var index = 3 + user.Index;
            environment[$"Seed__Users__{index}__UserName"] = user.Name;
            environment[$"Seed__Users__{index}__Password"] = user.Password;
        }

        foreach (var org in world.Orgs)
        {
            var index = 2 + org.Index;
            environment[$"Seed__Organizations__{index}__Slug"] = org.Slug;
            environment[$"Seed__Organizations__{index}__Name"] = $"Bench {org.Index}";
            environment[$"Seed__Organizations__{index}__Members__0__UserName"] = org.Admin.Name;
            environment[$"Seed__Organizations__{index}__Members__0__Role"] = "admin";
        }

        Settings["Seed__Users__3.."] = $"{world.Users.Count} users bench0..bench{world.Users.Count - 1}";
        Settings["Seed__Organizations__2.."] = $"{world.Orgs.Count} organizations bench-org-0..{world.Orgs.Count - 1}, each with one admin";

        _environment = environment;
        var session = await StartSessionAsync(
            AppDirectory, environment, new SubjectProtocol(), world, profile, core, TimeSpan.FromMinutes(3), cancellationToken);
        // The template's Company.RealtimeApp1 becomes the project's name, and so does RealtimeMetrics.MeterName.
        session.MeterName = Path.GetFileNameWithoutExtension(ProjectFile);
        try
        {
            Scenarios.Progress.Write($"subject: seeded and listening; signing in {world.Users.Count + 1} users");
            await SignInAllAsync(session, cancellationToken);
            Scenarios.Progress.Write("subject: adding the members through the admin API");
            await AddMembersAsync(session, cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    private Dictionary<string, string>? _environment;

    public override bool HasBackplane => true;

    /// <summary>
    /// Another instance of the app in the same directory, so on the same SQLite file, with the same seed
    /// settings (the seed is race-safe and adds only what is missing) and its built-in Redis backplane on
    /// (<c>ConnectionStrings__Redis</c>). The users, memberships and tokens are the first start's.
    /// </summary>
    public override async Task<ServerSession> StartClusterMemberAsync(
        World world, BenchProfile profile, int? core, string instance, string redis, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>(_environment ?? throw new InvalidOperationException("Start the subject once first."))
        {
            ["ConnectionStrings__Redis"] = redis,
        };
        return await StartSessionAsync(
            AppDirectory, environment, new SubjectProtocol(), world, profile, core, TimeSpan.FromMinutes(3), cancellationToken, instance);
    }

    /// <summary>Gets a fresh access token for every user (and alice) through <c>POST /token</c>.</summary>
    public static async Task SignInAllAsync(ServerSession session, CancellationToken cancellationToken)
    {
        var world = session.World;
        await Parallel.ForEachAsync(
            world.Users.Append(world.Admin),
            new ParallelOptions { MaxDegreeOfParallelism = SignInConcurrency, CancellationToken = cancellationToken },
            async (user, token) =>
            {
                user.Token = await SignInAsync(session.Http, session.Server.BaseUri, user, token);
                user.Id = ReadSubject(user.Token);
            });
        world.TokensIssuedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Finds the organizations' ids (<c>GET /me</c> of each admin) and adds the members through the admin API.</summary>
    private static async Task AddMembersAsync(ServerSession session, CancellationToken cancellationToken)
    {
        foreach (var org in session.World.Orgs)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(session.Server.BaseUri, "/me"));
            request.Headers.Authorization = new("Bearer", org.Admin.Token);
            using var response = await session.Http.SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
            var me = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            org.Id = me.GetProperty("organizations").EnumerateArray()
                .Single(o => o.GetProperty("slug").GetString() == org.Slug)
                .GetProperty("id").GetGuid();
        }

        var members = session.World.Orgs.SelectMany(org => org.Members.Where(member => member != org.Admin).Select(member => (org, member)));
        await Parallel.ForEachAsync(
            members,
            new ParallelOptions { MaxDegreeOfParallelism = SignInConcurrency, CancellationToken = cancellationToken },
            async (pair, token) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(session.Server.BaseUri, $"/api/orgs/{pair.org.IdText}/members"))
                {
                    Content = JsonContent.Create(new { userId = pair.member.Id, role = "member" }),
                };
                request.Headers.Authorization = new("Bearer", pair.org.Admin.Token);
                using var response = await session.Http.SendAsync(request, token);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException(
                        $"Adding {pair.member.Name} to {pair.org.Slug} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}");
                }
            });
    }

    private static async Task<string> SignInAsync(HttpClient http, Uri server, BenchUser user, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["username"] = user.Name,
            ["password"] = user.Password,
        });
        using var response = await http.PostAsync(new Uri(server, "/token"), form, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Signing in {user.Name} failed: {(int)response.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>The user id (<c>sub</c>) from the token's payload; the signature is the servers' business.</summary>
    private static Guid ReadSubject(string token)
    {
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var claims = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        return Guid.Parse(claims.RootElement.GetProperty("sub").GetString()!, CultureInfo.InvariantCulture);
    }
}
