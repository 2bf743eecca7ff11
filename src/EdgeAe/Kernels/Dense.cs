using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeAe.Kernels;

/// <summary>
/// The dense-layer kernels generated models call: one call per layer, with the layer's shape as a type argument
/// (<see cref="IDenseLayer"/>). Each entry point picks the widest vector the machine accelerates and the layer fills
/// (Vector512, Vector256, Vector128, else one float at a time); the checks are JIT-time constants.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Dense
{
    /// <summary>True when any vector width is hardware-accelerated; otherwise generated models run their portable path.</summary>
    public static bool IsAccelerated => Vector128.IsHardwareAccelerated;

    /// <summary>
    /// One sample through layer <typeparamref name="L"/> with activation <typeparamref name="A"/>: <paramref name="y"/>[0..Outputs)
    /// = f(b + x·W), reading <paramref name="x"/>[0..Inputs) and the parameters at <paramref name="parameters"/>.
    /// Writes nothing else. <typeparamref name="L"/> stores W input-major.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<L, A>(ref float parameters, ref float x, ref float y)
        where L : struct, IDenseLayer
        where A : struct
        => Run<L, A, ActivateInPlace>(tied: false, ref parameters, ref x, ref y, ref y, ref y);

    /// <summary>As <see cref="Forward{L, A}"/> for a tied layer, whose W is its mirror encoder layer's, read transposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardTied<L, A>(ref float parameters, ref float x, ref float y)
        where L : struct, IDenseLayer
        where A : struct
        => Run<L, A, ActivateInPlace>(tied: true, ref parameters, ref x, ref y, ref y, ref y);

    /// <summary>
    /// The sigmoid output layer of a binary cross-entropy model for one sample: z = b + x·W into <paramref name="z"/>,
    /// σ(z) into <paramref name="output"/>, and returns Σ softplus(z) − t·z against <paramref name="target"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ForwardBinaryCrossEntropy<L>(bool tied, ref float parameters, ref float x, ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        => Run<L, StableSigmoid, BinaryCrossEntropyTerms>(tied, ref parameters, ref x, ref z, ref target, ref output);

    /// <summary>
    /// The output layer of a squared-error model for one sample: z = b + x·W into <paramref name="z"/>, a = f(z)
    /// into <paramref name="output"/>, and returns ½Σ(a − t)² against <paramref name="target"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ForwardSquaredError<L, A>(bool tied, ref float parameters, ref float x, ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        => Run<L, A, SquaredErrorTerms>(tied, ref parameters, ref x, ref z, ref target, ref output);

    /// <summary>
    /// The sigmoid output layer of a binary cross-entropy model for one sample whose z a batch product left (with
    /// <see cref="Linear"/>): σ(z) into <paramref name="output"/> and Σ softplus(z) − t·z, exactly as
    /// <see cref="ForwardBinaryCrossEntropy{L}"/> finishes the same z — so batch scores equal single-sample ones bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double BinaryCrossEntropyOutput<L>(ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        => Epilogue<L, StableSigmoid, BinaryCrossEntropyTerms>(ref z, ref target, ref output);

    /// <summary>
    /// The output layer of a squared-error model for one sample whose z a batch product left (with <see cref="Linear"/>):
    /// a = f(z) into <paramref name="output"/> and ½Σ(a − t)², exactly as <see cref="ForwardSquaredError{L, A}"/> finishes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SquaredErrorOutput<L, A>(ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        => Epilogue<L, A, SquaredErrorTerms>(ref z, ref target, ref output);

    /// <summary>The single-sample epilogue at the width <see cref="Run{L, A, E}"/> picks for the layer (<see cref="WidthFor"/>: the same rule).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Epilogue<L, A, E>(ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
        => WidthFor(L.Outputs) switch
        {
            16 => SingleSample<Simd512, Vector512<float>>.Epilogue<L, A, E>(ref z, ref target, ref output),
            8 => SingleSample<Simd256, Vector256<float>>.Epilogue<L, A, E>(ref z, ref target, ref output),
            4 => SingleSample<Simd128, Vector128<float>>.Epilogue<L, A, E>(ref z, ref target, ref output),
            _ => SingleSample<Simd1, float>.Epilogue<L, A, E>(ref z, ref target, ref output),
        };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Run<L, A, E>(bool tied, ref float p, ref float x, ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
    {
        if (Vector512.IsHardwareAccelerated && L.Outputs >= 16)
        {
            return tied
                ? SingleSample<Simd512, Vector512<float>>.ForwardTied<L, A, E>(ref p, ref x, ref z, ref target, ref output)
                : SingleSample<Simd512, Vector512<float>>.Forward<L, A, E>(ref p, ref x, ref z, ref target, ref output);
        }

        if (Vector256.IsHardwareAccelerated && L.Outputs >= 8)
        {
            return tied
                ? SingleSample<Simd256, Vector256<float>>.ForwardTied<L, A, E>(ref p, ref x, ref z, ref target, ref output)
                : SingleSample<Simd256, Vector256<float>>.Forward<L, A, E>(ref p, ref x, ref z, ref target, ref output);
        }

        if (Vector128.IsHardwareAccelerated && L.Outputs >= 4)
        {
            return tied
                ? SingleSample<Simd128, Vector128<float>>.ForwardTied<L, A, E>(ref p, ref x, ref z, ref target, ref output)
                : SingleSample<Simd128, Vector128<float>>.Forward<L, A, E>(ref p, ref x, ref z, ref target, ref output);
        }

        return tied
            ? SingleSample<Simd1, float>.ForwardTied<L, A, E>(ref p, ref x, ref z, ref target, ref output)
            : SingleSample<Simd1, float>.Forward<L, A, E>(ref p, ref x, ref z, ref target, ref output);
    }

    // ------------------------------------------------------------------ batches
    // Batch rows live in the workspace padded to 16 floats (Rows.Pad); the caller's inputs and targets are rows of
    // exactly the layer's width. Each call runs one layer over `count` samples.

    /// <summary>The vector width a product with <paramref name="columns"/> output columns runs at: 16, 8, 4 or 1 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WidthFor(int columns)
        => Vector512.IsHardwareAccelerated && columns >= 16 ? 16
            : Vector256.IsHardwareAccelerated && columns >= 8 ? 8
            : Vector128.IsHardwareAccelerated && columns >= 4 ? 4
            : 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Product<P, A, E>(ref float a, ref float b, ref float c, ref float bias, ref float previous, int rows, int inner)
        where P : struct, IProductShape
        where A : struct
        where E : struct
    {
        switch (WidthFor(P.Columns))
        {
            case 16: Gemm<Simd512, Vector512<float>>.Run<P, A, E>(ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 8: Gemm<Simd256, Vector256<float>>.Run<P, A, E>(ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 4: Gemm<Simd128, Vector128<float>>.Run<P, A, E>(ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            default: Gemm<Simd1, float>.Run<P, A, E>(ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
        }
    }

    /// <summary>
    /// Layer <typeparamref name="L"/> forward over a batch: Y = f(X·W + b) for <paramref name="count"/> samples, X the caller's
    /// inputs (rows of L.Inputs floats) when <paramref name="fromInputs"/>, else workspace rows; Y workspace rows. A
    /// binary cross-entropy output layer passes <see cref="Linear"/> and leaves z for <see cref="BinaryCrossEntropyBatch{L}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardBatch<L, A>(ref float parameters, ref float x, bool fromInputs, ref float y, int count)
        where L : struct, IDenseLayer
        where A : struct
    {
        ref float w = ref Unsafe.Add(ref parameters, L.Weights);
        ref float b = ref Unsafe.Add(ref parameters, L.Biases);
        if (fromInputs)
        {
            Product<ForwardProduct<L, FromInputs>, A, StoreActivated>(ref x, ref w, ref y, ref b, ref y, count, L.Inputs);
        }
        else
        {
            Product<ForwardProduct<L, FromWorkspace>, A, StoreActivated>(ref x, ref w, ref y, ref b, ref y, count, L.Inputs);
        }
    }

    /// <summary>
    /// As <see cref="ForwardBatch{L, A}"/> for a tied layer (never the first): its W is the mirror's, read from
    /// <paramref name="transposed"/>, the input-major copy <see cref="Matrix.Transpose(ref float, int, int, ref float)"/> made at the start of the batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardBatchTied<L, A>(ref float parameters, ref float transposed, ref float x, ref float y, int count)
        where L : struct, IDenseLayer
        where A : struct
        => Product<ForwardProduct<L, FromWorkspace>, A, StoreActivated>(ref x, ref transposed, ref y, ref Unsafe.Add(ref parameters, L.Biases), ref y, count, L.Inputs);

    /// <summary>
    /// The binary cross-entropy output layer <typeparamref name="L"/> over a batch: from z (workspace rows) and the targets
    /// (rows of L.Outputs floats), δ = σ(z) − t into <paramref name="delta"/>; returns the summed loss.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double BinaryCrossEntropyBatch<L>(ref float z, ref float targets, ref float delta, int count)
        where L : struct, IDenseLayer
        => WidthFor(L.Outputs) switch
        {
            16 => BatchPasses<Simd512, Vector512<float>>.BinaryCrossEntropy<L>(ref z, ref targets, ref delta, count),
            8 => BatchPasses<Simd256, Vector256<float>>.BinaryCrossEntropy<L>(ref z, ref targets, ref delta, count),
            4 => BatchPasses<Simd128, Vector128<float>>.BinaryCrossEntropy<L>(ref z, ref targets, ref delta, count),
            _ => BatchPasses<Simd1, float>.BinaryCrossEntropy<L>(ref z, ref targets, ref delta, count),
        };

    /// <summary>
    /// The squared-error output layer <typeparamref name="L"/> (activation <typeparamref name="A"/>) over a batch: from
    /// a = f(z) and the targets, δ = (a − t)·f′ into <paramref name="delta"/>; returns ½Σ(a − t)².
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SquaredErrorBatch<L, A>(ref float activations, ref float targets, ref float delta, int count)
        where L : struct, IDenseLayer
        where A : struct
        => WidthFor(L.Outputs) switch
        {
            16 => BatchPasses<Simd512, Vector512<float>>.SquaredError<L, A>(ref activations, ref targets, ref delta, count),
            8 => BatchPasses<Simd256, Vector256<float>>.SquaredError<L, A>(ref activations, ref targets, ref delta, count),
            4 => BatchPasses<Simd128, Vector128<float>>.SquaredError<L, A>(ref activations, ref targets, ref delta, count),
            _ => BatchPasses<Simd1, float>.SquaredError<L, A>(ref activations, ref targets, ref delta, count),
        };

    /// <summary>Σ softplus(z) − t·z over one row of layer <typeparamref name="L"/>'s pre-activations (no deltas: inference).</summary>
    public static double BinaryCrossEntropyLoss<L>(ref float z, ref float targets)
        where L : struct, IDenseLayer
        => WidthFor(L.Outputs) switch
        {
            16 => BatchPasses<Simd512, Vector512<float>>.BinaryCrossEntropyLoss<L>(ref z, ref targets),
            8 => BatchPasses<Simd256, Vector256<float>>.BinaryCrossEntropyLoss<L>(ref z, ref targets),
            4 => BatchPasses<Simd128, Vector128<float>>.BinaryCrossEntropyLoss<L>(ref z, ref targets),
            _ => BatchPasses<Simd1, float>.BinaryCrossEntropyLoss<L>(ref z, ref targets),
        };

    /// <summary>Σ a·b over <paramref name="count"/> floats (an int8 model's Σ t·z).</summary>
    internal static double Dot(ref float a, ref float b, int count)
        => WidthFor(count) switch
        {
            16 => BatchPasses<Simd512, Vector512<float>>.Dot(ref a, ref b, count),
            8 => BatchPasses<Simd256, Vector256<float>>.Dot(ref a, ref b, count),
            4 => BatchPasses<Simd128, Vector128<float>>.Dot(ref a, ref b, count),
            _ => BatchPasses<Simd1, float>.Dot(ref a, ref b, count),
        };

    /// <summary>½Σ(a − t)² over one row of layer <typeparamref name="L"/>'s outputs (no deltas: inference).</summary>
    public static double SquaredErrorLoss<L>(ref float activations, ref float targets)
        where L : struct, IDenseLayer
        => WidthFor(L.Outputs) switch
        {
            16 => BatchPasses<Simd512, Vector512<float>>.SquaredErrorLoss<L>(ref activations, ref targets),
            8 => BatchPasses<Simd256, Vector256<float>>.SquaredErrorLoss<L>(ref activations, ref targets),
            4 => BatchPasses<Simd128, Vector128<float>>.SquaredErrorLoss<L>(ref activations, ref targets),
            _ => BatchPasses<Simd1, float>.SquaredErrorLoss<L>(ref activations, ref targets),
        };

    /// <summary>
    /// Layer <typeparamref name="L"/> backward over a batch: g_b += Σₛ δ and g_W += Xᵀ·Δ, X the caller's inputs when
    /// <paramref name="fromInputs"/> (the first layer), else the previous layer's workspace rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientsBatch<L>(ref float gradients, ref float x, bool fromInputs, ref float delta, int count)
        where L : struct, IDenseLayer
    {
        BiasGradient<L>(ref delta, ref Unsafe.Add(ref gradients, L.Biases), count);
        ref float g = ref Unsafe.Add(ref gradients, L.Weights);
        if (fromInputs)
        {
            Product<WeightGradientProduct<L, FromInputs>, Linear, AddInto>(ref x, ref delta, ref g, ref g, ref g, L.Inputs, count);
        }
        else
        {
            Product<WeightGradientProduct<L, FromWorkspace>, Linear, AddInto>(ref x, ref delta, ref g, ref g, ref g, L.Inputs, count);
        }
    }

    /// <summary>As <see cref="GradientsBatch{L}"/> for a tied layer: g_W of its mirror (output-major for it) += Δᵀ·X.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientsBatchTied<L>(ref float gradients, ref float x, ref float delta, int count)
        where L : struct, IDenseLayer
    {
        BiasGradient<L>(ref delta, ref Unsafe.Add(ref gradients, L.Biases), count);
        ref float g = ref Unsafe.Add(ref gradients, L.Weights);
        Product<TiedWeightGradientProduct<L>, Linear, AddInto>(ref delta, ref x, ref g, ref g, ref g, L.Outputs, count);
    }

    /// <summary>
    /// The delta of the layer before <typeparamref name="L"/> over a batch: Δ_prev = (Δ·Wᵀ)∘f′(A_prev), f =
    /// <typeparamref name="APrevious"/>, with Wᵀ output-major: <paramref name="weightsTransposed"/> is the transposed copy of an
    /// untied layer's W, or a tied layer's own W (its mirror's, already output-major for it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DeltaBatch<L, APrevious>(ref float weightsTransposed, ref float delta, ref float previousActivations, ref float previousDelta, int count)
        where L : struct, IDenseLayer
        where APrevious : struct
        => Product<DataGradientProduct<L>, APrevious, TimesDerivative>(ref delta, ref weightsTransposed, ref previousDelta, ref previousDelta, ref previousActivations, count, L.Outputs);

    /// <summary>Copies <paramref name="count"/> rows of <paramref name="width"/> floats, <paramref name="stride"/> apart in the workspace, to consecutive rows of <paramref name="destination"/>.</summary>
    public static void CopyRows(ref float rows, int stride, Span<float> destination, int width, int count)
    {
        for (int s = 0; s < count; s++)
        {
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref rows, s * stride), width).CopyTo(destination.Slice(s * width, width));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BiasGradient<L>(ref float delta, ref float gradient, int count)
        where L : struct, IDenseLayer
    {
        switch (WidthFor(L.Outputs))
        {
            case 16: BatchPasses<Simd512, Vector512<float>>.BiasGradient<L>(ref delta, ref gradient, count); break;
            case 8: BatchPasses<Simd256, Vector256<float>>.BiasGradient<L>(ref delta, ref gradient, count); break;
            case 4: BatchPasses<Simd128, Vector128<float>>.BiasGradient<L>(ref delta, ref gradient, count); break;
            default: BatchPasses<Simd1, float>.BiasGradient<L>(ref delta, ref gradient, count); break;
        }
    }
}
