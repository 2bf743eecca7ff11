using System.Runtime.CompilerServices;

namespace EdgeAe.Kernels;

/// <summary>
/// Element-wise math of the SIMD kernels, written once for every vector width <typeparamref name="V"/>
/// (docs/math.md has the algorithms and their measured errors).
/// </summary>
/// <remarks>
/// <para>exp is Cephes expf: n = ⌊x·log₂e + ½⌋; r = (x − n·0.693359375) − n·(−2.12194440e−4);
/// p = ((((((1.9875691500e−4·r + 1.3981999507e−3)·r + 8.3334519073e−3)·r + 4.1665795894e−2)·r
/// + 1.6666665459e−1)·r + 5.0000001201e−1)·r²) + r + 1; the result p·2ⁿ; x is clamped to [−103.97, 88.72]
/// first (above → +∞, below → 0, NaN stays NaN). Every step is a separate multiply or add (the firmware's order).</para>
/// <para>sigmoid(z) = 1/(1 + exp(−z)); tanh(z) = sign(z)·(1 − 2/(exp(2|z|) + 1)) for |z| ≥ 0.625, else Cephes
/// tanhf's odd polynomial. The output layer of a binary cross-entropy model takes σ from e^−|z| instead
/// (<see cref="SigmoidStable(TVec, out TVec)"/>), so that the loss term can share the exp.</para>
/// </remarks>
/// <typeparam name="V">The vector width.</typeparam>
/// <typeparam name="TVec">Its vector type.</typeparam>
internal static class SimdMath<V, TVec>
    where V : struct, ISimd<TVec>
    where TVec : struct
{
    /// <summary>e^x (see the class remarks): above 88.72 +∞, below −103.97 zero, NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Exp(TVec x)
    {
        TVec xc = V.MinNative(V.MaxNative(x, V.Create(MathConstants.ExpLow)), V.Create(MathConstants.ExpHigh));
        TVec n = V.Floor(V.Add(V.Multiply(xc, V.Create(MathConstants.Log2E)), V.Create(0.5f)));
        TVec r = V.Subtract(V.Subtract(xc, V.Multiply(n, V.Create(MathConstants.Ln2High))), V.Multiply(n, V.Create(MathConstants.Ln2Low)));
        TVec r2 = V.Multiply(r, r);
        TVec poly = V.Add(V.Multiply(V.Create(MathConstants.P0), r), V.Create(MathConstants.P1));
        poly = V.Add(V.Multiply(poly, r), V.Create(MathConstants.P2));
        poly = V.Add(V.Multiply(poly, r), V.Create(MathConstants.P3));
        poly = V.Add(V.Multiply(poly, r), V.Create(MathConstants.P4));
        poly = V.Add(V.Multiply(poly, r), V.Create(MathConstants.P5));
        poly = V.Add(V.Add(V.Multiply(poly, r2), r), V.Create(1f));
        TVec result = V.ScaleByPowerOfTwo(poly, n);
        result = V.Select(V.GreaterThan(x, V.Create(MathConstants.ExpHigh)), V.Create(float.PositiveInfinity), result);
        result = V.Select(V.LessThan(x, V.Create(MathConstants.ExpLow)), V.Zero, result);
        return V.Select(V.IsNotNaN(x), result, x);
    }

    /// <summary>1 / (1 + e^−z) with a real divide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Sigmoid(TVec z) => V.Divide(V.Create(1f), V.Add(V.Create(1f), Exp(V.Negate(z))));

    /// <summary>tanh: Cephes tanhf's odd polynomial below |z| = 0.625, else sign(z)·(1 − 2/(e^{2|z|} + 1)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Tanh(TVec z)
    {
        TVec a = V.Abs(z);
        TVec big = V.Subtract(V.Create(1f), V.Divide(V.Create(2f), V.Add(Exp(V.Add(a, a)), V.Create(1f))));
        big = V.Or(big, V.And(z, V.Create(-0f)));
        TVec z2 = V.Multiply(z, z);
        TVec poly = V.Add(V.Multiply(V.Create(MathConstants.T0), z2), V.Create(MathConstants.T1));
        poly = V.Add(V.Multiply(poly, z2), V.Create(MathConstants.T2));
        poly = V.Add(V.Multiply(poly, z2), V.Create(MathConstants.T3));
        poly = V.Add(V.Multiply(poly, z2), V.Create(MathConstants.T4));
        TVec small = V.Add(z, V.Multiply(V.Multiply(z, z2), poly));
        return V.Select(V.LessThan(a, V.Create(MathConstants.TanhSwitch)), small, big);
    }

    /// <summary>max(0, z); NaN propagates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Relu(TVec z) => V.Select(V.LessThan(z, V.Zero), V.Zero, z);

    /// <summary>f(z) for the activation <typeparamref name="A"/> (<see cref="Linear"/>, <see cref="Relu"/>, <see cref="Sigmoid"/>, <see cref="Tanh"/>, <see cref="StableSigmoid"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Activate<A>(TVec z)
        where A : struct
    {
        if (typeof(A) == typeof(Sigmoid))
        {
            return Sigmoid(z);
        }

        if (typeof(A) == typeof(StableSigmoid))
        {
            return SigmoidStable(z, out _);
        }

        if (typeof(A) == typeof(Tanh))
        {
            return Tanh(z);
        }

        if (typeof(A) == typeof(Relu))
        {
            return Relu(z);
        }

        return z;
    }

    /// <summary><paramref name="upstream"/>·f′(z) from a = f(z) for the activation <typeparamref name="A"/>, in the scalar kernels' operation order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Derivative<A>(TVec a, TVec upstream)
        where A : struct
    {
        if (typeof(A) == typeof(Sigmoid) || typeof(A) == typeof(StableSigmoid))
        {
            return V.Multiply(V.Multiply(upstream, a), V.Subtract(V.Create(1f), a));
        }

        if (typeof(A) == typeof(Tanh))
        {
            return V.Multiply(upstream, V.Subtract(V.Create(1f), V.Multiply(a, a)));
        }

        if (typeof(A) == typeof(Relu))
        {
            return V.Select(V.GreaterThan(a, V.Zero), upstream, V.Zero);
        }

        return upstream;
    }

    /// <summary>True when <typeparamref name="A"/> is one compare or nothing (ReLU, linear): cheap enough to apply as accumulators are stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsCheap<A>()
        where A : struct
        => typeof(A) == typeof(Relu) || typeof(A) == typeof(Linear);

    /// <summary>softplus(z) = max(z, 0) + log(1 + e^−|z|), the log by Cephes logf on [1, 2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Softplus(TVec z)
        => V.Add(V.MaxNative(z, V.Zero), LogOneToTwo(V.Add(V.Create(1f), ExpOfNonPositive(V.Negate(V.Abs(z))))));

    /// <summary>
    /// σ(z) from e = e^−|z| (exp restricted to x ≤ 0, Estrin's form): (z ≥ 0 ? 1 : e)/(1 + e), and in
    /// <paramref name="onePlusExp"/> w = 1 + e from the same exp, so that softplus(z) = max(z, 0) + log(w).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec SigmoidStable(TVec z, out TVec onePlusExp)
    {
        TVec e = ExpOfNonPositive(V.Negate(V.Abs(z)));
        onePlusExp = V.Add(V.Create(1f), e);
        return V.Divide(V.Select(V.GreaterThanOrEqual(z, V.Zero), V.Create(1f), e), onePlusExp);
    }

    /// <summary><see cref="SigmoidStable(TVec, out TVec)"/>'s σ, and softplus(z) = max(z, 0) + log(1 + e^−|z|) from the same exp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec SigmoidWithSoftplus(TVec z, out TVec softplus)
    {
        TVec sigmoid = SigmoidStable(z, out TVec w);
        softplus = V.Add(V.MaxNative(z, V.Zero), LogOneToTwo(w));
        return sigmoid;
    }

    /// <summary>
    /// Multiplies a running product, kept per lane as <paramref name="mantissa"/> in [1, 2) times 2^<paramref name="exponent"/>,
    /// by <paramref name="factor"/> in [1, 2]: one rounding per factor (the halving is exact), never overflowing. Σ log(w)
    /// over many w then costs one multiply per vector and one log at the end (<see cref="LogOfProduct"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyIntoProduct(ref TVec mantissa, ref TVec exponent, TVec factor)
    {
        TVec product = V.Multiply(mantissa, factor);
        TVec high = V.GreaterThanOrEqual(product, V.Create(2f));
        mantissa = V.Select(high, V.Multiply(product, V.Create(0.5f)), product);
        exponent = V.Add(exponent, V.And(high, V.Create(1f)));
    }

    /// <summary>The log of the product <see cref="MultiplyIntoProduct"/> kept, summed over the lanes, in double.</summary>
    /// <remarks>
    /// The lanes are read from one copy at a 64-byte boundary. Taking them from the registers one at a time made the
    /// JIT spill both vectors again for every lane, to a stack slot whose alignment follows the caller's frame; a
    /// store that crosses a cache line is not forwarded to the loads after it, and the small digits model's
    /// Reconstruct took 200, 250, 300 or 525 ns depending on where the stack happened to start.
    /// </remarks>
    [SkipLocalsInit]
    public static unsafe double LogOfProduct(TVec mantissa, TVec exponent)
    {
        float* buffer = stackalloc float[(2 * V.Count) + 16];
        float* lanes = (float*)(((nint)buffer + 63) & ~(nint)63);
        V.Store(mantissa, ref lanes[0], 0);
        V.Store(exponent, ref lanes[0], (nuint)V.Count);
        double product = 1.0;
        double power = 0;
        for (int i = 0; i < V.Count; i++)
        {
            product *= lanes[i];
            power += lanes[V.Count + i];
        }

        return Math.Log(product) + power * 0.69314718055994530942;
    }

    /// <summary>
    /// e^x for x ≤ 0 (or NaN): Cephes expf's reduction and coefficients with the polynomial in Estrin's form and no
    /// overflow handling; within exp's error bound, not bit-identical to <see cref="Exp"/>. The reduction and the
    /// polynomial use <see cref="ISimd{TVec}.MultiplyAdd"/>: fused where the machine has FMA, in every width alike, so
    /// the widths agree bit for bit as elsewhere.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec ExpOfNonPositive(TVec x)
    {
        TVec xc = V.MaxNative(x, V.Create(MathConstants.ExpLow));
        TVec n = V.Floor(V.MultiplyAdd(xc, V.Create(MathConstants.Log2E), V.Create(0.5f)));
        TVec r = V.MultiplyAdd(n, V.Create(-MathConstants.Ln2Low), V.MultiplyAdd(n, V.Create(-MathConstants.Ln2High), xc));
        TVec r2 = V.Multiply(r, r);
        TVec a = V.MultiplyAdd(V.Create(MathConstants.P0), r, V.Create(MathConstants.P1));
        TVec b = V.MultiplyAdd(V.Create(MathConstants.P2), r, V.Create(MathConstants.P3));
        TVec c = V.MultiplyAdd(V.Create(MathConstants.P4), r, V.Create(MathConstants.P5));
        TVec poly = V.Add(V.MultiplyAdd(V.MultiplyAdd(V.MultiplyAdd(a, r2, b), r2, c), r2, r), V.Create(1f));
        TVec result = V.ScaleByPowerOfTwo(poly, n);
        result = V.Select(V.LessThan(x, V.Create(MathConstants.ExpLow)), V.Zero, result);
        return V.Select(V.IsNotNaN(x), result, x);
    }

    /// <summary>log(w) for w in [1, 2] (Cephes logf's reduction and polynomial, in Estrin's form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec LogOneToTwo(TVec w)
    {
        TVec high = V.GreaterThan(w, V.Create(MathConstants.Sqrt2));
        TVec e = V.And(high, V.Create(1f));
        TVec m = V.Select(high, V.Multiply(w, V.Create(0.5f)), w);
        TVec f = V.Subtract(m, V.Create(1f));
        TVec f2 = V.Multiply(f, f);
        TVec f4 = V.Multiply(f2, f2);
        TVec q0 = V.Add(V.Multiply(V.Create(MathConstants.L7), f), V.Create(MathConstants.L8));
        TVec q1 = V.Add(V.Multiply(V.Create(MathConstants.L5), f), V.Create(MathConstants.L6));
        TVec q2 = V.Add(V.Multiply(V.Create(MathConstants.L3), f), V.Create(MathConstants.L4));
        TVec q3 = V.Add(V.Multiply(V.Create(MathConstants.L1), f), V.Create(MathConstants.L2));
        TVec low = V.Add(V.Multiply(q1, f2), q0);
        TVec upper = V.Add(V.Add(V.Multiply(q3, f2), q2), V.Multiply(V.Create(MathConstants.L0), f4));
        TVec poly = V.Add(V.Multiply(upper, f4), low);
        TVec y = V.Subtract(V.Add(V.Multiply(V.Multiply(f, f2), poly), V.Multiply(e, V.Create(MathConstants.Ln2Low))), V.Multiply(V.Create(0.5f), f2));
        return V.Add(V.Add(f, y), V.Multiply(e, V.Create(MathConstants.Ln2High)));
    }
}

/// <summary>The constants of the Cephes algorithms <see cref="SimdMath{V, TVec}"/> and the scalar math share.</summary>
internal static class MathConstants
{
    public const float ExpHigh = 88.72f;
    public const float ExpLow = -103.97f;
    public const float Log2E = 1.44269504088896341f;
    public const float Ln2High = 0.693359375f;
    public const float Ln2Low = -2.12194440e-4f;
    public const float P0 = 1.9875691500e-4f;
    public const float P1 = 1.3981999507e-3f;
    public const float P2 = 8.3334519073e-3f;
    public const float P3 = 4.1665795894e-2f;
    public const float P4 = 1.6666665459e-1f;
    public const float P5 = 5.0000001201e-1f;
    public const float TanhSwitch = 0.625f;
    public const float T0 = -5.70498872745e-3f;
    public const float T1 = 2.06390887954e-2f;
    public const float T2 = -5.37397155531e-2f;
    public const float T3 = 1.33314422036e-1f;
    public const float T4 = -3.33332819422e-1f;
    public const float Sqrt2 = 1.41421356237f;
    public const float L0 = 7.0376836292e-2f;
    public const float L1 = -1.1514610310e-1f;
    public const float L2 = 1.1676998740e-1f;
    public const float L3 = -1.2420140846e-1f;
    public const float L4 = 1.4249322787e-1f;
    public const float L5 = -1.6668057665e-1f;
    public const float L6 = 2.0000714765e-1f;
    public const float L7 = -2.4999993993e-1f;
    public const float L8 = 3.3333331174e-1f;
}
