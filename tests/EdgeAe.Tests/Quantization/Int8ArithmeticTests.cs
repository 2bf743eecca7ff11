using System.Numerics;
using EdgeAe.Kernels;
using EdgeAe.Quantization;

namespace EdgeAe.Tests.Quantization;

/// <summary>
/// The arithmetic of docs/quantization.md against exact references (BigInteger, double): quantise and dequantise
/// round trips, requantisation at every edge (saturation, zero points at the ends, multipliers near 2⁻³¹ and 1, both
/// ends of the shift), and the multiplier choice.
/// </summary>
public sealed class Int8ArithmeticTests
{
    [Theory]
    [InlineData(1f / 255, -128)]
    [InlineData(0.05f, 0)]
    [InlineData(0.3f, 127)]
    [InlineData(1e-6f, -1)]
    [InlineData(1000f, 17)]
    public void Every_code_survives_dequantise_then_quantise(float scale, int zeroPoint)
    {
        float inverse = Int8Arithmetic.Inverse(scale);
        for (int q = -128; q <= 127; q++)
        {
            float real = Int8Arithmetic.Dequantize(q, scale, zeroPoint);
            Assert.Equal(q, Int8Arithmetic.Quantize(real, inverse, zeroPoint));
        }
    }

    [Fact]
    public void Quantise_rounds_half_to_even_saturates_and_maps_nan_to_the_zero_point()
    {
        Assert.Equal(0, Int8Arithmetic.Quantize(0.5f, 1f, 0));
        Assert.Equal(2, Int8Arithmetic.Quantize(1.5f, 1f, 0));
        Assert.Equal(2, Int8Arithmetic.Quantize(2.5f, 1f, 0));
        Assert.Equal(-2, Int8Arithmetic.Quantize(-2.5f, 1f, 0));
        Assert.Equal(127, Int8Arithmetic.Quantize(1e30f, 1f, 0));
        Assert.Equal(-128, Int8Arithmetic.Quantize(float.NegativeInfinity, 1f, 0));
        Assert.Equal(127, Int8Arithmetic.Quantize(float.PositiveInfinity, 1f, 0));
        Assert.Equal(-5, Int8Arithmetic.Quantize(float.NaN, 1f, -5));
        Assert.Equal(127, Int8Arithmetic.Quantize(0f, 1f, 127));
        Assert.Equal(-128, Int8Arithmetic.Quantize(-1f, 1f, -128));
    }

    public static TheoryData<int, int, int> Edges()
    {
        var data = new TheoryData<int, int, int>();
        int[] accumulators = [0, 1, -1, 2, -2, 1 << 29, -(1 << 29), (1 << 30) - 1, -(1 << 30) + 1, 123_456_789, -98_765_432];
        int[] multipliers = [0, 1, 2, (1 << 30), (1 << 30) + 1, int.MaxValue, int.MaxValue - 1, 1_518_500_250];
        int[] shifts = [31, 32, 33, 40, 47, 55, 61, 62];
        foreach (int acc in accumulators)
        {
            foreach (int m in multipliers)
            {
                foreach (int n in shifts)
                {
                    data.Add(acc, m, n);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Edges))]
    public void Requantisation_is_floor_of_acc_times_m_over_two_to_the_n_plus_a_half(int acc, int multiplier, int shift)
    {
        foreach ((int zeroPoint, int min, int max) in new[] { (0, -128, 127), (-128, -128, 127), (127, -128, 127), (-128, -128, 127), (5, 5, 127) })
        {
            // Exact: ⌊(acc·M + 2ⁿ⁻¹) / 2ⁿ⌋ in arbitrary precision, then the zero point and the clamp.
            BigInteger product = ((BigInteger)acc * multiplier) + (BigInteger.One << (shift - 1));
            BigInteger floor = BigInteger.DivRem(product, BigInteger.One << shift, out BigInteger remainder);
            if (remainder.Sign < 0)
            {
                floor -= 1;
            }

            long expected = Math.Clamp((long)floor + zeroPoint, min, max);
            Assert.Equal(expected, Int8Arithmetic.Requantize(acc, multiplier, shift, zeroPoint, min, max));

            // The rungs' logical-shift form gives the same code.
            Assert.Equal(expected, Int8Lanes.Requantize(acc, multiplier, new Requantization(shift, zeroPoint, min, max)));

            // And it is round-half-up of the real product (checked where double is exact).
            if (Math.Abs((double)acc * multiplier) < 9e15)
            {
                double real = (double)acc * multiplier / Math.Pow(2, shift);
                Assert.Equal(Math.Clamp((long)Math.Floor(real + 0.5) + zeroPoint, min, max), expected);
            }
        }
    }

    [Fact]
    public void Random_requantisations_agree_with_the_exact_reference()
    {
        var random = new Random(11);
        for (int k = 0; k < 200_000; k++)
        {
            int acc = random.Next(-(1 << 30) + 1, 1 << 30);
            int m = random.Next(0, int.MaxValue);
            int n = random.Next(31, 63);
            BigInteger product = ((BigInteger)acc * m) + (BigInteger.One << (n - 1));
            BigInteger floor = BigInteger.DivRem(product, BigInteger.One << n, out BigInteger remainder);
            floor -= remainder.Sign < 0 ? 1 : 0;
            long expected = Math.Clamp((long)floor - 3, -128, 127);
            Assert.Equal(expected, Int8Lanes.Requantize(acc, m, new Requantization(n, -3, -128, 127)));
        }
    }

    [Theory]
    [InlineData(0.999999999999)]
    [InlineData(0.5)]
    [InlineData(0.1234)]
    [InlineData(4.656612873077393e-10)] // 2⁻³¹
    [InlineData(1e-12)]
    [InlineData(2.168404344971009e-19)] // 2⁻⁶²
    public void A_multiplier_and_shift_represent_the_factor_to_31_bits(double factor)
    {
        (int[] multipliers, int shift) = Int8Arithmetic.Multipliers([factor]);
        Assert.InRange(shift, Int8Arithmetic.MinShift, Int8Arithmetic.MaxShift);
        Assert.InRange(multipliers[0], 0, int.MaxValue);
        double represented = Int8Arithmetic.Factor(multipliers[0], shift);
        // Half a unit of the last place of M: relative 2⁻³¹ when M uses all its bits, absolute 2⁻⁶³ at the bottom.
        Assert.True(Math.Abs(represented - factor) <= Math.Max(factor * Math.Pow(2, -30), Math.Pow(2, -shift)), $"factor {factor}: M {multipliers[0]}, n {shift}");
    }

    [Fact]
    public void One_shift_per_layer_keeps_every_channel_precise()
    {
        double[] factors = [0.9, 0.3, 1e-3, 2.5e-5];
        (int[] multipliers, int shift) = Int8Arithmetic.Multipliers(factors);
        for (int j = 0; j < factors.Length; j++)
        {
            double relative = Math.Abs(Int8Arithmetic.Factor(multipliers[j], shift) - factors[j]) / factors[j];
            Assert.True(relative < 1e-4, $"channel {j}: {relative}");
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Arithmetic.Multipliers([1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Arithmetic.Multipliers([double.NaN]));
    }

    [Theory]
    [InlineData(0, 1, -128)]
    [InlineData(-1, 0, 127)]
    [InlineData(-1, 3, -64)]
    [InlineData(-0.2, 5, -118)]
    public void Ranges_map_to_scales_and_zero_points_that_represent_zero_exactly(double low, double high, int zeroPoint)
    {
        QuantizationParameters q = Calibration.Affine(low, high);
        Assert.Equal(zeroPoint, q.ZeroPoint);
        Assert.Equal(0f, q.Dequantize(q.ZeroPoint));
        Assert.Equal((high - low) / 255, q.Scale, 1e-6);
    }
}
