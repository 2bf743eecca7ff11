namespace EdgeAe;

/// <summary>
/// Converts between the per-sample objective the generated code minimises (the lecture's form:
/// Σ over elements for binary cross-entropy, ½Σ(x̂ − x)² for squared error) and the per-element
/// means that are reported (so figures compare with PyTorch's default reductions).
/// </summary>
public static class Metrics
{
    /// <summary>
    /// The reported per-element figure for a per-sample objective: mean BCE per element
    /// (objective / width) or mean squared error (2 · objective / width).
    /// </summary>
    public static double MeanPerElement(LossKind loss, double objective, int width)
        => loss == LossKind.SquaredError ? 2.0 * objective / width : objective / width;

    /// <summary>Mean squared error between two equally long vectors.</summary>
    public static double MeanSquaredError(ReadOnlySpan<float> reconstruction, ReadOnlySpan<float> target)
    {
        if (reconstruction.Length != target.Length)
        {
            throw new ArgumentException($"Expected {target.Length} floats in '{nameof(reconstruction)}' but found {reconstruction.Length}.", nameof(reconstruction));
        }

        double sum = 0;
        for (int i = 0; i < target.Length; i++)
        {
            double d = reconstruction[i] - target[i];
            sum += d * d;
        }

        return target.Length == 0 ? 0 : sum / target.Length;
    }

    /// <summary>
    /// Peak signal-to-noise ratio in dB of a mean squared error against the data's value range (the peak):
    /// 10·log₁₀(range² / MSE). NaN when <paramref name="range"/> is 0 or not finite (constant data has no peak),
    /// +∞ when <paramref name="mse"/> is 0.
    /// </summary>
    public static double Psnr(double mse, double range)
    {
        if (!(range > 0) || !double.IsFinite(range) || double.IsNaN(mse))
        {
            return double.NaN;
        }

        return mse <= 0 ? double.PositiveInfinity : 10 * Math.Log10(range * range / mse);
    }
}
