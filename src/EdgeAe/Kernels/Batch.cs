using System.Runtime.CompilerServices;

namespace EdgeAe.Kernels;

/// <summary>
/// Layout rules of the batch workspace the generated code plans: every sample's row of a layer is padded to a
/// multiple of 16 floats (64 bytes), so each row starts on a cache line and a vector never crosses into the next row.
/// </summary>
internal static class Rows
{
    /// <summary><paramref name="width"/> rounded up to a multiple of 16 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Pad(int width) => (width + 15) & ~15;
}

// Where a layer's input rows come from, as a type argument of the product shapes.

/// <summary>The caller's input span: rows of exactly the layer's input width.</summary>
internal readonly struct FromInputs;

/// <summary>The batch workspace: rows padded to 16 floats (<see cref="Rows.Pad"/>).</summary>
internal readonly struct FromWorkspace;

/// <summary>Z = X·W + b: rows are samples, W (or the transposed copy of a tied layer's W) input-major.</summary>
internal readonly struct ForwardProduct<L, S> : IProductShape
    where L : struct, IDenseLayer
    where S : struct
{
    public static int Columns { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Outputs; }

    public static int ARow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => typeof(S) == typeof(FromInputs) ? L.Inputs : Rows.Pad(L.Inputs); }

    public static int ACol { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => 1; }

    public static int BStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Outputs; }

    public static int CStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Rows.Pad(L.Outputs); }
}

/// <summary>G_W += Xᵀ·Δ: rows are the layer's inputs, the inner dimension the samples.</summary>
internal readonly struct WeightGradientProduct<L, S> : IProductShape
    where L : struct, IDenseLayer
    where S : struct
{
    public static int Columns { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Outputs; }

    public static int ARow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => 1; }

    public static int ACol { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => typeof(S) == typeof(FromInputs) ? L.Inputs : Rows.Pad(L.Inputs); }

    public static int BStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Rows.Pad(L.Outputs); }

    public static int CStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Outputs; }
}

/// <summary>G_W += Δᵀ·X for a tied layer, into its mirror's output-major W: rows are the layer's outputs.</summary>
internal readonly struct TiedWeightGradientProduct<L> : IProductShape
    where L : struct, IDenseLayer
{
    public static int Columns { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Inputs; }

    public static int ARow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => 1; }

    public static int ACol { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Rows.Pad(L.Outputs); }

    public static int BStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Rows.Pad(L.Inputs); }

    public static int CStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Inputs; }
}

/// <summary>Δ_prev = (Δ·Wᵀ)∘f′(A_prev): Wᵀ output-major (the transposed copy, or a tied layer's own W).</summary>
internal readonly struct DataGradientProduct<L> : IProductShape
    where L : struct, IDenseLayer
{
    public static int Columns { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Inputs; }

    public static int ARow { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Rows.Pad(L.Outputs); }

    public static int ACol { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => 1; }

    public static int BStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => L.Inputs; }

    public static int CStride { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Rows.Pad(L.Inputs); }
}

/// <summary>The element-wise passes of batch training for one vector width: output loss and deltas, bias gradients.</summary>
internal static class BatchPasses<V, TVec>
    where V : struct, ISimd<TVec>
    where TVec : struct
{
    /// <summary>
    /// The output layer of a binary cross-entropy model over a batch: from z (rows padded) and the targets (rows of
    /// exactly L.Outputs), δ = σ(z) − t into <paramref name="delta"/> and the summed loss Σ softplus(z) − t·z, σ and the
    /// loss term from one exp; the log(1 + e^−|z|) terms are multiplied into a running product and logged once.
    /// </summary>
    public static double BinaryCrossEntropy<L>(ref float z, ref float targets, ref float delta, int count)
        where L : struct, IDenseLayer
    {
        int n = L.Outputs, stride = Rows.Pad(n), lanes = V.Count;
        int segments = (n + lanes - 1) / lanes;
        Span<double> sums = stackalloc double[16];
        sums.Clear();
        TVec mantissa = V.Create(1f), exponent = V.Zero;
        for (int s = 0; s < count; s++)
        {
            ref float zr = ref Unsafe.Add(ref z, s * stride);
            ref float tr = ref Unsafe.Add(ref targets, s * n);
            ref float dr = ref Unsafe.Add(ref delta, s * stride);
            TVec row = V.Zero;
            for (int m = 0; m < segments; m++)
            {
                int column = Math.Min(m * lanes, n - lanes);
                int fresh = m * lanes - column;
                nuint at = (nuint)column;
                TVec zv = V.Load(ref zr, at);
                TVec t = V.Load(ref tr, at);
                TVec a = SimdMath<V, TVec>.SigmoidStable(zv, out TVec w);
                TVec terms = V.Subtract(V.MaxNative(zv, V.Zero), V.Multiply(t, zv));
                if (fresh > 0)
                {
                    TVec mask = V.LanesFrom(fresh);
                    terms = V.And(terms, mask);
                    w = V.Select(mask, w, V.Create(1f));
                }

                row = V.Add(row, terms);
                SimdMath<V, TVec>.MultiplyIntoProduct(ref mantissa, ref exponent, w);
                V.Store(V.Subtract(a, t), ref dr, at);
            }

            V.AddWidened(row, ref sums[0]);
        }

        double loss = 0;
        foreach (double sum in sums)
        {
            loss += sum;
        }

        return loss + SimdMath<V, TVec>.LogOfProduct(mantissa, exponent);
    }

    /// <summary>
    /// The output layer of a squared-error model over a batch: from a = f(z) (rows padded) and the targets, δ = (a − t)·f′
    /// into <paramref name="delta"/>, and the summed loss ½Σ(a − t)².
    /// </summary>
    public static double SquaredError<L, A>(ref float activations, ref float targets, ref float delta, int count)
        where L : struct, IDenseLayer
        where A : struct
    {
        int n = L.Outputs, stride = Rows.Pad(n), lanes = V.Count;
        int segments = (n + lanes - 1) / lanes;
        Span<double> sums = stackalloc double[16];
        sums.Clear();
        for (int s = 0; s < count; s++)
        {
            ref float ar = ref Unsafe.Add(ref activations, s * stride);
            ref float tr = ref Unsafe.Add(ref targets, s * n);
            ref float dr = ref Unsafe.Add(ref delta, s * stride);
            TVec row = V.Zero;
            for (int m = 0; m < segments; m++)
            {
                int column = Math.Min(m * lanes, n - lanes);
                int fresh = m * lanes - column;
                nuint at = (nuint)column;
                TVec a = V.Load(ref ar, at);
                TVec d = V.Subtract(a, V.Load(ref tr, at));
                TVec squares = V.Multiply(d, d);
                row = V.Add(row, fresh > 0 ? V.And(squares, V.LanesFrom(fresh)) : squares);
                V.Store(SimdMath<V, TVec>.Derivative<A>(a, d), ref dr, at);
            }

            V.AddWidened(row, ref sums[0]);
        }

        double loss = 0;
        foreach (double sum in sums)
        {
            loss += sum;
        }

        return 0.5 * loss;
    }

    /// <summary>
    /// The binary cross-entropy Σ softplus(z) − t·z of one row of pre-activations, without σ or deltas (inference:
    /// an int8 model's Reconstruct): max(z, 0) − t·z summed, and the factors 1 + e^−|z| multiplied and logged once.
    /// </summary>
    public static double BinaryCrossEntropyLoss<L>(ref float z, ref float targets)
        where L : struct, IDenseLayer
    {
        int n = L.Outputs, lanes = V.Count;
        int segments = (n + lanes - 1) / lanes;
        TVec mantissa = V.Create(1f), exponent = V.Zero, row = V.Zero;
        for (int m = 0; m < segments; m++)
        {
            int column = Math.Min(m * lanes, n - lanes);
            int fresh = m * lanes - column;
            nuint at = (nuint)column;
            TVec zv = V.Load(ref z, at);
            TVec w = V.Add(V.Create(1f), SimdMath<V, TVec>.Exp(V.Negate(V.Abs(zv))));
            TVec terms = V.Subtract(V.MaxNative(zv, V.Zero), V.Multiply(V.Load(ref targets, at), zv));
            if (fresh > 0)
            {
                TVec mask = V.LanesFrom(fresh);
                terms = V.And(terms, mask);
                w = V.Select(mask, w, V.Create(1f));
            }

            row = V.Add(row, terms);
            SimdMath<V, TVec>.MultiplyIntoProduct(ref mantissa, ref exponent, w);
        }

        return (double)V.Sum(row) + SimdMath<V, TVec>.LogOfProduct(mantissa, exponent);
    }

    /// <summary>½Σ(a − t)² of one row (inference: an int8 model's Reconstruct).</summary>
    public static double SquaredErrorLoss<L>(ref float activations, ref float targets)
        where L : struct, IDenseLayer
    {
        int n = L.Outputs, lanes = V.Count;
        int segments = (n + lanes - 1) / lanes;
        TVec row = V.Zero;
        for (int m = 0; m < segments; m++)
        {
            int column = Math.Min(m * lanes, n - lanes);
            int fresh = m * lanes - column;
            TVec d = V.Subtract(V.Load(ref activations, (nuint)column), V.Load(ref targets, (nuint)column));
            TVec squares = V.Multiply(d, d);
            row = V.Add(row, fresh > 0 ? V.And(squares, V.LanesFrom(fresh)) : squares);
        }

        return 0.5 * V.Sum(row);
    }

    /// <summary>Σ a·b over <paramref name="count"/> floats (at least one vector), two accumulators.</summary>
    public static double Dot(ref float a, ref float b, int count)
    {
        int lanes = V.Count;
        int whole = count / lanes;
        TVec even = V.Zero, odd = V.Zero;
        int m = 0;
        for (; m + 2 <= whole; m += 2)
        {
            even = V.MultiplyAdd(V.Load(ref a, (nuint)(m * lanes)), V.Load(ref b, (nuint)(m * lanes)), even);
            odd = V.MultiplyAdd(V.Load(ref a, (nuint)((m + 1) * lanes)), V.Load(ref b, (nuint)((m + 1) * lanes)), odd);
        }

        if (m < whole)
        {
            even = V.MultiplyAdd(V.Load(ref a, (nuint)(m * lanes)), V.Load(ref b, (nuint)(m * lanes)), even);
        }

        if (whole * lanes < count)
        {
            // The last vector overlaps the one before it: only its lanes from the old end count.
            int column = count - lanes;
            TVec product = V.Multiply(V.Load(ref a, (nuint)column), V.Load(ref b, (nuint)column));
            odd = V.Add(odd, V.And(product, V.LanesFrom((whole * lanes) - column)));
        }

        return V.Sum(V.Add(even, odd));
    }

    /// <summary>g_b[j] += Σₛ δ[s, j] over a batch of deltas (rows padded).</summary>
    public static void BiasGradient<L>(ref float delta, ref float gradient, int count)
        where L : struct, IDenseLayer
    {
        int n = L.Outputs, stride = Rows.Pad(n), lanes = V.Count;
        int segments = (n + lanes - 1) / lanes;
        for (int m = 0; m < segments; m++)
        {
            int column = Math.Min(m * lanes, n - lanes);
            int fresh = m * lanes - column;
            nuint at = (nuint)column;
            TVec sum = V.Zero;
            ref float d = ref Unsafe.Add(ref delta, column);
            for (int s = 0; s < count; s++)
            {
                sum = V.Add(sum, V.Load(ref d, 0));
                d = ref Unsafe.Add(ref d, stride);
            }

            V.Store(V.Add(V.Load(ref gradient, at), fresh > 0 ? V.And(sum, V.LanesFrom(fresh)) : sum), ref gradient, at);
        }
    }
}
