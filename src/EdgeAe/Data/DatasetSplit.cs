using EdgeAe.Training;

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
        random.Shuffle<int>(order);

        int[] validation = order[..validationCount];
        int[] train = order[validationCount..];
        Array.Sort(validation);
        Array.Sort(train);
        return (data.Select(train), data.Select(validation));
    }
}
