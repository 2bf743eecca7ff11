namespace EdgeAe.Data;

/// <summary>
/// A dense data set: <see cref="Count"/> samples of <see cref="Width"/> floats each, stored row-major
/// in one array, with optional integer labels (kept for plots and reports; training ignores them).
/// </summary>
public sealed class Dataset : ISampleSource
{
    private readonly float[] _values;
    private readonly int _offset;

    /// <summary>Wraps <paramref name="values"/> (row-major, <paramref name="count"/> × <paramref name="width"/>).</summary>
    public Dataset(float[] values, int count, int width, int[]? labels = null)
        : this(values, 0, count, width, labels)
    {
        if ((long)count * width != values.Length)
        {
            throw new ArgumentException($"Expected {(long)count * width} values for {count} samples of width {width} but found {values.Length}.", nameof(values));
        }
    }

    /// <summary>
    /// <paramref name="count"/> rows of <paramref name="values"/> starting at float <paramref name="offset"/>; the array
    /// may hold more (readers that size it from an upper bound, and in-place splits, share one array without copying).
    /// </summary>
    internal Dataset(float[] values, int offset, int count, int width, int[]? labels)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (offset < 0 || offset + (long)count * width > values.Length)
        {
            throw new ArgumentException($"{count} samples of width {width} from offset {offset} do not fit in {values.Length} values.", nameof(values));
        }

        if (labels is not null && labels.Length != count)
        {
            throw new ArgumentException($"Expected {count} labels but found {labels.Length}.", nameof(labels));
        }

        _values = values;
        _offset = offset;
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
    public ReadOnlySpan<float> Values => _values.AsSpan(_offset, Count * Width);

    /// <summary>Sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => (uint)index < (uint)Count
        ? _values.AsSpan(_offset + (index * Width), Width)
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} samples.");

    /// <summary>The array and the offset of the first value (in-place splits share them).</summary>
    internal (float[] Array, int Offset) Storage => (_values, _offset);

    /// <summary>The values, writable: for in-place transformations by the library (normalisation, splitting).</summary>
    internal Span<float> WritableValues => _values.AsSpan(_offset, Count * Width);

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
