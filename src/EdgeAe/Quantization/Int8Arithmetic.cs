using System.Runtime.CompilerServices;

namespace EdgeAe.Quantization;

/// <summary>
/// The integer arithmetic of int8 models, one operation at a time: the specification (docs/quantization.md) in code.
/// Every kernel — the SIMD rungs, ARM64 and the firmware flavour — computes exactly these numbers.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A real value r is stored as an integer q with r = scale·(q − zeroPoint).</item>
/// <item>Float to integer (<see cref="Quantize"/>): q = clamp(roundHalfEven(x·(1/scale)) + zeroPoint), where 1/scale is a
/// float32 division done once, the product one float32 multiplication, and NaN counts as 0.</item>
/// <item>Integer to float (<see cref="Dequantize"/>): scale·(q − zeroPoint), one float32 multiplication of an exact value.</item>
/// <item>A dense layer accumulates acc = B + Σᵢ q_x[i]·q_w[i, j] in int32, B = b − zp_x·Σᵢ q_w[i, j] (folded ahead of time).</item>
/// <item>Requantisation (<see cref="Requantize"/>): zp + ⌊(acc·M + 2ⁿ⁻¹) / 2ⁿ⌋, clamped: a Q31 multiplier M per output
/// channel, one right shift n (31..62) per layer, rounding half up (towards +∞).</item>
/// </list>
/// </remarks>
public static class Int8Arithmetic
{
    /// <summary>Smallest int8 code.</summary>
    public const int Int8Min = sbyte.MinValue;

    /// <summary>Largest int8 code.</summary>
    public const int Int8Max = sbyte.MaxValue;

    /// <summary>Largest magnitude of a weight code (weights are symmetric: −127..127).</summary>
    public const int WeightMax = 127;

    /// <summary>The right shift's smallest value: a real multiplier is below 1.</summary>
    public const int MinShift = IO.Format.WeightFileFormat.Int8MinShift;

    /// <summary>The right shift's largest value: the product acc·M + 2ⁿ⁻¹ stays within 63 bits.</summary>
    public const int MaxShift = IO.Format.WeightFileFormat.Int8MaxShift;

    /// <summary>Largest input width of an int8 layer; with |B| ≤ 2²⁹ every accumulator stays below 2³⁰.</summary>
    public const int MaxInputs = IO.Format.WeightFileFormat.Int8MaxInputs;

    /// <summary>Largest magnitude of a bias.</summary>
    public const int MaxBias = IO.Format.WeightFileFormat.Int8MaxBias;

    /// <summary>
    /// The integer code of <paramref name="x"/>: clamp(roundHalfEven(x·<paramref name="inverseScale"/>) + zp, min, max),
    /// NaN as 0. <paramref name="inverseScale"/> is 1f / scale (<see cref="Inverse"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Quantize(float x, float inverseScale, int zeroPoint, int min = Int8Min, int max = Int8Max)
    {
        float t = x * inverseScale;
        t = float.IsNaN(t) ? 0f : Math.Clamp(t, -65536f, 65536f);
        return Math.Clamp((int)MathF.Round(t, MidpointRounding.ToEven) + zeroPoint, min, max);
    }

    /// <summary>1 / <paramref name="scale"/> in float32: the factor <see cref="Quantize"/> multiplies by.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Inverse(float scale) => 1f / scale;

    /// <summary>The real value of a code: scale·(q − zp), in float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dequantize(int q, float scale, int zeroPoint) => scale * (q - zeroPoint);

    /// <summary>
    /// zp + ⌊(acc·M + 2ⁿ⁻¹) / 2ⁿ⌋ clamped to [<paramref name="min"/>, <paramref name="max"/>]: the Q31 multiplier
    /// <paramref name="multiplier"/> (0 ≤ M &lt; 2³¹) and the right shift <paramref name="shift"/> (31..62) scale an int32
    /// accumulator to the output's scale, rounding half up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, int multiplier, int shift, int zeroPoint, int min, int max)
    {
        long scaled = (((long)acc * multiplier) + (1L << (shift - 1))) >> shift;
        return (int)Math.Clamp(scaled + zeroPoint, min, max);
    }

    /// <summary>
    /// The multipliers and the one shift that represent the real factors <paramref name="factors"/> (each in [0, 1)): the
    /// largest n ≤ 62 for which every M = round(f·2ⁿ) is below 2³¹. A factor below 2⁻⁶² gets M = 0 (its channel's output
    /// is the zero point: its accumulator is too small to move it).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor is negative, not finite, or not below 1.</exception>
    public static (int[] Multipliers, int Shift) Multipliers(ReadOnlySpan<double> factors)
    {
        double largest = 0;
        foreach (double f in factors)
        {
            if (!(f >= 0 && f < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(factors), f, "A requantisation factor must be in [0, 1).");
            }

            largest = Math.Max(largest, f);
        }

        int shift = MaxShift;
        while (shift > MinShift && Math.Round(largest * Math.Pow(2, shift), MidpointRounding.AwayFromZero) >= 2147483648.0)
        {
            shift--;
        }

        var multipliers = new int[factors.Length];
        for (int j = 0; j < factors.Length; j++)
        {
            multipliers[j] = (int)Math.Min(int.MaxValue, Math.Round(factors[j] * Math.Pow(2, shift), MidpointRounding.AwayFromZero));
        }

        return (multipliers, shift);
    }

    /// <summary>The real factor a multiplier and shift represent: M / 2ⁿ.</summary>
    public static double Factor(int multiplier, int shift) => multiplier / Math.Pow(2, shift);

    /// <summary>
    /// The folded bias of output <paramref name="output"/>: B = b − zp_x·Σᵢ W[i, j] (W input-major, <paramref name="width"/>
    /// outputs per row).
    /// </summary>
    public static int FoldBias(int bias, int inputZeroPoint, ReadOnlySpan<sbyte> weights, int width, int output)
    {
        int sum = 0;
        for (int k = output; k < weights.Length; k += width)
        {
            sum += weights[k];
        }

        return bias - (inputZeroPoint * sum);
    }

    /// <summary>The smallest and largest code of <paramref name="bits"/>-bit values (8 or 16).</summary>
    public static (int Min, int Max) Range(int bits) => bits == 16 ? (short.MinValue, short.MaxValue) : (Int8Min, Int8Max);
}
