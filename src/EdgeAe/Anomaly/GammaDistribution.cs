namespace EdgeAe.Anomaly;

/// <summary>
/// The gamma distribution with shape k and scale θ (location 0): the maximum-likelihood fit the DCASE baseline
/// uses to turn normal scores into a threshold, and its quantile function.
/// </summary>
/// <remarks>
/// The estimator is the two-parameter maximum-likelihood fit with the location fixed at 0 — what
/// <c>scipy.stats.gamma.fit(scores, floc=0)</c> returns: k solves ln k − ψ(k) = ln(mean) − mean(ln x) (Newton's
/// method from Minka's closed-form start, to 1e-12 relative), θ = mean / k. The DCASE baseline calls
/// <c>scipy.stats.gamma.fit(scores)</c> with the location free, a three-parameter numerical optimisation whose result
/// depends on scipy's optimiser; anomaly scores are non-negative, so EdgeAe fixes the location at 0 (docs/anomaly.md).
/// </remarks>
public sealed class GammaDistribution
{
    /// <summary>Creates the distribution; both parameters must be positive and finite.</summary>
    public GammaDistribution(double shape, double scale)
    {
        if (!(shape > 0) || !double.IsFinite(shape))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "The shape must be a positive finite number.");
        }

        if (!(scale > 0) || !double.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be a positive finite number.");
        }

        Shape = shape;
        Scale = scale;
    }

    /// <summary>Shape k.</summary>
    public double Shape { get; }

    /// <summary>Scale θ (mean = k·θ).</summary>
    public double Scale { get; }

    /// <summary>Maximum-likelihood fit with location 0 (see the remarks).</summary>
    /// <exception cref="AnomalyException">Fewer than two values, a value ≤ 0 or not finite, or all values equal.</exception>
    public static GammaDistribution Fit(ReadOnlySpan<double> values)
    {
        if (values.Length < 2)
        {
            throw new AnomalyException($"A gamma fit needs at least 2 values, not {values.Length}.");
        }

        double sum = 0, sumLog = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double x = values[i];
            if (!(x > 0) || !double.IsFinite(x))
            {
                throw new AnomalyException($"A gamma fit needs positive finite values, but value {i + 1} is {x.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
            }

            sum += x;
            sumLog += Math.Log(x);
        }

        double mean = sum / values.Length;
        double s = Math.Log(mean) - sumLog / values.Length;
        if (!(s > 1e-14))
        {
            throw new AnomalyException("A gamma fit needs values that are not all equal (their spread is zero).");
        }

        double k = (3 - s + Math.Sqrt(((s - 3) * (s - 3)) + (24 * s))) / (12 * s);
        for (int iteration = 0; iteration < 100; iteration++)
        {
            double f = Math.Log(k) - Digamma(k) - s;
            double derivative = (1 / k) - Trigamma(k);
            double next = k - (f / derivative);
            if (!(next > 0))
            {
                next = k / 2;
            }

            bool done = Math.Abs(next - k) <= 1e-12 * k;
            k = next;
            if (done)
            {
                break;
            }
        }

        return new GammaDistribution(k, mean / k);
    }

    /// <summary>P(X ≤ x).</summary>
    public double Cdf(double x) => x <= 0 ? 0 : RegularizedLowerGamma(Shape, x / Scale);

    /// <summary>The q-quantile (scipy's <c>gamma.ppf(q, k, scale=θ)</c>) for 0 &lt; q &lt; 1.</summary>
    public double Quantile(double q)
    {
        if (!(q > 0 && q < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "The quantile level must be between 0 and 1, exclusive.");
        }

        double a = Shape;

        // Start from the Wilson–Hilferty approximation, then Newton steps kept inside a bisection bracket.
        double z = NormalQuantile(q);
        double c = 1 / (9 * a);
        double x = a * Math.Pow(Math.Max(1 - c + (z * Math.Sqrt(c)), 1e-3), 3);
        if (!(x > 0) || !double.IsFinite(x))
        {
            x = a;
        }

        double low = 0, high = double.PositiveInfinity;
        for (int iteration = 0; iteration < 200; iteration++)
        {
            double p = RegularizedLowerGamma(a, x);
            if (p < q)
            {
                low = x;
            }
            else
            {
                high = x;
            }

            double density = Math.Exp(((a - 1) * Math.Log(x)) - x - LogGamma(a));
            double next = density > 0 ? x - ((p - q) / density) : double.NaN;
            if (!(next > low && next < high) || !double.IsFinite(next))
            {
                next = double.IsPositiveInfinity(high) ? Math.Max(2 * x, 1) : (low + high) / 2;
            }

            if (Math.Abs(next - x) <= 1e-14 * Math.Max(x, 1e-300))
            {
                x = next;
                break;
            }

            x = next;
        }

        return x * Scale;
    }

    /// <summary>ψ(x), the digamma function, for x &gt; 0 (recurrence to x ≥ 12, then the asymptotic series).</summary>
    public static double Digamma(double x)
    {
        double result = 0;
        while (x < 12)
        {
            result -= 1 / x;
            x += 1;
        }

        double f = 1 / (x * x);
        return result + Math.Log(x) - (0.5 / x)
            - (f * ((1.0 / 12) - (f * ((1.0 / 120) - (f * ((1.0 / 252) - (f * ((1.0 / 240) - (f * (1.0 / 132))))))))));
    }

    /// <summary>ψ′(x), the trigamma function, for x &gt; 0.</summary>
    public static double Trigamma(double x)
    {
        double result = 0;
        while (x < 12)
        {
            result += 1 / (x * x);
            x += 1;
        }

        double f = 1 / (x * x);
        return result + (1 / x) + (f / 2)
            + ((f / x) * ((1.0 / 6) - (f * ((1.0 / 30) - (f * ((1.0 / 42) - (f * (1.0 / 30))))))));
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, 9 terms; about 15 significant digits).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        }

        x -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        double t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    /// <summary>P(a, x) = γ(a, x) / Γ(a): the series below a + 1, Lentz's continued fraction above.</summary>
    public static double RegularizedLowerGamma(double a, double x)
    {
        if (x <= 0)
        {
            return 0;
        }

        double logPrefix = (a * Math.Log(x)) - x - LogGamma(a);
        if (x < a + 1)
        {
            double term = 1 / a, sum = term;
            for (int n = 1; n < 10000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-16)
                {
                    break;
                }
            }

            return Math.Min(1, sum * Math.Exp(logPrefix));
        }

        const double Tiny = 1e-300;
        double b = x + 1 - a, c = 1 / Tiny, d = 1 / b, h = d;
        for (int n = 1; n < 10000; n++)
        {
            double an = -n * (n - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return Math.Max(0, 1 - (Math.Exp(logPrefix) * h));
    }

    /// <summary>The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9): a starting point only.</summary>
    private static double NormalQuantile(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double Low = 0.02425;
        if (p < Low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((((((c[0] * q) + c[1]) * q) + c[2]) * q) + c[3]) * q) + c[4]) * q + c[5]) / ((((((((d[0] * q) + d[1]) * q) + d[2]) * q) + d[3]) * q) + 1);
        }

        if (p > 1 - Low)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((((((c[0] * q) + c[1]) * q) + c[2]) * q) + c[3]) * q) + c[4]) * q + c[5]) / ((((((((d[0] * q) + d[1]) * q) + d[2]) * q) + d[3]) * q) + 1);
        }

        double u = p - 0.5, r = u * u;
        return (((((((((a[0] * r) + a[1]) * r) + a[2]) * r) + a[3]) * r) + a[4]) * r + a[5]) * u / ((((((((((b[0] * r) + b[1]) * r) + b[2]) * r) + b[3]) * r) + b[4]) * r) + 1);
    }

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];
}
