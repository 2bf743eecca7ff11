namespace EdgeAe.Tests;

/// <summary>
/// Allocation checks that tell a hot path that allocates from the runtime finishing its own work on the measured thread.
/// A path that allocates does so in every window; tiered compilation (an on-stack replacement compiled on the running
/// thread, a method's first tier-1 call) can allocate once inside a window when the machine is loaded — seen in CI:
/// 5,216 bytes in one window of 5,000 optimizer steps, once in about twenty runs. So a check measures up to
/// <see cref="Windows"/> windows and passes at the first that allocates nothing.
/// </summary>
internal static class Allocations
{
    /// <summary>Windows measured at most.</summary>
    public const int Windows = 4;

    /// <summary>
    /// Runs <paramref name="window"/> (which returns the bytes it allocated) until it returns 0, at most <see cref="Windows"/>
    /// times; returns the least and how many windows ran, and the bytes of every window for the failure message.
    /// </summary>
    public static (long Least, int Runs, string All) Least(Func<long> window)
    {
        var bytes = new List<long>(Windows);
        while (bytes.Count < Windows)
        {
            bytes.Add(window());
            if (bytes[^1] == 0)
            {
                break;
            }
        }

        return (bytes.Min(), bytes.Count, string.Join(", ", bytes));
    }

    /// <summary>Asserts that some window of <paramref name="window"/> allocated nothing on this thread; returns the windows run.</summary>
    public static int AssertNoneOnThisThread(Action window)
    {
        (long least, int runs, string all) = Least(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            window();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.True(least == 0, $"every window allocated on this thread: {all} bytes");
        return runs;
    }
}
