namespace EdgeAe.Training;

/// <summary>Gradient-norm clipping over the contiguous gradient buffer, following PyTorch's <c>clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>PyTorch's guard against division by zero in the clip coefficient.</summary>
    private const double DivisionGuard = 1e-6;

    /// <summary>
    /// Computes the L2 norm of all gradients (in double) and, when it exceeds <paramref name="maxNorm"/>, scales
    /// them by PyTorch's coefficient <c>maxNorm / (norm + 1e-6)</c>. A NaN or infinite norm is returned as is and
    /// the gradients are left untouched: the caller treats it as divergence.
    /// </summary>
    /// <param name="gradients">The gradient buffer, scaled in place.</param>
    /// <param name="maxNorm">The largest allowed norm; positive and finite.</param>
    /// <returns>The norm before clipping.</returns>
    /// <remarks>
    /// PyTorch multiplies by <c>min(1, maxNorm / (norm + 1e-6))</c> unconditionally, which also shrinks norms within
    /// 1e-6 below <paramref name="maxNorm"/> by a factor within 1e-6 of one; here those are left alone.
    /// </remarks>
    public static double ClipByGlobalNorm(Span<float> gradients, float maxNorm)
    {
        if (!(maxNorm > 0) || !float.IsFinite(maxNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum gradient norm must be positive and finite.");
        }

        double norm = GlobalNorm(gradients);
        if (Coefficient(norm, maxNorm) is { } scale)
        {
            for (int i = 0; i < gradients.Length; i++)
            {
                gradients[i] *= scale;
            }
        }

        return norm;
    }

    /// <summary>The factor <see cref="ClipByGlobalNorm"/> scales by at <paramref name="norm"/>, or null when it leaves the gradients alone.</summary>
    internal static float? Coefficient(double norm, float maxNorm)
        => norm > maxNorm && double.IsFinite(norm) ? (float)(maxNorm / (norm + DivisionGuard)) : null;

    /// <summary>The L2 norm of <paramref name="values"/>, accumulated in double.</summary>
    /// <param name="values">The values.</param>
    /// <returns>√Σ xᵢ²; NaN when any value is NaN, ∞ when any is infinite.</returns>
    public static double GlobalNorm(ReadOnlySpan<float> values)
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double x = values[i];
            sum += x * x;
        }

        return Math.Sqrt(sum);
    }
}
