namespace EdgeAe.Data;

/// <summary>
/// Fits a <see cref="Normalization"/> to training data and applies it to data sets. Fitting computes in
/// double; applying uses <see cref="Normalization.Apply(Span{float})"/>, so training inputs match what a
/// device computes from the stored numbers.
/// </summary>
public static class Normalizer
{
    /// <summary>
    /// A <see cref="NormalizationKind.Scale"/> normalisation that divides each of the features of
    /// <paramref name="data"/> by <paramref name="max"/> (e.g. 255 for 8-bit pixels).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is not finite and positive.</exception>
    public static Normalization FitScale(Dataset data, float max)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!float.IsFinite(max) || max <= 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "The scale must be finite and positive.");
        }

        return Normalization.ScaleBy(max, data.Width);
    }

    /// <summary>
    /// A <see cref="NormalizationKind.Standardize"/> normalisation from the per-feature mean and
    /// (population) standard deviation of <paramref name="train"/>, which should be the training split only.
    /// A feature whose standard deviation is 0 (constant) gets scale 1, so that it maps to 0 instead of
    /// dividing by zero.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="train"/> has no samples.</exception>
    public static Normalization FitStandardize(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0)
        {
            throw new ArgumentException("Cannot fit a normalisation to a data set with no samples.", nameof(train));
        }

        var fit = new StandardizeFit(train.Width);
        for (int s = 0; s < train.Count; s++)
        {
            fit.AddToSum(train[s]);
        }

        // Second pass on the deviations: exact for constant features and free of cancellation.
        fit.EndSum();
        for (int s = 0; s < train.Count; s++)
        {
            fit.AddSquaredDeviations(train[s]);
        }

        return fit.Result();
    }

    /// <summary>
    /// Applies <paramref name="normalization"/> to every sample of <paramref name="data"/> in place, without a copy
    /// (for loaders of large files that own the data set: the raw values are gone afterwards). Returns <paramref name="data"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The normalisation describes a different number of features.</exception>
    public static Dataset ApplyInPlace(Dataset data, Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        CheckWidth(data, normalization);
        Span<float> values = data.WritableValues;
        for (int s = 0; s < data.Count; s++)
        {
            normalization.Apply(values.Slice(s * data.Width, data.Width));
        }

        return data;
    }

    /// <summary>A new data set with <paramref name="normalization"/> applied to every sample; labels are kept.</summary>
    /// <exception cref="ArgumentException">The normalisation describes a different number of features.</exception>
    public static Dataset Apply(Dataset data, Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        CheckWidth(data, normalization);
        float[] values = data.Values.ToArray();
        for (int s = 0; s < data.Count; s++)
        {
            normalization.Apply(values.AsSpan(s * data.Width, data.Width));
        }

        return new Dataset(values, data.Count, data.Width, (int[]?)data.Labels?.Clone());
    }

    private static void CheckWidth(Dataset data, Normalization normalization)
    {
        if (normalization.Kind != NormalizationKind.None && normalization.Width != data.Width)
        {
            throw new ArgumentException(
                $"The normalisation describes {normalization.Width} features but the data set has {data.Width}.", nameof(normalization));
        }
    }
}

/// <summary>
/// The two passes of <see cref="Normalizer.FitStandardize"/> one sample at a time, so that a reader that streams (the
/// <see cref="DataCache"/> writer) computes exactly the same numbers: sums in double in sample order, then the squared
/// deviations from the means, population standard deviation, scale 1 for a constant feature.
/// </summary>
internal sealed class StandardizeFit(int width)
{
    private readonly double[] _sum = new double[width];
    private readonly double[] _squares = new double[width];
    private readonly double[] _mean = new double[width];
    private long _count;
    private long _deviations;

    /// <summary>Pass 1: adds a sample to the per-feature sums.</summary>
    public void AddToSum(ReadOnlySpan<float> sample)
    {
        for (int i = 0; i < _sum.Length; i++)
        {
            _sum[i] += sample[i];
        }

        _count++;
    }

    /// <summary>Ends pass 1: the means.</summary>
    public void EndSum()
    {
        if (_count == 0)
        {
            throw new ArgumentException("Cannot fit a normalisation to a data set with no samples.");
        }

        for (int i = 0; i < _mean.Length; i++)
        {
            _mean[i] = _sum[i] / _count;
        }
    }

    /// <summary>Pass 2: adds a sample's squared deviations from the means (the same samples as pass 1).</summary>
    public void AddSquaredDeviations(ReadOnlySpan<float> sample)
    {
        for (int i = 0; i < _squares.Length; i++)
        {
            double deviation = sample[i] - _mean[i];
            _squares[i] += deviation * deviation;
        }

        _deviations++;
    }

    /// <summary>The normalisation: offset = mean, scale = standard deviation (1 for a constant feature).</summary>
    public Normalization Result()
    {
        if (_deviations != _count)
        {
            throw new InvalidOperationException($"Pass 2 saw {_deviations} samples but pass 1 saw {_count}.");
        }

        var offset = new float[_mean.Length];
        var scale = new float[_mean.Length];
        for (int i = 0; i < _mean.Length; i++)
        {
            offset[i] = (float)_mean[i];
            float std = (float)Math.Sqrt(_squares[i] / _count);
            scale[i] = std > 0f && float.IsNormal(std) ? std : 1f;
        }

        return new Normalization(NormalizationKind.Standardize, offset, scale);
    }
}
