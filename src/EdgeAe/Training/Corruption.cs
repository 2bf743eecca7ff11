using System.Globalization;

namespace EdgeAe.Training;

/// <summary>
/// Corrupts inputs for denoising training (the model learns to reconstruct the clean sample from the corrupted
/// one); applied during training only. Deterministic for a given generator state, and allocation-free.
/// </summary>
public abstract class Corruption
{
    /// <summary>No corruption: the input is copied unchanged and no random numbers are drawn.</summary>
    public static Corruption None { get; } = new NoCorruption();

    /// <summary>Whether this corruption leaves inputs unchanged (the trainer can skip the copy).</summary>
    public virtual bool IsNone => false;

    /// <summary>Writes a corrupted copy of <paramref name="clean"/> into <paramref name="corrupted"/>.</summary>
    /// <param name="clean">The clean input; not modified.</param>
    /// <param name="corrupted">Receives the corrupted input; as long as <paramref name="clean"/>.</param>
    /// <param name="rng">The generator; advanced by the draws made.</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public void Apply(ReadOnlySpan<float> clean, Span<float> corrupted, ref SplitMix64 rng)
    {
        Guard.Length(corrupted.Length, clean.Length, nameof(corrupted));
        ApplyCore(clean, corrupted, ref rng);
    }

    /// <summary>The corruption itself; the spans are already checked to have equal lengths.</summary>
    /// <param name="clean">The clean input.</param>
    /// <param name="corrupted">Receives the corrupted input.</param>
    /// <param name="rng">The generator.</param>
    protected abstract void ApplyCore(ReadOnlySpan<float> clean, Span<float> corrupted, ref SplitMix64 rng);

    /// <summary>The canonical command-line text of this corruption, which <see cref="Parse"/> accepts.</summary>
    /// <returns>For example <c>masking:0.3</c>.</returns>
    public abstract override string ToString();

    /// <summary>
    /// Parses a command-line corruption: <c>none</c>, <c>masking:v</c>, <c>gaussian:σ</c>, <c>saltpepper:p</c>
    /// (also <c>salt-and-pepper:p</c>); names ignore case, numbers use the invariant culture.
    /// </summary>
    /// <param name="text">The text to parse.</param>
    /// <returns>The corruption.</returns>
    /// <exception cref="ArgumentException">The text is not a valid corruption; the message names the text, the option and the allowed values.</exception>
    public static Corruption Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string Expected = "expected none, masking:<probability>, gaussian:<standard deviation> or saltpepper:<probability>";
        string trimmed = text.Trim();
        int colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        string name = (colon < 0 ? trimmed : trimmed[..colon]).Trim().ToLowerInvariant();
        string? value = colon < 0 ? null : trimmed[(colon + 1)..].Trim();

        switch (name)
        {
            case "none":
                if (value is not null)
                {
                    throw Error(text, "'none' takes no value");
                }

                return None;
            case "masking":
                return new MaskingNoise(ParseProbability(text, name, value));
            case "gaussian":
                float sigma = ParseNumber(text, name, value, "the standard deviation must be finite and ≥ 0");
                if (!(sigma >= 0) || !float.IsFinite(sigma))
                {
                    throw Error(text, "the standard deviation must be finite and ≥ 0");
                }

                return new GaussianNoise(sigma);
            case "saltpepper":
            case "salt-and-pepper":
                return new SaltAndPepper(ParseProbability(text, name, value));
            default:
                throw Error(text, $"unknown corruption '{name}'; {Expected}");
        }
    }

    private static float ParseProbability(string text, string name, string? value)
    {
        const string Range = "the probability must be in [0, 1)";
        float probability = ParseNumber(text, name, value, Range);
        if (!(probability >= 0 && probability < 1))
        {
            throw Error(text, Range);
        }

        return probability;
    }

    private static float ParseNumber(string text, string name, string? value, string range)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw Error(text, $"'{name}' needs a value, as in '{name}:0.1'; {range}");
        }

        if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float number))
        {
            throw Error(text, $"'{value}' is not a number; {range}");
        }

        return number;
    }

    private static ArgumentException Error(string text, string problem)
        => new($"corruption '{text}': {problem}.", nameof(text));

    private sealed class NoCorruption : Corruption
    {
        public override bool IsNone => true;

        protected override void ApplyCore(ReadOnlySpan<float> clean, Span<float> corrupted, ref SplitMix64 rng)
            => clean.CopyTo(corrupted);

        public override string ToString() => "none";
    }
}

/// <summary>Masking noise (Vincent et al.): each input is set to 0 with probability <see cref="Probability"/>.</summary>
public sealed class MaskingNoise : Corruption
{
    /// <summary>Creates masking noise.</summary>
    /// <param name="probability">Probability v in [0, 1) that an input is zeroed.</param>
    public MaskingNoise(float probability)
    {
        Guard.UnitInterval(probability, nameof(probability), "masking probability");
        Probability = probability;
    }

    /// <summary>Probability v that an input is zeroed.</summary>
    public float Probability { get; }

    /// <inheritdoc/>
    protected override void ApplyCore(ReadOnlySpan<float> clean, Span<float> corrupted, ref SplitMix64 rng)
    {
        // One uniform draw per input, whatever the outcome, so the stream position depends only on the length.
        float v = Probability;
        for (int i = 0; i < clean.Length; i++)
        {
            corrupted[i] = rng.NextSingle() < v ? 0f : clean[i];
        }
    }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"masking:{Probability}");
}

/// <summary>Additive isotropic Gaussian noise: <c>x + σ·N(0, 1)</c>, independently per input.</summary>
public sealed class GaussianNoise : Corruption
{
    /// <summary>Creates Gaussian noise.</summary>
    /// <param name="standardDeviation">σ; finite and non-negative.</param>
    public GaussianNoise(float standardDeviation)
    {
        Guard.NonNegativeFinite(standardDeviation, nameof(standardDeviation), "standard deviation");
        StandardDeviation = standardDeviation;
    }

    /// <summary>The standard deviation σ.</summary>
    public float StandardDeviation { get; }

    /// <inheritdoc/>
    protected override void ApplyCore(ReadOnlySpan<float> clean, Span<float> corrupted, ref SplitMix64 rng)
    {
        float sigma = StandardDeviation;
        for (int i = 0; i < clean.Length; i++)
        {
            corrupted[i] = clean[i] + sigma * (float)rng.NextGaussian();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"gaussian:{StandardDeviation}");
}

/// <summary>
/// Salt-and-pepper noise (Vincent et al.): each input, with probability <see cref="Probability"/>, is set to
/// <see cref="Low"/> or <see cref="High"/> with equal odds.
/// </summary>
public sealed class SaltAndPepper : Corruption
{
    /// <summary>Creates salt-and-pepper noise.</summary>
    /// <param name="probability">Probability p in [0, 1) that an input is replaced.</param>
    /// <param name="low">The "pepper" value; finite.</param>
    /// <param name="high">The "salt" value; finite and greater than <paramref name="low"/>.</param>
    public SaltAndPepper(float probability, float low = 0, float high = 1)
    {
        Guard.UnitInterval(probability, nameof(probability), "salt-and-pepper probability");
        if (!float.IsFinite(low))
        {
            throw new ArgumentOutOfRangeException(nameof(low), low, "The low value must be finite.");
        }

        if (!float.IsFinite(high) || !(high > low))
        {
            throw new ArgumentOutOfRangeException(nameof(high), high, $"The high value must be finite and greater than the low value {low.ToString(CultureInfo.InvariantCulture)}.");
        }

        Probability = probability;
        Low = low;
        High = high;
    }

    /// <summary>Probability p that an input is replaced.</summary>
    public float Probability { get; }

    /// <summary>The "pepper" value.</summary>
    public float Low { get; }

    /// <summary>The "salt" value.</summary>
    public float High { get; }

    /// <inheritdoc/>
    protected override void ApplyCore(ReadOnlySpan<float> clean, Span<float> corrupted, ref SplitMix64 rng)
    {
        float p = Probability;
        for (int i = 0; i < clean.Length; i++)
        {
            // One 64-bit draw per input: the top 24 bits decide whether to replace, the lowest bit which value.
            ulong bits = rng.NextUInt64();
            bool replace = (bits >> 40) * (1.0f / (1UL << 24)) < p;
            corrupted[i] = replace ? ((bits & 1) == 0 ? Low : High) : clean[i];
        }
    }

    /// <summary>The command-line text; it records only the probability, as <see cref="Corruption.Parse"/> always uses low 0 and high 1.</summary>
    /// <returns>For example <c>saltpepper:0.2</c>.</returns>
    public override string ToString() => FormattableString.Invariant($"saltpepper:{Probability}");
}
