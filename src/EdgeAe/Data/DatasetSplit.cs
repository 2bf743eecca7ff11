namespace EdgeAe.Data;

/// <summary>Deterministic splits of a data set.</summary>
public static class DatasetSplit
{
    /// <summary>
    /// Splits <paramref name="data"/> at random into a training and a validation part. The validation
    /// part holds round(Count × <paramref name="validationFraction"/>) samples, at least one, leaving at
    /// least one for training. The shuffle uses SplitMix64 seeded with <paramref name="seed"/>, so the
    /// same inputs give the same split on every runtime; each part keeps the original order of its samples.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1).</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has fewer than 2 samples.</exception>
    public static (Dataset Train, Dataset Validation) TrainValidation(Dataset data, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(validationFraction > 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction,
                $"{nameof(validationFraction)} must be in (0, 1), exclusive.");
        }

        if (data.Count < 2)
        {
            throw new ArgumentException($"Cannot split {data.Count} sample(s) into a training and a validation part.", nameof(data));
        }

        int validationCount = (int)Math.Clamp(Math.Round(data.Count * validationFraction, MidpointRounding.AwayFromZero), 1, data.Count - 1);
        int[] order = new int[data.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var random = new SplitMix64((ulong)(long)seed);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        int[] validation = order[..validationCount];
        int[] train = order[validationCount..];
        Array.Sort(validation);
        Array.Sort(train);
        return (data.Select(train), data.Select(validation));
    }
}

/// <summary>SplitMix64 (Steele, Lea and Flood, 2014): a tiny PRNG whose output depends on nothing but the seed.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [0, <paramref name="bound"/>) (the high half of a 64×64-bit product; bias below 2⁻³²).</summary>
    public int NextInt(int bound) => (int)Math.BigMul(Next(), (ulong)bound, out _);
}
