using System.Diagnostics;

namespace WsAuth.Bench.Scenarios;

/// <summary>Progress lines on standard error, so the final table on standard output stays clean.</summary>
internal static class Progress
{
    private static readonly long Start = Stopwatch.GetTimestamp();

    public static void Write(string line) =>
        Console.Error.WriteLine($"[{Stopwatch.GetElapsedTime(Start).TotalSeconds,6:0.0}s] {line}");
}
