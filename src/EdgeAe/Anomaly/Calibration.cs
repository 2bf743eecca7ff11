using System.Globalization;

namespace EdgeAe.Anomaly;

/// <summary>How a threshold was chosen (stored in the weight file's <c>anom</c> section as this code).</summary>
public enum CalibrationKind
{
    /// <summary>Set directly by the user.</summary>
    Manual = 0,

    /// <summary>The P-th percentile of normal scores (linear interpolation between order statistics, numpy's default).</summary>
    Percentile = 1,

    /// <summary>Mean + K · standard deviation of normal scores (sample standard deviation, n − 1).</summary>
    MeanStd = 2,

    /// <summary>The Q-quantile of a gamma distribution fitted to normal scores (the DCASE baseline's method).</summary>
    Gamma = 3,

    /// <summary>The lowest threshold whose false-alarm rate on labelled data is at most R.</summary>
    FalseAlarmRate = 4,
}

/// <summary>A calibration method and its parameter, as written on the command line: <c>percentile:99.5</c>, <c>meanstd:3</c>, <c>gamma:0.9</c>, <c>fpr:0.01</c>.</summary>
/// <param name="Kind">The method.</param>
/// <param name="Parameter">P (0–100, exclusive), K (finite), Q (0–1, exclusive) or R (0–1, exclusive); the threshold itself for <see cref="CalibrationKind.Manual"/>.</param>
public sealed record CalibrationMethod(CalibrationKind Kind, double Parameter)
{
    /// <summary>Parses <c>percentile:P</c>, <c>meanstd:K</c>, <c>gamma:Q</c> or <c>fpr:R</c>.</summary>
    /// <exception cref="ArgumentException">The text is not one of these forms or the parameter is out of range (the message says which).</exception>
    public static CalibrationMethod Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string name = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        string value = colon < 0 ? string.Empty : text[(colon + 1)..].Trim();
        CalibrationKind kind = name switch
        {
            "percentile" => CalibrationKind.Percentile,
            "meanstd" => CalibrationKind.MeanStd,
            "gamma" => CalibrationKind.Gamma,
            "fpr" => CalibrationKind.FalseAlarmRate,
            _ => throw new ArgumentException($"unknown calibration method '{text}' (expected percentile:P, meanstd:K, gamma:Q or fpr:R)", nameof(text)),
        };
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parameter) || !double.IsFinite(parameter))
        {
            throw new ArgumentException($"'{text}' needs a number after '{name}:'", nameof(text));
        }

        var method = new CalibrationMethod(kind, parameter);
        method.Validate();
        return method;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the parameter is out of the method's range.</summary>
    internal void Validate()
    {
        string? problem = Kind switch
        {
            CalibrationKind.Percentile when !(Parameter > 0 && Parameter < 100) => "a percentile between 0 and 100, exclusive",
            CalibrationKind.Gamma when !(Parameter > 0 && Parameter < 1) => "a quantile level between 0 and 1, exclusive",
            CalibrationKind.FalseAlarmRate when !(Parameter >= 0 && Parameter < 1) => "a false-alarm rate from 0 (inclusive) to 1 (exclusive)",
            _ when !double.IsFinite(Parameter) => "a finite number",
            _ => null,
        };
        if (problem is not null)
        {
            throw new ArgumentException($"{this} needs {problem}", "text");
        }
    }

    /// <summary>Fewest normal scores the method accepts: percentile P needs ⌈100 / (100 − P)⌉ (at least one score expected above it), mean + K·σ two, the gamma fit ten.</summary>
    public int MinimumSamples => Kind switch
    {
        CalibrationKind.Percentile => (int)Math.Ceiling(Math.Round(100 / (100 - Parameter), 9)),
        CalibrationKind.MeanStd => 2,
        CalibrationKind.Gamma => 10,
        _ => 1,
    };

    /// <summary>The method as written on the command line, e.g. <c>percentile:99.5</c>.</summary>
    public override string ToString() => Kind switch
    {
        CalibrationKind.Percentile => "percentile:",
        CalibrationKind.MeanStd => "meanstd:",
        CalibrationKind.Gamma => "gamma:",
        CalibrationKind.FalseAlarmRate => "fpr:",
        _ => "manual:",
    } + Parameter.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// A decision threshold: a sample is anomalous when its score is strictly greater. Stored in the weight file's
/// <c>anom</c> section (docs/weight-file-format.md) and baked into generated code as <c>AnomalyThreshold</c>.
/// </summary>
/// <param name="Threshold">The score above which a sample is anomalous (finite).</param>
/// <param name="Method">How it was chosen.</param>
/// <param name="SampleCount">How many scores it was calibrated on (0 for a manual threshold).</param>
public sealed record AnomalyThreshold(float Threshold, CalibrationMethod Method, int SampleCount)
{
    /// <summary>True when <paramref name="score"/> is above the threshold (NaN is never anomalous: it is a broken input, not a score).</summary>
    public bool IsAnomaly(float score) => score > Threshold;
}

/// <summary>Chooses a threshold from anomaly scores (docs/anomaly.md).</summary>
public static class Calibration
{
    /// <summary>
    /// A threshold from scores of normal (validation) data by <paramref name="method"/> (percentile, mean + K·σ or gamma).
    /// </summary>
    /// <exception cref="AnomalyException">Fewer scores than the method needs, a non-finite score, constant scores, or a gamma fit on non-positive scores.</exception>
    public static AnomalyThreshold FromNormalScores(ReadOnlySpan<float> scores, CalibrationMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        method.Validate();
        if (method.Kind is CalibrationKind.FalseAlarmRate or CalibrationKind.Manual)
        {
            throw new ArgumentException($"{method} does not calibrate from normal scores alone.", nameof(method));
        }

        if (scores.Length < method.MinimumSamples)
        {
            throw new AnomalyException($"{method} needs at least {method.MinimumSamples} normal scores, but {scores.Length} were given.");
        }

        double[] values = ToSortedDoubles(scores);
        if (values[0] == values[^1])
        {
            throw new AnomalyException($"All {scores.Length} normal scores are {values[0].ToString("R", CultureInfo.InvariantCulture)}: constant scores cannot place a threshold.");
        }

        double threshold = method.Kind switch
        {
            CalibrationKind.Percentile => Percentile(values, method.Parameter),
            CalibrationKind.MeanStd => MeanPlusStd(values, method.Parameter),
            _ => GammaDistribution.Fit(values).Quantile(method.Parameter),
        };
        return new AnomalyThreshold(ToFloat(threshold, method), method, scores.Length);
    }

    /// <summary>
    /// The lowest threshold whose false-alarm rate on the normal samples (label 0) is at most <paramref name="rate"/>:
    /// with n normal scores, at most ⌊rate · n⌋ of them lie strictly above it. It is a normal score itself.
    /// </summary>
    /// <exception cref="AnomalyException">Labels of another length or not 0/1, no normal sample, or a non-finite score.</exception>
    public static AnomalyThreshold FromFalseAlarmRate(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, double rate)
    {
        var method = new CalibrationMethod(CalibrationKind.FalseAlarmRate, rate);
        method.Validate();
        DetectionMetrics.CheckLabels(scores, labels);
        var normal = new List<double>();
        for (int i = 0; i < scores.Length; i++)
        {
            if (labels[i] == 0)
            {
                normal.Add(scores[i]);
            }
        }

        if (normal.Count == 0)
        {
            throw new AnomalyException("No sample is labelled 0 (normal): a false-alarm rate needs normal samples.");
        }

        normal.Sort();
        int allowed = (int)Math.Floor((rate * normal.Count) + 1e-9);
        double threshold = normal[normal.Count - 1 - Math.Min(allowed, normal.Count - 1)];
        return new AnomalyThreshold(ToFloat(threshold, method), method, normal.Count);
    }

    /// <summary>The p-th percentile (0 &lt; p &lt; 100) of sorted values, interpolated linearly between order statistics (numpy's default).</summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.Length == 0)
        {
            throw new AnomalyException("A percentile of no values is undefined.");
        }

        double h = (sorted.Length - 1) * p / 100;
        int below = (int)Math.Floor(h);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + ((h - below) * (sorted[above] - sorted[below]));
    }

    private static double MeanPlusStd(double[] values, double k)
    {
        double mean = 0;
        foreach (double v in values)
        {
            mean += v;
        }

        mean /= values.Length;
        double squares = 0;
        foreach (double v in values)
        {
            squares += (v - mean) * (v - mean);
        }

        return mean + (k * Math.Sqrt(squares / (values.Length - 1)));
    }

    private static double[] ToSortedDoubles(ReadOnlySpan<float> scores)
    {
        var values = new double[scores.Length];
        for (int i = 0; i < scores.Length; i++)
        {
            if (!float.IsFinite(scores[i]))
            {
                throw new AnomalyException($"Score {i + 1} is {scores[i].ToString(CultureInfo.InvariantCulture)}; every score must be finite.");
            }

            values[i] = scores[i];
        }

        Array.Sort(values);
        return values;
    }

    private static float ToFloat(double threshold, CalibrationMethod method)
    {
        var value = (float)threshold;
        if (!float.IsFinite(value))
        {
            throw new AnomalyException($"{method} gives a threshold of {threshold.ToString("R", CultureInfo.InvariantCulture)}, which is not a finite float.");
        }

        return value;
    }
}
