using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAe.Kernels;

/// <summary>
/// One Adam update over contiguous buffers, written once for every vector width: each element gets exactly the float
/// the scalar loop gives it (the same operations in the same order, no fused multiply-add), so the width never
/// changes a trained model.
/// </summary>
internal static class AdamKernel
{
    /// <summary>
    /// m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², p ← p − stepSize·m / (√v / √(1 − β2ᵗ) + ε), with g = gradient + λ·p
    /// when the weight decay λ is not zero. When <paramref name="saveTo"/> is not empty, each parameter is copied there
    /// before its update (the trainer's last good parameters). Returns whether every updated parameter is finite.
    /// </summary>
    /// <remarks>
    /// The copy and the check ride in the update's one pass: the square root and the two divides per parameter keep the
    /// core's divide unit busy while the loads and stores have room, so both cost little there, where a copy before and
    /// a scan after were passes of their own over the memory (docs/BENCHMARKS.md, data-parallel training).
    /// </remarks>
    public static bool Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> m, Span<float> v, in AdamStep step, Span<float> saveTo = default)
    {
        if (!saveTo.IsEmpty && saveTo.Length != parameters.Length)
        {
            throw new ArgumentException("The copy of the parameters must be as long as the parameters.", nameof(saveTo));
        }

        int i = 0;
        int length = parameters.Length;
        ref float rp = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(parameters);
        ref float rg = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(gradients);
        ref float rm = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(m);
        ref float rv = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(v);
        bool save = !saveTo.IsEmpty;
        ref float rs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(saveTo);
        bool finite = true;
        if (Vector512.IsHardwareAccelerated)
        {
            i = Vectors<Simd512, Vector512<float>>(ref rp, ref rg, ref rm, ref rv, save, ref rs, length, step, ref finite);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            i = Vectors<Simd256, Vector256<float>>(ref rp, ref rg, ref rm, ref rv, save, ref rs, length, step, ref finite);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            i = Vectors<Simd128, Vector128<float>>(ref rp, ref rg, ref rm, ref rv, save, ref rs, length, step, ref finite);
        }

        Vectors<Simd1, float>(
            ref Unsafe.Add(ref rp, i), ref Unsafe.Add(ref rg, i), ref Unsafe.Add(ref rm, i), ref Unsafe.Add(ref rv, i),
            save, ref save ? ref Unsafe.Add(ref rs, i) : ref rs, length - i, step, ref finite);
        return finite;
    }

    /// <summary>
    /// The update over the whole vectors of [0, <paramref name="length"/>); returns where they end and clears
    /// <paramref name="finite"/> when an updated parameter is not finite.
    /// </summary>
    private static int Vectors<V, TVec>(ref float rp, ref float rg, ref float rm, ref float rv, bool save, ref float rs, int length, in AdamStep step, ref bool finite)
        where V : struct, ISimd<TVec>
        where TVec : struct
    {
        TVec beta1 = V.Create(step.Beta1), beta2 = V.Create(step.Beta2);
        TVec oneMinusBeta1 = V.Create(1 - step.Beta1), oneMinusBeta2 = V.Create(1 - step.Beta2);
        TVec correction = V.Create(step.BiasCorrection2Sqrt), epsilon = V.Create(step.Epsilon);
        TVec stepSize = V.Create(step.StepSize), decay = V.Create(step.WeightDecay);
        bool decayed = step.WeightDecay != 0;
        int end = length - length % V.Count;

        // p − p is +0 for a finite p and NaN otherwise; the bits of those ORed together stay zero while all are finite.
        TVec nonFinite = V.Zero;
        for (int i = 0; i < end; i += V.Count)
        {
            nuint at = (nuint)i;
            TVec p = V.Load(ref rp, at);
            if (save)
            {
                V.Store(p, ref rs, at);
            }

            TVec g = V.Load(ref rg, at);
            if (decayed)
            {
                g = V.Add(g, V.Multiply(decay, p));
            }

            TVec mi = V.Add(V.Multiply(beta1, V.Load(ref rm, at)), V.Multiply(oneMinusBeta1, g));
            TVec vi = V.Add(V.Multiply(beta2, V.Load(ref rv, at)), V.Multiply(V.Multiply(oneMinusBeta2, g), g));
            V.Store(mi, ref rm, at);
            V.Store(vi, ref rv, at);
            TVec denominator = V.Add(V.Divide(V.Sqrt(vi), correction), epsilon);
            TVec updated = V.Subtract(p, V.Divide(V.Multiply(stepSize, mi), denominator));
            V.Store(updated, ref rp, at);
            nonFinite = V.Or(nonFinite, V.Subtract(updated, updated));
        }

        if (V.Sum(nonFinite) != 0)
        {
            finite = false;
        }

        return end;
    }
}

/// <summary>The scalars of one Adam step (bias corrections computed in double by the caller, as PyTorch does).</summary>
internal readonly record struct AdamStep(float Beta1, float Beta2, float Epsilon, float WeightDecay, float StepSize, float BiasCorrection2Sqrt);
