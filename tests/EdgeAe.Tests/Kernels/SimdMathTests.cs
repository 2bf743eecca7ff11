using System.Runtime.Intrinsics;
using EdgeAe.Kernels;
using S = EdgeAe.Kernels.SimdMath<EdgeAe.Kernels.Simd1, float>;
using S128 = EdgeAe.Kernels.SimdMath<EdgeAe.Kernels.Simd128, System.Runtime.Intrinsics.Vector128<float>>;
using S256 = EdgeAe.Kernels.SimdMath<EdgeAe.Kernels.Simd256, System.Runtime.Intrinsics.Vector256<float>>;
using S512 = EdgeAe.Kernels.SimdMath<EdgeAe.Kernels.Simd512, System.Runtime.Intrinsics.Vector512<float>>;

namespace EdgeAe.Tests.Kernels;

/// <summary>
/// The kernels' element-wise math (<see cref="SimdMath{V, TVec}"/>, one generic source for every width) against
/// double-precision Math over dense sweeps; the bounds asserted here are the figures stated in docs/math.md. Run
/// again on every ISA rung by CI.
/// </summary>
public sealed class SimdMathTests
{
    // docs/math.md states these (measured maxima rounded up).
    public const double ExpBound = 1.0e-7;
    public const double SigmoidBound = 1.6e-7;
    public const double StableSigmoidBound = 1.8e-7;
    public const double TanhBound = 1.5e-7;
    public const double SoftplusAbsoluteBound = 1.5e-7;

    private const int Points = 1 << 22;

    [Fact]
    public void Exp_is_within_its_stated_relative_error_over_the_normal_range()
    {
        double worst = Sweep(-87.3f, 88.7f, Exp, Math.Exp, out float at);
        Assert.True(worst <= ExpBound, $"exp: max relative error {worst:E3} at {at:R}");
    }

    [Fact]
    public void Sigmoid_is_within_its_stated_relative_error()
    {
        double worst = Sweep(-87f, 30f, Sigmoid, z => 1.0 / (1.0 + Math.Exp(-z)), out float at);
        Assert.True(worst <= SigmoidBound, $"sigmoid: max relative error {worst:E3} at {at:R}");
    }

    [Fact]
    public void Tanh_is_within_its_stated_relative_error()
    {
        double worst = Sweep(-12f, 12f, Tanh, Math.Tanh, out float at);
        Assert.True(worst <= TanhBound, $"tanh: max relative error {worst:E3} at {at:R}");
        worst = Sweep(-1e-3f, 1e-3f, Tanh, Math.Tanh, out at);
        Assert.True(worst <= TanhBound, $"tanh near 0: max relative error {worst:E3} at {at:R}");
    }

    [Fact]
    public void Softplus_is_within_its_stated_absolute_error()
    {
        double worst = 0;
        for (int k = 0; k < Points; k++)
        {
            float z = -40f + 80f * k / Points;
            double exact = Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs((double)z)));
            worst = Math.Max(worst, Math.Abs(S.Softplus(z) - exact) / Math.Max(1, exact));
        }

        TestContext.Current.SendDiagnosticMessage($"softplus: max error {worst:E3}");
        Assert.True(worst <= SoftplusAbsoluteBound, $"softplus: max error {worst:E3}");
    }

    [Fact]
    public void Stable_sigmoid_is_within_its_stated_relative_error()
    {
        double worst = Sweep(-87f, 30f, StableSigmoid, z => 1.0 / (1.0 + Math.Exp(-z)), out float at);
        Assert.True(worst <= StableSigmoidBound, $"stable sigmoid: max relative error {worst:E3} at {at:R}");
    }

    [Fact]
    public void Sigmoid_with_softplus_is_the_stable_sigmoid_and_the_softplus_from_one_exp()
    {
        var random = new Random(11);
        for (int k = 0; k < 100_000; k++)
        {
            float z = (float)(random.NextDouble() * 220 - 110);
            float sigmoid = S.SigmoidWithSoftplus(z, out float softplus);
            Assert.Equal(S.SigmoidStable(z, out _), sigmoid);
            Assert.Equal(S.Softplus(z), softplus);
        }

        Assert.Equal(0.5f, S.SigmoidStable(-0f, out _));
        Assert.Equal(0f, S.SigmoidStable(-200f, out _));
        Assert.Equal(1f, S.SigmoidStable(200f, out _));
        Assert.True(float.IsNaN(S.SigmoidWithSoftplus(float.NaN, out float nan)));
        Assert.True(float.IsNaN(nan));
    }

    [Fact]
    public void A_log_product_sums_the_logs_of_many_factors_without_overflow()
    {
        var random = new Random(17);
        var mantissa = Vector512<float>.One;
        var exponent = Vector512<float>.Zero;
        var narrowMantissa = Vector128<float>.One;
        var narrowExponent = Vector128<float>.Zero;
        double expected = 0;
        double narrowExpected = 0;
        for (int k = 0; k < 20_000; k++)
        {
            // 20,000 factors per lane in [1, 2]: the plain product would overflow after ~128.
            float z = (float)(random.NextDouble() * 40 - 20);
            float sigmoid = S.SigmoidStable(z, out float w);
            Assert.Equal(S.SigmoidStable(z, out _), sigmoid);
            Assert.Equal(1.0 + Math.Exp(-Math.Abs((double)z)), w, 1e-6);
            S512.SigmoidStable(Vector512.Create(z), out Vector512<float> w512);
            Assert.Equal(w, w512.GetElement(7));
            S512.MultiplyIntoProduct(ref mantissa, ref exponent, w512);
            S128.SigmoidStable(Vector128.Create(z), out Vector128<float> w128);
            S128.MultiplyIntoProduct(ref narrowMantissa, ref narrowExponent, w128);
            expected += 16 * Math.Log(w);
            narrowExpected += 4 * Math.Log(w);
        }

        double sum = S512.LogOfProduct(mantissa, exponent);
        Assert.InRange(sum, expected * (1 - 1e-7), expected * (1 + 1e-7));
        double narrow = S128.LogOfProduct(narrowMantissa, narrowExponent);
        Assert.InRange(narrow, narrowExpected * (1 - 1e-7), narrowExpected * (1 + 1e-7));
        Assert.Equal(0.0, S256.LogOfProduct(Vector256<float>.One, Vector256<float>.Zero));
    }

    [Fact]
    public void Vector_and_scalar_forms_agree_bit_for_bit()
    {
        var random = new Random(5);
        for (int k = 0; k < 100_000; k++)
        {
            float x = (float)(random.NextDouble() * 220 - 110);
            Vector128<float> v = Vector128.Create(x);
            Assert.Equal(S.Exp(x), S128.Exp(v).GetElement(0));
            Assert.Equal(S.Sigmoid(x), S128.Sigmoid(v).GetElement(0));
            Assert.Equal(S.Tanh(x), S128.Tanh(v).GetElement(0));
            Assert.Equal(S.Softplus(x), S128.Softplus(v).GetElement(0));
            Assert.Equal(S.Exp(x), S256.Exp(Vector256.Create(x)).GetElement(0));
            Assert.Equal(S.Tanh(x), S512.Tanh(Vector512.Create(x)).GetElement(0));
            Assert.Equal(S.Sigmoid(x), S512.Sigmoid(Vector512.Create(x)).GetElement(0));
            Assert.Equal(S.SigmoidStable(x, out _), S512.SigmoidStable(Vector512.Create(x), out _).GetElement(0));
            Assert.Equal(S.SigmoidStable(x, out _), S256.SigmoidStable(Vector256.Create(x), out _).GetElement(0));
            Assert.Equal(S.SigmoidStable(x, out _), S128.SigmoidStable(Vector128.Create(x), out _).GetElement(0));
            float sigmoid = S.SigmoidWithSoftplus(x, out float softplus);
            Assert.Equal(sigmoid, S128.SigmoidWithSoftplus(Vector128.Create(x), out Vector128<float> s128).GetElement(0));
            Assert.Equal(softplus, s128.GetElement(0));
            Assert.Equal(sigmoid, S256.SigmoidWithSoftplus(Vector256.Create(x), out Vector256<float> s256).GetElement(0));
            Assert.Equal(softplus, s256.GetElement(0));
            Assert.Equal(sigmoid, S512.SigmoidWithSoftplus(Vector512.Create(x), out Vector512<float> s512).GetElement(0));
            Assert.Equal(softplus, s512.GetElement(0));
        }
    }

    [Theory]
    [InlineData(float.NaN, float.NaN)]
    [InlineData(88.73f, float.PositiveInfinity)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(-103.98f, 0f)]
    [InlineData(float.NegativeInfinity, 0f)]
    [InlineData(0f, 1f)]
    public void Exp_special_values(float x, float expected)
    {
        Assert.Equal(expected, S.Exp(x));
        Assert.Equal(expected, Exp(x));
    }

    [Fact]
    public void Sigmoid_and_tanh_saturate_without_nan()
    {
        Assert.Equal(0f, Sigmoid(-200f));
        Assert.Equal(1f, Sigmoid(200f));
        Assert.Equal(1f, Tanh(200f));
        Assert.Equal(-1f, Tanh(-200f));
        Assert.True(float.IsNaN(Tanh(float.NaN)));
        Assert.True(float.IsNaN(Sigmoid(float.NaN)));
    }

    // The widest accelerated vector form (the one the generated kernels use on this machine).
    private static float Exp(float x) => Widest(x, S512.Exp, S256.Exp, S128.Exp, S.Exp);

    private static float Sigmoid(float x) => Widest(x, S512.Sigmoid, S256.Sigmoid, S128.Sigmoid, S.Sigmoid);

    private static float StableSigmoid(float x)
        => Widest(x, v => S512.SigmoidStable(v, out _), v => S256.SigmoidStable(v, out _), v => S128.SigmoidStable(v, out _), z => S.SigmoidStable(z, out _));

    private static float Tanh(float x) => Widest(x, S512.Tanh, S256.Tanh, S128.Tanh, S.Tanh);

    private static float Widest(float x, Func<Vector512<float>, Vector512<float>> f512, Func<Vector256<float>, Vector256<float>> f256, Func<Vector128<float>, Vector128<float>> f128, Func<float, float> scalar)
        => Vector512.IsHardwareAccelerated ? f512(Vector512.Create(x)).GetElement(3)
            : Vector256.IsHardwareAccelerated ? f256(Vector256.Create(x)).GetElement(3)
            : Vector128.IsHardwareAccelerated ? f128(Vector128.Create(x)).GetElement(3)
            : scalar(x);

    private static double Sweep(float from, float to, Func<float, float> f, Func<double, double> exact, out float worstAt)
    {
        double worst = 0;
        worstAt = from;
        try
        {
            for (int k = 0; k <= Points; k++)
        {
            float x = from + (to - from) * k / Points;
            double e = exact(x);
            double error = e == 0 ? Math.Abs(f(x)) : Math.Abs((f(x) - e) / e);
            if (error > worst)
            {
                worst = error;
                worstAt = x;
            }
        }
        }
        finally
        {
            TestContext.Current.SendDiagnosticMessage($"sweep [{from}, {to}]: max relative error {worst:E3} at {worstAt:R}");
        }

        return worst;
    }
}
