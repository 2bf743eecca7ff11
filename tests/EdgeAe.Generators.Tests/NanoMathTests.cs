using System.Reflection;
using EdgeAe.Generators.Emitting;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// The firmware flavour's own math (nanoFramework has no System.Math) against double-precision
/// System.Math over dense sweeps of float bit patterns plus the edges. The bounds asserted here are
/// the ones stated in docs/math.md.
/// </summary>
public sealed class NanoMathTests
{
    private static readonly Lazy<Functions> s_math = new(Compile);

    public static TheoryData<string> Names => new("Exp", "Sigmoid", "Tanh");

    [Fact]
    public void Exp_is_within_1_ulp_wherever_the_result_is_a_normal_float()
    {
        // Every 64th float bit pattern from −87.3 (e^x just above the smallest normal) to 88.72, both signs.
        double worst = Math.Max(
            MaxUlpError(s_math.Value.Exp, Math.Exp, -87.33f, -1e-30f, stride: 64),
            MaxUlpError(s_math.Value.Exp, Math.Exp, 1e-30f, 88.72f, stride: 64));
        Assert.True(worst <= 1.0, $"exp: {worst:F3} ulp"); // measured 0.964
    }

    [Fact]
    public void Exp_underflows_gracefully_and_handles_the_edges()
    {
        Func<float, float> exp = s_math.Value.Exp;
        Assert.Equal(1f, exp(0f));
        Assert.Equal(1f, exp(-0f));
        Assert.Equal(float.PositiveInfinity, exp(89f));
        Assert.Equal(float.PositiveInfinity, exp(float.PositiveInfinity));
        Assert.Equal(float.PositiveInfinity, exp(float.MaxValue));
        Assert.Equal(0f, exp(-104f));
        Assert.Equal(0f, exp(float.NegativeInfinity));
        Assert.Equal(0f, exp(-float.MaxValue));
        Assert.True(float.IsNaN(exp(float.NaN)));

        // In the subnormal range the result keeps an absolute error below one subnormal step per unit of
        // relative precision lost: checked against double, correctly rounded, within 2 steps of 2^-149.
        for (float x = -103.9f; x < -87.4f; x += 0.01f)
        {
            double expected = Math.Exp(x);
            Assert.True(Math.Abs(exp(x) - expected) <= 2 * float.Epsilon, $"exp({x:R}) = {exp(x):R}, expected {expected:R}");
        }
    }

    [Fact]
    public void Sigmoid_is_within_2_5_ulp_over_the_whole_float_range()
    {
        double negative = MaxUlpError(s_math.Value.Sigmoid, z => 1 / (1 + Math.Exp(-z)), -87f, -1e-30f, stride: 64);
        double positive = MaxUlpError(s_math.Value.Sigmoid, z => 1 / (1 + Math.Exp(-z)), 1e-30f, 20f, stride: 64);
        Assert.True(Math.Max(negative, positive) <= 2.5, // measured 2.33 below 0, 1.49 above
             $"sigmoid: {negative:F3} ulp below 0, {positive:F3} above");
        Func<float, float> sigmoid = s_math.Value.Sigmoid;
        Assert.Equal(1f, sigmoid(20f));
        Assert.Equal(1f, sigmoid(float.MaxValue));
        Assert.Equal(0f, sigmoid(-float.MaxValue));
        Assert.Equal(0.5f, sigmoid(0f));
        Assert.True(float.IsNaN(sigmoid(float.NaN)));
    }

    [Fact]
    public void Tanh_is_within_1_5_ulp_over_the_whole_float_range()
    {
        double small = MaxUlpError(s_math.Value.Tanh, Math.Tanh, 1e-30f, 0.625f, stride: 64);
        double large = MaxUlpError(s_math.Value.Tanh, Math.Tanh, 0.625f, 10f, stride: 64);
        double negative = MaxUlpError(s_math.Value.Tanh, Math.Tanh, -10f, -1e-30f, stride: 256);
        Assert.True(Math.Max(small, Math.Max(large, negative)) <= 1.5, // measured 0.73 / 1.28 / 1.28
             $"tanh: {small:F3} ulp below 0.625, {large:F3} above, {negative:F3} negative");
        Func<float, float> tanh = s_math.Value.Tanh;
        Assert.Equal(0f, tanh(0f));
        Assert.True(float.IsNegative(tanh(-0f)));
        Assert.Equal(1f, tanh(float.MaxValue));
        Assert.Equal(-1f, tanh(float.NegativeInfinity));
        Assert.True(float.IsNaN(tanh(float.NaN)));
    }

    [Fact]
    public void Softplus_is_within_1e_7_relative()
    {
        Func<float, double> softplus = s_math.Value.Softplus;
        double worst = 0;
        for (float z = -80f; z <= 80f; z += 0.013f)
        {
            double e = Math.Exp(-Math.Abs((double)z));
            double log1p = e < 1e-8 ? e - e * e / 2 : Math.Log(1 + e);
            double expected = Math.Max(z, 0) + log1p;
            // The float exp inside limits the log term to about float precision; the result relative to its size:
            worst = Math.Max(worst, Math.Abs(softplus(z) - expected) / Math.Max(expected, 1e-300));
        }

        Assert.True(worst < 1e-7, $"softplus relative error {worst:E2}"); // measured 7.35e-8
        Assert.Equal(Math.Log(2), softplus(0f), 7);
        Assert.True(double.IsNaN(softplus(float.NaN)));
    }

    /// <summary>Max error in units in the last place of the float result, over every stride-th float in [from, to].</summary>
    private static double MaxUlpError(Func<float, float> actual, Func<double, double> expected, float from, float to, int stride)
    {
        double worst = 0;
        foreach (float x in Floats(from, to, stride))
        {
            double reference = expected(x);
            float got = actual(x);
            double ulp = Ulp((float)reference);
            worst = Math.Max(worst, Math.Abs(got - reference) / ulp);
        }

        return worst;
    }

    private static double Ulp(float value)
    {
        float magnitude = Math.Abs(value);
        return Math.Max(MathF.BitIncrement(magnitude) - magnitude, float.Epsilon);
    }

    /// <summary>Every <paramref name="stride"/>-th float between two values of the same sign.</summary>
    private static IEnumerable<float> Floats(float from, float to, int stride)
    {
        if (from < 0 && to <= 0)
        {
            foreach (float x in Floats(-to, -from, stride))
            {
                yield return -x;
            }

            yield break;
        }

        for (int bits = BitConverter.SingleToInt32Bits(from); bits <= BitConverter.SingleToInt32Bits(to); bits += stride)
        {
            yield return BitConverter.Int32BitsToSingle(bits);
        }
    }

    private static Functions Compile()
    {
        string source = "public static class NanoMath\n{\n" + FirmwareMath.Text + "\n}\n";
        CSharpCompilation compilation = CSharpCompilation.Create(
            "EdgeAe.NanoMath",
            [CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions)],
            GeneratorHarness.References,
            GeneratorHarness.CompilationOptions);
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        Type type = Assembly.Load(image.ToArray()).GetType("NanoMath")!;
        T Get<T>(string name) where T : Delegate => type.GetMethod(name)!.CreateDelegate<T>();
        return new Functions(Get<Func<float, float>>("Exp"), Get<Func<float, float>>("Sigmoid"), Get<Func<float, float>>("Tanh"), Get<Func<float, double>>("Softplus"));
    }

    private sealed record Functions(Func<float, float> Exp, Func<float, float> Sigmoid, Func<float, float> Tanh, Func<float, double> Softplus);
}
