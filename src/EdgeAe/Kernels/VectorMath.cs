// Generated from one template for Vector512, Vector256 and Vector128 plus the scalar form; keep the four in step.
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeAe.Kernels;

/// <summary>
/// Vectorised activations for generated desktop models (Vector512, Vector256, Vector128 and scalar
/// forms of the same algorithm, operation for operation, so every width gives the same float).
/// </summary>
/// <remarks>
/// <para>exp is Cephes expf: n = floor(x·log2 e + 0.5); r = (x − n·0.693359375) − n·(−2.12194440e−4);
/// p = ((((((1.9875691500e−4·r + 1.3981999507e−3)·r + 8.3334519073e−3)·r + 4.1665795894e−2)·r
/// + 1.6666665459e−1)·r + 5.0000001201e−1)·r²) + r + 1; result p·2ⁿ, 2ⁿ from exponent bits; x is clamped
/// to [−103.97, 88.72] first (above → +∞, below → 0, NaN stays NaN). Every step is a separate multiply
/// or add (no fused operations), so the firmware flavour's scalar code with the same constants agrees bit for bit.</para>
/// <para>sigmoid(z) = 1/(1 + exp(−z)); tanh(z) = sign(z)·(1 − 2/(exp(2|z|) + 1)) for |z| ≥ 0.625, else Cephes
/// tanhf's odd polynomial. Measured errors: docs/math.md.</para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VectorMath
{
    private const float ExpHigh = 88.72f;
    private const float ExpLow = -103.97f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;
    private const float TanhSwitch = 0.625f;
    private const float T0 = -5.70498872745e-3f;
    private const float T1 = 2.06390887954e-2f;
    private const float T2 = -5.37397155531e-2f;
    private const float T3 = 1.33314422036e-1f;
    private const float T4 = -3.33332819422e-1f;
    private const float Sqrt2 = 1.41421356237f;
    private const float L0 = 7.0376836292e-2f;
    private const float L1 = -1.1514610310e-1f;
    private const float L2 = 1.1676998740e-1f;
    private const float L3 = -1.2420140846e-1f;
    private const float L4 = 1.4249322787e-1f;
    private const float L5 = -1.6668057665e-1f;
    private const float L6 = 2.0000714765e-1f;
    private const float L7 = -2.4999993993e-1f;
    private const float L8 = 3.3333331174e-1f;
    // ---- Vector512 ----

    /// <summary>a·b + c: fused where the hardware fuses (FMA3 on x64, AdvSimd on ARM64), else multiply then add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    /// <summary>e^x, Cephes expf (see the class remarks): above 88.72 +∞, below −103.97 zero, NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        Vector512<float> xc = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(ExpLow)), Vector512.Create(ExpHigh));
        Vector512<float> n = Vector512.Floor(xc * Vector512.Create(Log2E) + Vector512.Create(0.5f));
        Vector512<float> r = (xc - n * Vector512.Create(Ln2High)) - n * Vector512.Create(Ln2Low);
        Vector512<float> r2 = r * r;
        Vector512<float> poly = Vector512.Create(P0) * r + Vector512.Create(P1);
        poly = poly * r + Vector512.Create(P2);
        poly = poly * r + Vector512.Create(P3);
        poly = poly * r + Vector512.Create(P4);
        poly = poly * r + Vector512.Create(P5);
        poly = poly * r2 + r + Vector512.Create(1f);

        // 2ⁿ as 2^(n>>1)·2^(n−(n>>1)): both factors are normal floats for n in [−150, 128].
        Vector512<int> ni = Vector512.ConvertToInt32Native(n); // n is within [−150, 128]: no saturation needed
        Vector512<int> half = Vector512.ShiftRightArithmetic(ni, 1);
        Vector512<float> scale1 = Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle();
        Vector512<float> scale2 = Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
        Vector512<float> result = poly * scale1 * scale2;
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(ExpHigh)), Vector512.Create(float.PositiveInfinity), result);
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpLow)), Vector512<float>.Zero, result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    /// <summary>1 / (1 + e^−z) with a real divide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> z) => Vector512.Create(1f) / (Vector512.Create(1f) + Exp(-z));

    /// <summary>tanh: Cephes tanhf's odd polynomial below |z| = 0.625, else sign(z)·(1 − 2/(e^{2|z|} + 1)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> z)
    {
        Vector512<float> a = Vector512.Abs(z);
        Vector512<float> big = Vector512.Create(1f) - Vector512.Create(2f) / (Exp(a + a) + Vector512.Create(1f));
        big = big | (z & Vector512.Create(-0f));
        Vector512<float> z2 = z * z;
        Vector512<float> poly = Vector512.Create(T0) * z2 + Vector512.Create(T1);
        poly = poly * z2 + Vector512.Create(T2);
        poly = poly * z2 + Vector512.Create(T3);
        poly = poly * z2 + Vector512.Create(T4);
        Vector512<float> small = z + z * z2 * poly;
        return Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(TanhSwitch)), small, big);
    }

    /// <summary>max(0, z); NaN propagates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> z) => Vector512.ConditionalSelect(Vector512.LessThan(z, Vector512<float>.Zero), Vector512<float>.Zero, z);

    /// <summary>softplus(z) = max(z, 0) + log(1 + e^−|z|), the log by Cephes logf on [1, 2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Softplus(Vector512<float> z) => Vector512.MaxNative(z, Vector512<float>.Zero) + LogOneToTwo(Vector512.Create(1f) + ExpOfNonPositive(-Vector512.Abs(z)));

    /// <summary>
    /// σ(z) from e = e^−|z| (exp restricted to x ≤ 0, Estrin's form): (z ≥ 0 ? 1 : e)/(1 + e), within its own bound
    /// (docs/math.md). The output layer of a binary cross-entropy model uses this form everywhere, so that its loss
    /// term can share the exp (<see cref="SigmoidStable(Vector512{float}, out Vector512{float})"/> for full vectors,
    /// <see cref="SigmoidWithSoftplus(Vector512{float}, out Vector512{float})"/> for tail pieces).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SigmoidStable(Vector512<float> z) => SigmoidStable(z, out _);

    /// <summary>
    /// <see cref="SigmoidStable(Vector512{float})"/>, and in <paramref name="softplus"/> the float <see cref="Softplus(Vector512{float})"/>
    /// gives, from one exp e = e^−|z|: softplus = max(z, 0) + log(1 + e). The binary cross-entropy output layer gets its
    /// activation and its loss term (softplus(z) − t·z) together.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SigmoidWithSoftplus(Vector512<float> z, out Vector512<float> softplus)
    {
        Vector512<float> sigmoid = SigmoidStable(z, out Vector512<float> w);
        softplus = Vector512.MaxNative(z, Vector512<float>.Zero) + LogOneToTwo(w);
        return sigmoid;
    }

    /// <summary>
    /// <see cref="SigmoidStable(Vector512{float})"/>'s float, and in <paramref name="onePlusExp"/> w = 1 + e^−|z| from the same exp,
    /// so that softplus(z) = max(z, 0) + log(w). The binary cross-entropy output layer takes its activation from here and
    /// sums the log(w) of its loss terms through <see cref="MultiplyIntoProduct(ref Vector512{float}, ref Vector512{int}, Vector512{float})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SigmoidStable(Vector512<float> z, out Vector512<float> onePlusExp)
    {
        Vector512<float> e = ExpOfNonPositive(-Vector512.Abs(z));
        onePlusExp = Vector512.Create(1f) + e;
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(z, Vector512<float>.Zero), Vector512.Create(1f), e) / onePlusExp;
    }

    /// <summary>
    /// Multiplies a running product, kept per lane as <paramref name="mantissa"/> in [1, 2) times 2^<paramref name="exponent"/>,
    /// by <paramref name="factor"/> in [1, 2]: one rounding per factor, never overflowing. Σ log(w) over many w then costs one
    /// multiply per vector and a single log at the end (<see cref="LogOfProduct(Vector512{float}, Vector512{int})"/>), with no more
    /// error than adding float logs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyIntoProduct(ref Vector512<float> mantissa, ref Vector512<int> exponent, Vector512<float> factor)
    {
        Vector512<int> bits = (mantissa * factor).AsInt32();
        exponent += Vector512.ShiftRightLogical(bits, 23) - Vector512.Create(127);
        mantissa = ((bits & Vector512.Create(0x007FFFFF)) | Vector512.Create(0x3F800000)).AsSingle();
    }

    /// <summary>The log of the product <see cref="MultiplyIntoProduct(ref Vector512{float}, ref Vector512{int}, Vector512{float})"/> kept, summed over the lanes, in double.</summary>
    public static double LogOfProduct(Vector512<float> mantissa, Vector512<int> exponent)
    {
        double product = 1.0;
        long power = 0;
        for (int i = 0; i < Vector512<float>.Count; i++)
        {
            product *= mantissa.GetElement(i);
            power += exponent.GetElement(i);
        }

        return Math.Log(product) + power * 0.69314718055994530942;
    }

    /// <summary>
    /// e^x for x ≤ 0 (or NaN): Cephes expf's reduction and coefficients with the polynomial in Estrin's form and
    /// no overflow handling; within exp's error bound, not bit-identical to <see cref="Exp(Vector512{float})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpOfNonPositive(Vector512<float> x)
    {
        Vector512<float> xc = Vector512.MaxNative(x, Vector512.Create(ExpLow));
        Vector512<float> n = Vector512.Floor(xc * Vector512.Create(Log2E) + Vector512.Create(0.5f));
        Vector512<float> r = (xc - n * Vector512.Create(Ln2High)) - n * Vector512.Create(Ln2Low);
        Vector512<float> r2 = r * r;
        Vector512<float> a = Vector512.Create(P0) * r + Vector512.Create(P1);
        Vector512<float> b = Vector512.Create(P2) * r + Vector512.Create(P3);
        Vector512<float> c = Vector512.Create(P4) * r + Vector512.Create(P5);
        Vector512<float> poly = ((a * r2 + b) * r2 + c) * r2 + r + Vector512.Create(1f);
        Vector512<int> ni = Vector512.ConvertToInt32Native(n);
        Vector512<int> half = Vector512.ShiftRightArithmetic(ni, 1);
        Vector512<float> scale1 = Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle();
        Vector512<float> scale2 = Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
        Vector512<float> result = poly * scale1 * scale2;
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpLow)), Vector512<float>.Zero, result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    /// <summary>log(w) for w in [1, 2] (Cephes logf's reduction and polynomial).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LogOneToTwo(Vector512<float> w)
    {
        Vector512<float> high = Vector512.GreaterThan(w, Vector512.Create(Sqrt2));
        Vector512<float> e = high & Vector512.Create(1f);
        Vector512<float> m = Vector512.ConditionalSelect(high, w * Vector512.Create(0.5f), w);
        Vector512<float> f = m - Vector512.Create(1f);
        Vector512<float> f2 = f * f;
        // Estrin's scheme: the same polynomial as Cephes' Horner form in a chain 7 operations deep instead of 16 (this runs in
        // the binary cross-entropy loss of every output, where the chain's latency, not the operation count, limits).
        Vector512<float> f4 = f2 * f2;
        Vector512<float> q0 = Vector512.Create(L7) * f + Vector512.Create(L8);
        Vector512<float> q1 = Vector512.Create(L5) * f + Vector512.Create(L6);
        Vector512<float> q2 = Vector512.Create(L3) * f + Vector512.Create(L4);
        Vector512<float> q3 = Vector512.Create(L1) * f + Vector512.Create(L2);
        Vector512<float> low = q1 * f2 + q0;
        Vector512<float> upper = q3 * f2 + q2 + Vector512.Create(L0) * f4;
        Vector512<float> poly = upper * f4 + low;
        Vector512<float> y = f * f2 * poly + e * Vector512.Create(Ln2Low) - Vector512.Create(0.5f) * f2;
        return f + y + e * Vector512.Create(Ln2High);
    }

    // ---- Vector256 ----

    /// <summary>a·b + c: fused where the hardware fuses (FMA3 on x64, AdvSimd on ARM64), else multiply then add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>e^x, Cephes expf (see the class remarks): above 88.72 +∞, below −103.97 zero, NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> xc = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(ExpLow)), Vector256.Create(ExpHigh));
        Vector256<float> n = Vector256.Floor(xc * Vector256.Create(Log2E) + Vector256.Create(0.5f));
        Vector256<float> r = (xc - n * Vector256.Create(Ln2High)) - n * Vector256.Create(Ln2Low);
        Vector256<float> r2 = r * r;
        Vector256<float> poly = Vector256.Create(P0) * r + Vector256.Create(P1);
        poly = poly * r + Vector256.Create(P2);
        poly = poly * r + Vector256.Create(P3);
        poly = poly * r + Vector256.Create(P4);
        poly = poly * r + Vector256.Create(P5);
        poly = poly * r2 + r + Vector256.Create(1f);

        // 2ⁿ as 2^(n>>1)·2^(n−(n>>1)): both factors are normal floats for n in [−150, 128].
        Vector256<int> ni = Vector256.ConvertToInt32Native(n); // n is within [−150, 128]: no saturation needed
        Vector256<int> half = Vector256.ShiftRightArithmetic(ni, 1);
        Vector256<float> scale1 = Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle();
        Vector256<float> scale2 = Vector256.ShiftLeft(ni - half + Vector256.Create(127), 23).AsSingle();
        Vector256<float> result = poly * scale1 * scale2;
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(ExpHigh)), Vector256.Create(float.PositiveInfinity), result);
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpLow)), Vector256<float>.Zero, result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>1 / (1 + e^−z) with a real divide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> z) => Vector256.Create(1f) / (Vector256.Create(1f) + Exp(-z));

    /// <summary>tanh: Cephes tanhf's odd polynomial below |z| = 0.625, else sign(z)·(1 − 2/(e^{2|z|} + 1)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> z)
    {
        Vector256<float> a = Vector256.Abs(z);
        Vector256<float> big = Vector256.Create(1f) - Vector256.Create(2f) / (Exp(a + a) + Vector256.Create(1f));
        big = big | (z & Vector256.Create(-0f));
        Vector256<float> z2 = z * z;
        Vector256<float> poly = Vector256.Create(T0) * z2 + Vector256.Create(T1);
        poly = poly * z2 + Vector256.Create(T2);
        poly = poly * z2 + Vector256.Create(T3);
        poly = poly * z2 + Vector256.Create(T4);
        Vector256<float> small = z + z * z2 * poly;
        return Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(TanhSwitch)), small, big);
    }

    /// <summary>max(0, z); NaN propagates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> z) => Vector256.ConditionalSelect(Vector256.LessThan(z, Vector256<float>.Zero), Vector256<float>.Zero, z);

    /// <summary>softplus(z) = max(z, 0) + log(1 + e^−|z|), the log by Cephes logf on [1, 2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Softplus(Vector256<float> z) => Vector256.MaxNative(z, Vector256<float>.Zero) + LogOneToTwo(Vector256.Create(1f) + ExpOfNonPositive(-Vector256.Abs(z)));

    /// <summary>
    /// σ(z) from e = e^−|z| (exp restricted to x ≤ 0, Estrin's form): (z ≥ 0 ? 1 : e)/(1 + e), within its own bound
    /// (docs/math.md). The output layer of a binary cross-entropy model uses this form everywhere, so that its loss
    /// term can share the exp (<see cref="SigmoidStable(Vector256{float}, out Vector256{float})"/> for full vectors,
    /// <see cref="SigmoidWithSoftplus(Vector256{float}, out Vector256{float})"/> for tail pieces).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SigmoidStable(Vector256<float> z) => SigmoidStable(z, out _);

    /// <summary>
    /// <see cref="SigmoidStable(Vector256{float})"/>, and in <paramref name="softplus"/> the float <see cref="Softplus(Vector256{float})"/>
    /// gives, from one exp e = e^−|z|: softplus = max(z, 0) + log(1 + e). The binary cross-entropy output layer gets its
    /// activation and its loss term (softplus(z) − t·z) together.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SigmoidWithSoftplus(Vector256<float> z, out Vector256<float> softplus)
    {
        Vector256<float> sigmoid = SigmoidStable(z, out Vector256<float> w);
        softplus = Vector256.MaxNative(z, Vector256<float>.Zero) + LogOneToTwo(w);
        return sigmoid;
    }

    /// <summary>
    /// <see cref="SigmoidStable(Vector256{float})"/>'s float, and in <paramref name="onePlusExp"/> w = 1 + e^−|z| from the same exp,
    /// so that softplus(z) = max(z, 0) + log(w). The binary cross-entropy output layer takes its activation from here and
    /// sums the log(w) of its loss terms through <see cref="MultiplyIntoProduct(ref Vector256{float}, ref Vector256{int}, Vector256{float})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SigmoidStable(Vector256<float> z, out Vector256<float> onePlusExp)
    {
        Vector256<float> e = ExpOfNonPositive(-Vector256.Abs(z));
        onePlusExp = Vector256.Create(1f) + e;
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256.Create(1f), e) / onePlusExp;
    }

    /// <summary>
    /// Multiplies a running product, kept per lane as <paramref name="mantissa"/> in [1, 2) times 2^<paramref name="exponent"/>,
    /// by <paramref name="factor"/> in [1, 2]: one rounding per factor, never overflowing. Σ log(w) over many w then costs one
    /// multiply per vector and a single log at the end (<see cref="LogOfProduct(Vector256{float}, Vector256{int})"/>), with no more
    /// error than adding float logs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyIntoProduct(ref Vector256<float> mantissa, ref Vector256<int> exponent, Vector256<float> factor)
    {
        Vector256<int> bits = (mantissa * factor).AsInt32();
        exponent += Vector256.ShiftRightLogical(bits, 23) - Vector256.Create(127);
        mantissa = ((bits & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle();
    }

    /// <summary>The log of the product <see cref="MultiplyIntoProduct(ref Vector256{float}, ref Vector256{int}, Vector256{float})"/> kept, summed over the lanes, in double.</summary>
    public static double LogOfProduct(Vector256<float> mantissa, Vector256<int> exponent)
    {
        double product = 1.0;
        long power = 0;
        for (int i = 0; i < Vector256<float>.Count; i++)
        {
            product *= mantissa.GetElement(i);
            power += exponent.GetElement(i);
        }

        return Math.Log(product) + power * 0.69314718055994530942;
    }

    /// <summary>
    /// e^x for x ≤ 0 (or NaN): Cephes expf's reduction and coefficients with the polynomial in Estrin's form and
    /// no overflow handling; within exp's error bound, not bit-identical to <see cref="Exp(Vector256{float})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpOfNonPositive(Vector256<float> x)
    {
        Vector256<float> xc = Vector256.MaxNative(x, Vector256.Create(ExpLow));
        Vector256<float> n = Vector256.Floor(xc * Vector256.Create(Log2E) + Vector256.Create(0.5f));
        Vector256<float> r = (xc - n * Vector256.Create(Ln2High)) - n * Vector256.Create(Ln2Low);
        Vector256<float> r2 = r * r;
        Vector256<float> a = Vector256.Create(P0) * r + Vector256.Create(P1);
        Vector256<float> b = Vector256.Create(P2) * r + Vector256.Create(P3);
        Vector256<float> c = Vector256.Create(P4) * r + Vector256.Create(P5);
        Vector256<float> poly = ((a * r2 + b) * r2 + c) * r2 + r + Vector256.Create(1f);
        Vector256<int> ni = Vector256.ConvertToInt32Native(n);
        Vector256<int> half = Vector256.ShiftRightArithmetic(ni, 1);
        Vector256<float> scale1 = Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle();
        Vector256<float> scale2 = Vector256.ShiftLeft(ni - half + Vector256.Create(127), 23).AsSingle();
        Vector256<float> result = poly * scale1 * scale2;
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpLow)), Vector256<float>.Zero, result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>log(w) for w in [1, 2] (Cephes logf's reduction and polynomial).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LogOneToTwo(Vector256<float> w)
    {
        Vector256<float> high = Vector256.GreaterThan(w, Vector256.Create(Sqrt2));
        Vector256<float> e = high & Vector256.Create(1f);
        Vector256<float> m = Vector256.ConditionalSelect(high, w * Vector256.Create(0.5f), w);
        Vector256<float> f = m - Vector256.Create(1f);
        Vector256<float> f2 = f * f;
        // Estrin's scheme: the same polynomial as Cephes' Horner form in a chain 7 operations deep instead of 16 (this runs in
        // the binary cross-entropy loss of every output, where the chain's latency, not the operation count, limits).
        Vector256<float> f4 = f2 * f2;
        Vector256<float> q0 = Vector256.Create(L7) * f + Vector256.Create(L8);
        Vector256<float> q1 = Vector256.Create(L5) * f + Vector256.Create(L6);
        Vector256<float> q2 = Vector256.Create(L3) * f + Vector256.Create(L4);
        Vector256<float> q3 = Vector256.Create(L1) * f + Vector256.Create(L2);
        Vector256<float> low = q1 * f2 + q0;
        Vector256<float> upper = q3 * f2 + q2 + Vector256.Create(L0) * f4;
        Vector256<float> poly = upper * f4 + low;
        Vector256<float> y = f * f2 * poly + e * Vector256.Create(Ln2Low) - Vector256.Create(0.5f) * f2;
        return f + y + e * Vector256.Create(Ln2High);
    }

    // ---- Vector128 ----

    /// <summary>a·b + c: fused where the hardware fuses (FMA3 on x64, AdvSimd on ARM64), else multiply then add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(c, a, b) : a * b + c;

    /// <summary>e^x, Cephes expf (see the class remarks): above 88.72 +∞, below −103.97 zero, NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        Vector128<float> xc = Vector128.MinNative(Vector128.MaxNative(x, Vector128.Create(ExpLow)), Vector128.Create(ExpHigh));
        Vector128<float> n = Vector128.Floor(xc * Vector128.Create(Log2E) + Vector128.Create(0.5f));
        Vector128<float> r = (xc - n * Vector128.Create(Ln2High)) - n * Vector128.Create(Ln2Low);
        Vector128<float> r2 = r * r;
        Vector128<float> poly = Vector128.Create(P0) * r + Vector128.Create(P1);
        poly = poly * r + Vector128.Create(P2);
        poly = poly * r + Vector128.Create(P3);
        poly = poly * r + Vector128.Create(P4);
        poly = poly * r + Vector128.Create(P5);
        poly = poly * r2 + r + Vector128.Create(1f);

        // 2ⁿ as 2^(n>>1)·2^(n−(n>>1)): both factors are normal floats for n in [−150, 128].
        Vector128<int> ni = Vector128.ConvertToInt32Native(n); // n is within [−150, 128]: no saturation needed
        Vector128<int> half = Vector128.ShiftRightArithmetic(ni, 1);
        Vector128<float> scale1 = Vector128.ShiftLeft(half + Vector128.Create(127), 23).AsSingle();
        Vector128<float> scale2 = Vector128.ShiftLeft(ni - half + Vector128.Create(127), 23).AsSingle();
        Vector128<float> result = poly * scale1 * scale2;
        result = Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128.Create(ExpHigh)), Vector128.Create(float.PositiveInfinity), result);
        result = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(ExpLow)), Vector128<float>.Zero, result);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), result, x);
    }

    /// <summary>1 / (1 + e^−z) with a real divide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> z) => Vector128.Create(1f) / (Vector128.Create(1f) + Exp(-z));

    /// <summary>tanh: Cephes tanhf's odd polynomial below |z| = 0.625, else sign(z)·(1 − 2/(e^{2|z|} + 1)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> z)
    {
        Vector128<float> a = Vector128.Abs(z);
        Vector128<float> big = Vector128.Create(1f) - Vector128.Create(2f) / (Exp(a + a) + Vector128.Create(1f));
        big = big | (z & Vector128.Create(-0f));
        Vector128<float> z2 = z * z;
        Vector128<float> poly = Vector128.Create(T0) * z2 + Vector128.Create(T1);
        poly = poly * z2 + Vector128.Create(T2);
        poly = poly * z2 + Vector128.Create(T3);
        poly = poly * z2 + Vector128.Create(T4);
        Vector128<float> small = z + z * z2 * poly;
        return Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(TanhSwitch)), small, big);
    }

    /// <summary>max(0, z); NaN propagates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Relu(Vector128<float> z) => Vector128.ConditionalSelect(Vector128.LessThan(z, Vector128<float>.Zero), Vector128<float>.Zero, z);

    /// <summary>softplus(z) = max(z, 0) + log(1 + e^−|z|), the log by Cephes logf on [1, 2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Softplus(Vector128<float> z) => Vector128.MaxNative(z, Vector128<float>.Zero) + LogOneToTwo(Vector128.Create(1f) + ExpOfNonPositive(-Vector128.Abs(z)));

    /// <summary>
    /// σ(z) from e = e^−|z| (exp restricted to x ≤ 0, Estrin's form): (z ≥ 0 ? 1 : e)/(1 + e), within its own bound
    /// (docs/math.md). The output layer of a binary cross-entropy model uses this form everywhere, so that its loss
    /// term can share the exp (<see cref="SigmoidStable(Vector128{float}, out Vector128{float})"/> for full vectors,
    /// <see cref="SigmoidWithSoftplus(Vector128{float}, out Vector128{float})"/> for tail pieces).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SigmoidStable(Vector128<float> z) => SigmoidStable(z, out _);

    /// <summary>
    /// <see cref="SigmoidStable(Vector128{float})"/>, and in <paramref name="softplus"/> the float <see cref="Softplus(Vector128{float})"/>
    /// gives, from one exp e = e^−|z|: softplus = max(z, 0) + log(1 + e). The binary cross-entropy output layer gets its
    /// activation and its loss term (softplus(z) − t·z) together.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SigmoidWithSoftplus(Vector128<float> z, out Vector128<float> softplus)
    {
        Vector128<float> sigmoid = SigmoidStable(z, out Vector128<float> w);
        softplus = Vector128.MaxNative(z, Vector128<float>.Zero) + LogOneToTwo(w);
        return sigmoid;
    }

    /// <summary>
    /// <see cref="SigmoidStable(Vector128{float})"/>'s float, and in <paramref name="onePlusExp"/> w = 1 + e^−|z| from the same exp,
    /// so that softplus(z) = max(z, 0) + log(w). The binary cross-entropy output layer takes its activation from here and
    /// sums the log(w) of its loss terms through <see cref="MultiplyIntoProduct(ref Vector128{float}, ref Vector128{int}, Vector128{float})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> SigmoidStable(Vector128<float> z, out Vector128<float> onePlusExp)
    {
        Vector128<float> e = ExpOfNonPositive(-Vector128.Abs(z));
        onePlusExp = Vector128.Create(1f) + e;
        return Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(z, Vector128<float>.Zero), Vector128.Create(1f), e) / onePlusExp;
    }

    /// <summary>
    /// Multiplies a running product, kept per lane as <paramref name="mantissa"/> in [1, 2) times 2^<paramref name="exponent"/>,
    /// by <paramref name="factor"/> in [1, 2]: one rounding per factor, never overflowing. Σ log(w) over many w then costs one
    /// multiply per vector and a single log at the end (<see cref="LogOfProduct(Vector128{float}, Vector128{int})"/>), with no more
    /// error than adding float logs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyIntoProduct(ref Vector128<float> mantissa, ref Vector128<int> exponent, Vector128<float> factor)
    {
        Vector128<int> bits = (mantissa * factor).AsInt32();
        exponent += Vector128.ShiftRightLogical(bits, 23) - Vector128.Create(127);
        mantissa = ((bits & Vector128.Create(0x007FFFFF)) | Vector128.Create(0x3F800000)).AsSingle();
    }

    /// <summary>The log of the product <see cref="MultiplyIntoProduct(ref Vector128{float}, ref Vector128{int}, Vector128{float})"/> kept, summed over the lanes, in double.</summary>
    public static double LogOfProduct(Vector128<float> mantissa, Vector128<int> exponent)
    {
        double product = 1.0;
        long power = 0;
        for (int i = 0; i < Vector128<float>.Count; i++)
        {
            product *= mantissa.GetElement(i);
            power += exponent.GetElement(i);
        }

        return Math.Log(product) + power * 0.69314718055994530942;
    }

    /// <summary>
    /// e^x for x ≤ 0 (or NaN): Cephes expf's reduction and coefficients with the polynomial in Estrin's form and
    /// no overflow handling; within exp's error bound, not bit-identical to <see cref="Exp(Vector128{float})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ExpOfNonPositive(Vector128<float> x)
    {
        Vector128<float> xc = Vector128.MaxNative(x, Vector128.Create(ExpLow));
        Vector128<float> n = Vector128.Floor(xc * Vector128.Create(Log2E) + Vector128.Create(0.5f));
        Vector128<float> r = (xc - n * Vector128.Create(Ln2High)) - n * Vector128.Create(Ln2Low);
        Vector128<float> r2 = r * r;
        Vector128<float> a = Vector128.Create(P0) * r + Vector128.Create(P1);
        Vector128<float> b = Vector128.Create(P2) * r + Vector128.Create(P3);
        Vector128<float> c = Vector128.Create(P4) * r + Vector128.Create(P5);
        Vector128<float> poly = ((a * r2 + b) * r2 + c) * r2 + r + Vector128.Create(1f);
        Vector128<int> ni = Vector128.ConvertToInt32Native(n);
        Vector128<int> half = Vector128.ShiftRightArithmetic(ni, 1);
        Vector128<float> scale1 = Vector128.ShiftLeft(half + Vector128.Create(127), 23).AsSingle();
        Vector128<float> scale2 = Vector128.ShiftLeft(ni - half + Vector128.Create(127), 23).AsSingle();
        Vector128<float> result = poly * scale1 * scale2;
        result = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(ExpLow)), Vector128<float>.Zero, result);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), result, x);
    }

    /// <summary>log(w) for w in [1, 2] (Cephes logf's reduction and polynomial).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> LogOneToTwo(Vector128<float> w)
    {
        Vector128<float> high = Vector128.GreaterThan(w, Vector128.Create(Sqrt2));
        Vector128<float> e = high & Vector128.Create(1f);
        Vector128<float> m = Vector128.ConditionalSelect(high, w * Vector128.Create(0.5f), w);
        Vector128<float> f = m - Vector128.Create(1f);
        Vector128<float> f2 = f * f;
        // Estrin's scheme: the same polynomial as Cephes' Horner form in a chain 7 operations deep instead of 16 (this runs in
        // the binary cross-entropy loss of every output, where the chain's latency, not the operation count, limits).
        Vector128<float> f4 = f2 * f2;
        Vector128<float> q0 = Vector128.Create(L7) * f + Vector128.Create(L8);
        Vector128<float> q1 = Vector128.Create(L5) * f + Vector128.Create(L6);
        Vector128<float> q2 = Vector128.Create(L3) * f + Vector128.Create(L4);
        Vector128<float> q3 = Vector128.Create(L1) * f + Vector128.Create(L2);
        Vector128<float> low = q1 * f2 + q0;
        Vector128<float> upper = q3 * f2 + q2 + Vector128.Create(L0) * f4;
        Vector128<float> poly = upper * f4 + low;
        Vector128<float> y = f * f2 * poly + e * Vector128.Create(Ln2Low) - Vector128.Create(0.5f) * f2;
        return f + y + e * Vector128.Create(Ln2High);
    }

    // ---- scalar ----

    /// <summary>a·b + c as a multiply then an add (the scalar tail of a vector kernel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => a * b + c;

    /// <summary>e^x, the same algorithm and operation order as the vector forms.</summary>
    public static float Exp(float x)
    {
        if (float.IsNaN(x))
        {
            return x;
        }

        if (x > ExpHigh)
        {
            return float.PositiveInfinity;
        }

        if (x < ExpLow)
        {
            return 0f;
        }

        float n = MathF.Floor(x * Log2E + 0.5f);
        float r = (x - n * Ln2High) - n * Ln2Low;
        float r2 = r * r;
        float poly = P0 * r + P1;
        poly = poly * r + P2;
        poly = poly * r + P3;
        poly = poly * r + P4;
        poly = poly * r + P5;
        poly = poly * r2 + r + 1f;
        int ni = (int)n;
        int half = ni >> 1;
        float scale1 = BitConverter.Int32BitsToSingle((half + 127) << 23);
        float scale2 = BitConverter.Int32BitsToSingle((ni - half + 127) << 23);
        return poly * scale1 * scale2;
    }

    /// <summary>1 / (1 + e^−z).</summary>
    public static float Sigmoid(float z) => 1f / (1f + Exp(-z));

    /// <summary>tanh, as the vector forms.</summary>
    public static float Tanh(float z)
    {
        float a = MathF.Abs(z);
        if (a < TanhSwitch)
        {
            float z2 = z * z;
            float poly = T0 * z2 + T1;
            poly = poly * z2 + T2;
            poly = poly * z2 + T3;
            poly = poly * z2 + T4;
            return z + z * z2 * poly;
        }

        float big = 1f - 2f / (Exp(a + a) + 1f);
        return MathF.CopySign(big, z);
    }

    /// <summary>max(0, z); NaN propagates.</summary>
    public static float Relu(float z) => z < 0f ? 0f : z;

    /// <summary>softplus(z) = max(z, 0) + log(1 + e^−|z|), as the vector forms.</summary>
    public static float Softplus(float z) => (z > 0f ? z : 0f) + LogOneToTwo(1f + ExpOfNonPositive(-MathF.Abs(z)));

    /// <summary>σ(z) from e^−|z|, as the vector forms.</summary>
    public static float SigmoidStable(float z) => SigmoidStable(z, out _);

    /// <summary>σ(z) as <see cref="SigmoidStable(float)"/> and w = 1 + e^−|z|, as the vector forms.</summary>
    public static float SigmoidStable(float z, out float onePlusExp)
    {
        float e = ExpOfNonPositive(-MathF.Abs(z));
        onePlusExp = 1f + e;
        return (z >= 0f ? 1f : e) / onePlusExp;
    }

    /// <summary>σ(z) (<see cref="SigmoidStable(float)"/>) and softplus(z) from one exp, as the vector forms.</summary>
    public static float SigmoidWithSoftplus(float z, out float softplus)
    {
        float sigmoid = SigmoidStable(z, out float w);
        softplus = (z > 0f ? z : 0f) + LogOneToTwo(w);
        return sigmoid;
    }

    /// <summary>e^x for x ≤ 0 (or NaN), as the vector forms.</summary>
    private static float ExpOfNonPositive(float x)
    {
        if (float.IsNaN(x))
        {
            return x;
        }

        if (x < ExpLow)
        {
            return 0f;
        }

        float n = MathF.Floor(x * Log2E + 0.5f);
        float r = (x - n * Ln2High) - n * Ln2Low;
        float r2 = r * r;
        float a = P0 * r + P1;
        float b = P2 * r + P3;
        float c = P4 * r + P5;
        float poly = ((a * r2 + b) * r2 + c) * r2 + r + 1f;
        int ni = (int)n;
        int half = ni >> 1;
        float scale1 = BitConverter.Int32BitsToSingle((half + 127) << 23);
        float scale2 = BitConverter.Int32BitsToSingle((ni - half + 127) << 23);
        return poly * scale1 * scale2;
    }

    /// <summary>log(w) for w in [1, 2], as the vector forms.</summary>
    private static float LogOneToTwo(float w)
    {
        float e = w > Sqrt2 ? 1f : 0f;
        float m = w > Sqrt2 ? w * 0.5f : w;
        float f = m - 1f;
        float f2 = f * f;
        float f4 = f2 * f2;
        float q0 = L7 * f + L8;
        float q1 = L5 * f + L6;
        float q2 = L3 * f + L4;
        float q3 = L1 * f + L2;
        float low = q1 * f2 + q0;
        float upper = q3 * f2 + q2 + L0 * f4;
        float poly = upper * f4 + low;
        float y = f * f2 * poly + e * Ln2Low - 0.5f * f2;
        return f + y + e * Ln2High;
    }
}
