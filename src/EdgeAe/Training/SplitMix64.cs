namespace EdgeAe.Training;

/// <summary>
/// A small deterministic pseudo-random generator (Steele, Lea &amp; Flood's SplitMix64, the generator the
/// generated models use for initialisation). Only 64-bit integer arithmetic decides the stream, so for a
/// given seed it is identical on every runtime version and platform, unlike <see cref="System.Random"/>.
/// A value type without allocation: pass it by <c>ref</c> so that draws advance the caller's state.
/// </summary>
public struct SplitMix64
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;
    private double _spareGaussian;
    private bool _hasSpareGaussian;

    /// <summary>Creates a generator whose stream is determined by <paramref name="seed"/>.</summary>
    /// <param name="seed">Any value, zero included.</param>
    public SplitMix64(ulong seed)
    {
        _state = seed;
        _spareGaussian = 0;
        _hasSpareGaussian = false;
    }

    /// <summary>The next 64 uniformly distributed bits.</summary>
    /// <returns>A uniform 64-bit value.</returns>
    public ulong NextUInt64()
    {
        ulong z = _state += Golden;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float uniform in [0, 1) with 24 random bits (every value a multiple of 2⁻²⁴).</summary>
    /// <returns>A value in [0, 1).</returns>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1UL << 24));

    /// <summary>A double uniform in [0, 1) with 53 random bits.</summary>
    /// <returns>A value in [0, 1).</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer uniform in [0, <paramref name="maxExclusive"/>), without modulo bias (Lemire's method).</summary>
    /// <param name="maxExclusive">The exclusive upper bound; positive.</param>
    /// <returns>A value in [0, <paramref name="maxExclusive"/>).</returns>
    public int NextInt32(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong bound = (ulong)maxExclusive;
        ulong product = (NextUInt64() >> 32) * bound;
        if ((uint)product < bound)
        {
            // Reject the few low products that would make some results more likely.
            ulong threshold = (0x1_0000_0000UL - bound) % bound;
            while ((uint)product < threshold)
            {
                product = (NextUInt64() >> 32) * bound;
            }
        }

        return (int)(product >> 32);
    }

    /// <summary>
    /// A standard normal draw (mean 0, variance 1) by Marsaglia's polar method, which needs only a square root
    /// (exact in IEEE arithmetic) and a logarithm. Draws come in pairs; the second is kept for the next call.
    /// </summary>
    /// <remarks>
    /// The logarithm comes from the platform's math library, so a draw could in principle differ in its last
    /// bit between platforms; the uniform draws consumed (and so every later draw) never do.
    /// </remarks>
    /// <returns>A normally distributed value.</returns>
    public double NextGaussian()
    {
        if (_hasSpareGaussian)
        {
            _hasSpareGaussian = false;
            return _spareGaussian;
        }

        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        }
        while (s >= 1 || s == 0);

        double factor = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareGaussian = v * factor;
        _hasSpareGaussian = true;
        return u * factor;
    }

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher–Yates), every permutation equally likely.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="values">The values to permute.</param>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt32(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
