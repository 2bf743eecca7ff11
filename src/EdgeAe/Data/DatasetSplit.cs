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
        (int[] train, int[] validation) = Indices(data, validationFraction, seed);
        return (data.Select(train), data.Select(validation));
    }

    /// <summary>
    /// The same split as <see cref="TrainValidation"/> (same samples, same order in each part) without copying the
    /// values: the rows of <paramref name="data"/> are rearranged in place — training part first, validation part
    /// after — and the two parts share its storage. <paramref name="data"/> itself must not be used afterwards.
    /// Extra memory: one int per sample and one row.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1).</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has fewer than 2 samples.</exception>
    public static (Dataset Train, Dataset Validation) TrainValidationInPlace(Dataset data, double validationFraction, int seed)
    {
        (int[] train, int[] validation) = Indices(data, validationFraction, seed);
        int[] source = [.. train, .. validation]; // new row k comes from old row source[k]
        int width = data.Width;
        Span<float> values = data.WritableValues;
        var row = new float[width];
        var placed = new bool[source.Length];
        for (int start = 0; start < source.Length; start++)
        {
            if (placed[start] || source[start] == start)
            {
                placed[start] = true;
                continue;
            }

            // Follow the cycle start ← source[start] ← source[source[start]] … with one row held aside.
            values.Slice(start * width, width).CopyTo(row);
            int k = start;
            while (source[k] != start)
            {
                values.Slice(source[k] * width, width).CopyTo(values.Slice(k * width, width));
                placed[k] = true;
                k = source[k];
            }

            row.CopyTo(values.Slice(k * width, width));
            placed[k] = true;
        }

        int[]? labels = data.Labels is { } all ? source.Select(i => all[i]).ToArray() : null;
        (float[] array, int offset) = data.Storage;
        return (new Dataset(array, offset, train.Length, width, labels?[..train.Length]),
                new Dataset(array, offset + (train.Length * width), validation.Length, width, labels?[train.Length..]));
    }

    private static (int[] Train, int[] Validation) Indices(Dataset data, double validationFraction, int seed)
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
        return (train, validation);
    }
}
