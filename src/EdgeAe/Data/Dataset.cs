namespace EdgeAe.Data;

/// <summary>
/// A dense data set: <see cref="Count"/> samples of <see cref="Width"/> floats each, stored row-major
/// in one array, with optional integer labels (kept for plots and reports; training ignores them).
/// </summary>
public sealed class Dataset
{
    private readonly float[] _values;

    /// <summary>Wraps <paramref name="values"/> (row-major, <paramref name="count"/> × <paramref name="width"/>).</summary>
    public Dataset(float[] values, int count, int width, int[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if ((long)count * width != values.Length)
        {
            throw new ArgumentException($"Expected {(long)count * width} values for {count} samples of width {width} but found {values.Length}.", nameof(values));
        }

        if (labels is not null && labels.Length != count)
        {
            throw new ArgumentException($"Expected {count} labels but found {labels.Length}.", nameof(labels));
        }

        _values = values;
        Count = count;
        Width = width;
        Labels = labels;
    }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per sample.</summary>
    public int Width { get; }

    /// <summary>Labels, one per sample, when the source had them.</summary>
    public int[]? Labels { get; }

    /// <summary>All values, row-major.</summary>
    public ReadOnlySpan<float> Values => _values;

    /// <summary>Sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => _values.AsSpan(index * Width, Width);

    /// <summary>The samples whose indices are given, in that order.</summary>
    public Dataset Select(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var values = new float[indices.Count * Width];
        int[]? labels = Labels is null ? null : new int[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            this[indices[k]].CopyTo(values.AsSpan(k * Width, Width));
            if (labels is not null)
            {
                labels[k] = Labels![indices[k]];
            }
        }

        return new Dataset(values, indices.Count, Width, labels);
    }

    /// <summary>Samples [start, start + count).</summary>
    public Dataset Slice(int start, int count) => Select(Enumerable.Range(start, count).ToArray());
}
