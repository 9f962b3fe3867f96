using System.Globalization;

namespace WsAuth.Bench.Infrastructure;

/// <summary>A process's memory, from <c>/proc/PID/status</c>: resident set, and its anonymous (private) part.</summary>
internal readonly record struct MemorySample(long RssBytes, long RssAnonBytes, int Threads);

/// <summary>Reads what Linux knows of a process: memory, CPU time, the open-files limit.</summary>
internal static class ProcessStats
{
    public static MemorySample ReadMemory(int pid)
    {
        long rss = 0, anon = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = ReadKilobytes(line);
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anon = ReadKilobytes(line);
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = (int)ReadKilobytes(line);
            }
        }

        return new MemorySample(rss * 1024, anon * 1024, threads);
    }

    /// <summary>User plus system CPU time the process has used so far.</summary>
    public static TimeSpan ReadCpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    /// <summary>The soft limit on open files of this process (each socket is one).</summary>
    public static int ReadOpenFilesLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts[0] == "unlimited" ? int.MaxValue : int.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }

        return 1024;
    }

    /// <summary>
    /// The machine's processors, from <c>/proc/stat</c>: <see cref="Environment.ProcessorCount"/> is what this
    /// process was told (the generator is told 1).
    /// </summary>
    public static int ReadMachineCores() =>
        File.ReadLines("/proc/stat").Count(line => line.StartsWith("cpu", StringComparison.Ordinal) && line.Length > 3 && char.IsAsciiDigit(line[3]));

    /// <summary>How many local ports outgoing connections may use.</summary>
    public static int ReadEphemeralPortCount()
    {
        var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
            .Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return int.Parse(range[1], CultureInfo.InvariantCulture) - int.Parse(range[0], CultureInfo.InvariantCulture) + 1;
    }

    private static long ReadKilobytes(string line) =>
        long.Parse(line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}

/// <summary>CPU used by a process (or several together: a cluster's instances and its Redis) between two moments, as a fraction of one core.</summary>
internal sealed class CpuMeter(params IReadOnlyList<int> pids)
{
    private TimeSpan _cpu = Total(pids);
    private long _at = System.Diagnostics.Stopwatch.GetTimestamp();

    private static TimeSpan Total(IReadOnlyList<int> pids)
    {
        var total = TimeSpan.Zero;
        foreach (var pid in pids)
        {
            total += ProcessStats.ReadCpuTime(pid);
        }

        return total;
    }

    public double Read()
    {
        var cpu = Total(pids);
        var at = System.Diagnostics.Stopwatch.GetTimestamp();
        var wall = System.Diagnostics.Stopwatch.GetElapsedTime(_at, at);
        var used = (cpu - _cpu) / wall;
        (_cpu, _at) = (cpu, at);
        return Math.Round(used, 3);
    }
}
