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

        int width = train.Width;
        var sum = new double[width];
        for (int s = 0; s < train.Count; s++)
        {
            ReadOnlySpan<float> sample = train[s];
            for (int i = 0; i < width; i++)
            {
                sum[i] += sample[i];
            }
        }

        var mean = new double[width];
        for (int i = 0; i < width; i++)
        {
            mean[i] = sum[i] / train.Count;
        }

        // Second pass on the deviations: exact for constant features and free of cancellation.
        var squares = new double[width];
        for (int s = 0; s < train.Count; s++)
        {
            ReadOnlySpan<float> sample = train[s];
            for (int i = 0; i < width; i++)
            {
                double deviation = sample[i] - mean[i];
                squares[i] += deviation * deviation;
            }
        }

        var offset = new float[width];
        var scale = new float[width];
        for (int i = 0; i < width; i++)
        {
            offset[i] = (float)mean[i];
            float std = (float)Math.Sqrt(squares[i] / train.Count);
            scale[i] = std > 0f && float.IsNormal(std) ? std : 1f;
        }

        return new Normalization(NormalizationKind.Standardize, offset, scale);
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
