namespace EdgeAe.Quantization;

/// <summary>How the quantiser picks the real interval an activation's 256 codes cover.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen on the calibration data: nothing saturates, outliers cost resolution.</summary>
    MinMax = 0,

    /// <summary>The two-sided percentile (<see cref="QuantizationOptions.Percentile"/>): the rarest outliers saturate.</summary>
    Percentile = 1,

    /// <summary>
    /// The interval whose quantisation error (rounding inside, saturation outside) over the calibration values is
    /// smallest, searched over clipping points between the extremes and the 99th percentiles.
    /// </summary>
    Mse = 2,
}

/// <summary>Range choice and the affine parameters that follow from a range (docs/quantization.md, "Calibration").</summary>
internal static class Calibration
{
    /// <summary>Values kept per tensor for the range search (a fixed stride through all values, so it is deterministic).</summary>
    public const int MaxValues = 262_144;

    /// <summary>
    /// The interval [low, high] for <paramref name="values"/> by <paramref name="method"/>; it always contains 0 (the
    /// zero point is a code).
    /// </summary>
    public static (double Low, double High) Range(ReadOnlySpan<float> values, CalibrationMethod method, double percentile)
    {
        float[] sample = Sample(values);
        Array.Sort(sample);
        if (sample.Length == 0)
        {
            return (0, 0);
        }

        double low, high;
        switch (method)
        {
            case CalibrationMethod.MinMax:
                (low, high) = (sample[0], sample[^1]);
                break;
            case CalibrationMethod.Percentile:
                double tail = (100 - percentile) / 100;
                (low, high) = (Quantile(sample, tail), Quantile(sample, 1 - tail));
                break;
            default:
                (low, high) = MseRange(sample);
                break;
        }

        return (Math.Min(low, 0), Math.Max(high, 0));
    }

    /// <summary>
    /// Scale and zero point (int8) of the interval [<paramref name="low"/>, <paramref name="high"/>] (containing 0): scale =
    /// (high − low)/255, zero point = round(−128 − low/scale); a degenerate interval gets a tiny positive scale.
    /// </summary>
    public static QuantizationParameters Affine(double low, double high)
    {
        double scale = (high - low) / 255;
        double floor = 1e-8 * Math.Max(1, Math.Max(Math.Abs(low), Math.Abs(high)));
        if (!(scale > floor))
        {
            scale = floor;
        }

        float s = (float)scale;
        int zeroPoint = (int)Math.Clamp(Math.Round(-128 - (low / s), MidpointRounding.ToEven), -128, 127);
        return new QuantizationParameters(s, zeroPoint);
    }

    /// <summary>Mean squared error of quantising the sorted <paramref name="sample"/> over [low, high].</summary>
    public static double Error(ReadOnlySpan<float> sample, double low, double high)
    {
        QuantizationParameters q = Affine(Math.Min(low, 0), Math.Max(high, 0));
        float inverse = Int8Arithmetic.Inverse(q.Scale);
        double sum = 0;
        foreach (float v in sample)
        {
            double d = Int8Arithmetic.Dequantize(Int8Arithmetic.Quantize(v, inverse, q.ZeroPoint), q.Scale, q.ZeroPoint) - (double)v;
            sum += d * d;
        }

        return sum / Math.Max(1, sample.Length);
    }

    private static (double Low, double High) MseRange(float[] sorted)
    {
        // Candidate clipping points on each side: the extreme, then quantiles further in (a handful of outliers must not
        // cost every other value its resolution), then points between them.
        double[] tails = [0, 1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2];
        var lows = new List<double>();
        var highs = new List<double>();
        foreach (double t in tails)
        {
            lows.Add(Quantile(sorted, t));
            highs.Add(Quantile(sorted, 1 - t));
        }

        for (int k = 1; k < 8; k++)
        {
            lows.Add(sorted[0] * k / 8.0);
            highs.Add(sorted[^1] * k / 8.0);
        }

        float[] probe = Thin(sorted, 32_768);
        (double Low, double High) best = (sorted[0], sorted[^1]);
        double bestError = double.PositiveInfinity;
        foreach (double low in lows.Distinct())
        {
            foreach (double high in highs.Distinct())
            {
                double error = Error(probe, low, high);
                if (error < bestError)
                {
                    (bestError, best) = (error, (low, high));
                }
            }
        }

        return best;
    }

    private static double Quantile(float[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }

    private static float[] Sample(ReadOnlySpan<float> values)
    {
        int stride = Math.Max(1, (values.Length + MaxValues - 1) / MaxValues);
        var sample = new float[(values.Length + stride - 1) / stride];
        for (int i = 0, k = 0; i < values.Length; i += stride, k++)
        {
            sample[k] = values[i];
        }

        return sample;
    }

    private static float[] Thin(float[] sorted, int count)
    {
        if (sorted.Length <= count)
        {
            return sorted;
        }

        var thin = new float[count];
        for (int k = 0; k < count; k++)
        {
            thin[k] = sorted[(int)((long)k * sorted.Length / count)];
        }

        return thin;
    }
}
