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
    /// when the weight decay λ is not zero.
    /// </summary>
    public static void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> m, Span<float> v, in AdamStep step)
    {
        int i = 0;
        int length = parameters.Length;
        ref float rp = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(parameters);
        ref float rg = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(gradients);
        ref float rm = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(m);
        ref float rv = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(v);
        if (Vector512.IsHardwareAccelerated)
        {
            i = Vectors<Simd512, Vector512<float>>(ref rp, ref rg, ref rm, ref rv, length, step);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            i = Vectors<Simd256, Vector256<float>>(ref rp, ref rg, ref rm, ref rv, length, step);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            i = Vectors<Simd128, Vector128<float>>(ref rp, ref rg, ref rm, ref rv, length, step);
        }

        Vectors<Simd1, float>(ref Unsafe.Add(ref rp, i), ref Unsafe.Add(ref rg, i), ref Unsafe.Add(ref rm, i), ref Unsafe.Add(ref rv, i), length - i, step);
    }

    /// <summary>The update over the whole vectors of [0, <paramref name="length"/>); returns where they end.</summary>
    private static int Vectors<V, TVec>(ref float rp, ref float rg, ref float rm, ref float rv, int length, in AdamStep step)
        where V : struct, ISimd<TVec>
        where TVec : struct
    {
        TVec beta1 = V.Create(step.Beta1), beta2 = V.Create(step.Beta2);
        TVec oneMinusBeta1 = V.Create(1 - step.Beta1), oneMinusBeta2 = V.Create(1 - step.Beta2);
        TVec correction = V.Create(step.BiasCorrection2Sqrt), epsilon = V.Create(step.Epsilon);
        TVec stepSize = V.Create(step.StepSize), decay = V.Create(step.WeightDecay);
        bool decayed = step.WeightDecay != 0;
        int end = length - length % V.Count;
        for (int i = 0; i < end; i += V.Count)
        {
            nuint at = (nuint)i;
            TVec p = V.Load(ref rp, at);
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
            V.Store(V.Subtract(p, V.Divide(V.Multiply(stepSize, mi), denominator)), ref rp, at);
        }

        return end;
    }
}

/// <summary>The scalars of one Adam step (bias corrections computed in double by the caller, as PyTorch does).</summary>
internal readonly record struct AdamStep(float Beta1, float Beta2, float Epsilon, float WeightDecay, float StepSize, float BiasCorrection2Sqrt);
