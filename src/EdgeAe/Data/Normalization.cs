namespace EdgeAe.Data;

/// <summary>How raw feature values were mapped to model inputs.</summary>
public enum NormalizationKind
{
    /// <summary>Values are used as they are.</summary>
    None = 0,

    /// <summary>Values are divided by a scale (e.g. 255 for pixels, 16 for the digits) to land in [0, 1].</summary>
    Scale = 1,

    /// <summary>Values are standardised per feature: (x − mean) / std, with mean and std from the training split.</summary>
    Standardize = 2,
}

/// <summary>
/// The normalisation applied to raw inputs, stored with the weights so that the device encodes
/// with the same numbers as training: input[i] = (raw[i] − Offset[i]) / Scale[i].
/// <see cref="Offset"/> and <see cref="Scale"/> are either empty (<see cref="NormalizationKind.None"/>)
/// or hold one value per feature.
/// </summary>
public sealed class Normalization : IEquatable<Normalization>
{
    private readonly float[] _offset;
    private readonly float[] _scale;

    /// <summary>Creates a normalisation; offsets and scales must be finite, scales non-zero.</summary>
    public Normalization(NormalizationKind kind, float[] offset, float[] scale)
    {
        ArgumentNullException.ThrowIfNull(offset);
        ArgumentNullException.ThrowIfNull(scale);
        if (offset.Length != scale.Length)
        {
            throw new ArgumentException($"Expected as many scales as offsets ({offset.Length}) but found {scale.Length}.", nameof(scale));
        }

        if (kind == NormalizationKind.None && offset.Length != 0)
        {
            throw new ArgumentException("NormalizationKind.None carries no offsets or scales.", nameof(offset));
        }

        for (int i = 0; i < scale.Length; i++)
        {
            if (!float.IsFinite(offset[i]))
            {
                throw new ArgumentException($"Offset [{i}] is {offset[i]}; offsets must be finite.", nameof(offset));
            }

            if (!float.IsFinite(scale[i]) || scale[i] == 0f)
            {
                throw new ArgumentException($"Scale [{i}] is {scale[i]}; scales must be finite and non-zero.", nameof(scale));
            }
        }

        Kind = kind;
        _offset = (float[])offset.Clone();
        _scale = (float[])scale.Clone();
    }

    /// <summary>No normalisation.</summary>
    public static Normalization None { get; } = new(NormalizationKind.None, [], []);

    /// <summary>Division of every one of <paramref name="width"/> features by <paramref name="scale"/>.</summary>
    public static Normalization ScaleBy(float scale, int width)
        => new(NormalizationKind.Scale, new float[width], Enumerable.Repeat(scale, width).ToArray());

    /// <summary>The kind of normalisation.</summary>
    public NormalizationKind Kind { get; }

    /// <summary>Per-feature offsets (subtracted first).</summary>
    public ReadOnlySpan<float> Offset => _offset;

    /// <summary>Per-feature scales (divided by after the offset).</summary>
    public ReadOnlySpan<float> Scale => _scale;

    /// <summary>Number of features described (0 for <see cref="NormalizationKind.None"/>).</summary>
    public int Width => _scale.Length;

    /// <summary>Maps raw values to model inputs in place.</summary>
    public void Apply(Span<float> values)
    {
        if (Kind == NormalizationKind.None)
        {
            return;
        }

        if (values.Length != Width)
        {
            throw new ArgumentException($"Expected {Width} floats in '{nameof(values)}' but found {values.Length}.", nameof(values));
        }

        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (values[i] - _offset[i]) / _scale[i];
        }
    }

    /// <summary>Maps model outputs back to raw values in place.</summary>
    public void Invert(Span<float> values)
    {
        if (Kind == NormalizationKind.None)
        {
            return;
        }

        if (values.Length != Width)
        {
            throw new ArgumentException($"Expected {Width} floats in '{nameof(values)}' but found {values.Length}.", nameof(values));
        }

        for (int i = 0; i < values.Length; i++)
        {
            values[i] = values[i] * _scale[i] + _offset[i];
        }
    }

    /// <inheritdoc/>
    public bool Equals(Normalization? other)
        => other is not null && Kind == other.Kind && _offset.AsSpan().SequenceEqual(other._offset) && _scale.AsSpan().SequenceEqual(other._scale);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Normalization);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Width, Width > 0 ? _scale[0] : 0f);
}
