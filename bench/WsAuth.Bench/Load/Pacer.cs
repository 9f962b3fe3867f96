using System.Diagnostics;

namespace WsAuth.Bench.Load;

/// <summary>What happened: operations that succeeded, failed, or were never started because time ran out.</summary>
internal sealed record PaceResult(int Succeeded, int Failed, int NotStarted, TimeSpan Elapsed);

/// <summary>
/// Open-loop load: starts operation <c>i</c> at <c>i / rate</c> seconds whether earlier ones have finished
/// or not, with at most <c>maxInFlight</c> outstanding (beyond that the server is saturated and the offered
/// rate falls behind, which the achieved rate shows). Nothing new starts after <c>issueFor</c>: a server that
/// cannot keep up does not stretch the measurement.
/// </summary>
internal static class Pacer
{
    public static async Task<PaceResult> RunAsync(
        int count, double ratePerSecond, Func<int, Task<bool>> operation, int maxInFlight, TimeSpan issueFor, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(maxInFlight);
        var succeeded = 0;
        var failed = 0;
        var running = new List<Task>(count);
        var start = Stopwatch.GetTimestamp();
        var next = 0;
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        try
        {
            while (next < count && Stopwatch.GetElapsedTime(start) < issueFor)
            {
                var due = (int)Math.Min(count, (Stopwatch.GetElapsedTime(start).TotalSeconds * ratePerSecond) + 1);
                while (next < due && Stopwatch.GetElapsedTime(start) < issueFor)
                {
                    await gate.WaitAsync(bound.Token);
                    running.Add(RunOneAsync(next++));
                }

                if (next < count)
                {
                    await Task.Delay(1, bound.Token);
                }
            }

            await Task.WhenAll(running).WaitAsync(bound.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Timed out: what did not finish counts as failed.
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        var finished = Volatile.Read(ref succeeded) + Volatile.Read(ref failed);
        return new PaceResult(Volatile.Read(ref succeeded), Volatile.Read(ref failed) + (next - finished), count - next, elapsed);

        async Task RunOneAsync(int index)
        {
            try
            {
                if (await operation(index))
                {
                    Interlocked.Increment(ref succeeded);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or OperationCanceledException
                or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
            {
                Interlocked.Increment(ref failed);
            }
            finally
            {
                gate.Release();
            }
        }
    }
}
