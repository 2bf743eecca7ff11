using EdgeAe.Anomaly;

namespace EdgeAe.Tests.Anomaly;

/// <summary>Calibration methods against values computed by hand or tabulated, and their bad inputs.</summary>
public sealed class CalibrationTests
{
    [Fact]
    public void Parse_reads_every_method_and_rejects_bad_parameters()
    {
        Assert.Equal(new CalibrationMethod(CalibrationKind.Percentile, 99.5), CalibrationMethod.Parse("percentile:99.5"));
        Assert.Equal(new CalibrationMethod(CalibrationKind.MeanStd, 3), CalibrationMethod.Parse("meanstd:3"));
        Assert.Equal(new CalibrationMethod(CalibrationKind.Gamma, 0.9), CalibrationMethod.Parse("gamma:0.9"));
        Assert.Equal(new CalibrationMethod(CalibrationKind.FalseAlarmRate, 0.01), CalibrationMethod.Parse("fpr:0.01"));
        Assert.Equal("percentile:99.5", CalibrationMethod.Parse("percentile:99.5").ToString());
        Assert.Throws<ArgumentException>(() => CalibrationMethod.Parse("percentile:100"));
        Assert.Throws<ArgumentException>(() => CalibrationMethod.Parse("gamma:1.5"));
        Assert.Throws<ArgumentException>(() => CalibrationMethod.Parse("median:3"));
        Assert.Throws<ArgumentException>(() => CalibrationMethod.Parse("meanstd:"));
    }

    [Fact]
    public void Percentile_interpolates_like_numpy()
    {
        float[] scores = Enumerable.Range(1, 10).Select(i => (float)i).ToArray();

        // numpy.percentile(1..10, 90): h = 9·0.9 = 8.1 → 9 + 0.1·(10 − 9) = 9.1.
        AnomalyThreshold t = Calibration.FromNormalScores(scores, CalibrationMethod.Parse("percentile:90"));
        Assert.Equal(9.1f, t.Threshold);
        Assert.Equal(10, t.SampleCount);
        Assert.Equal(5.5f, Calibration.FromNormalScores(scores, CalibrationMethod.Parse("percentile:50")).Threshold);
    }

    [Fact]
    public void Mean_plus_k_sample_deviations()
    {
        float[] scores = [2, 4, 4, 4, 5, 5, 7, 9];

        // Mean 5, sample variance 32/7.
        Assert.Equal((float)(5 + (3 * Math.Sqrt(32.0 / 7))), Calibration.FromNormalScores(scores, CalibrationMethod.Parse("meanstd:3")).Threshold);
    }

    [Fact]
    public void Special_functions_match_known_values()
    {
        const double EulerGamma = 0.57721566490153286;
        Assert.Equal(-EulerGamma, GammaDistribution.Digamma(1), 13);
        Assert.Equal(-EulerGamma - (2 * Math.Log(2)), GammaDistribution.Digamma(0.5), 13);
        Assert.Equal(2.251752589066721, GammaDistribution.Digamma(10), 13);
        Assert.Equal(Math.PI * Math.PI / 6, GammaDistribution.Trigamma(1), 12);
        Assert.Equal(Math.PI * Math.PI / 2, GammaDistribution.Trigamma(0.5), 12);
        Assert.Equal(0.5 * Math.Log(Math.PI), GammaDistribution.LogGamma(0.5), 13);
        Assert.Equal(Math.Log(362880), GammaDistribution.LogGamma(10), 12);
        Assert.Equal(1 - Math.Exp(-2), GammaDistribution.RegularizedLowerGamma(1, 2), 14);
    }

    [Theory]
    [InlineData(0.5, 2.0, 0.95, 3.841458820694124)] // χ² with 1 degree of freedom, 95 %
    [InlineData(1.0, 2.0, 0.95, 5.991464547107979)] // χ²(2): −2 ln 0.05
    [InlineData(5.0, 2.0, 0.99, 23.209251158954356)] // χ²(10), 99 %
    [InlineData(1.0, 3.0, 0.9, 6.907755278982137)] // exponential, mean 3: −3 ln 0.1
    [InlineData(2.0, 1.0, 0.5, 1.6783469900166608)] // Gamma(2) median
    public void Gamma_quantiles_match_tables(double shape, double scale, double q, double expected)
        => Assert.Equal(expected, new GammaDistribution(shape, scale).Quantile(q), 9);

    [Fact]
    public void Gamma_fit_is_the_maximum_likelihood_with_location_zero()
    {
        double[] values = [0.8, 1.3, 2.1, 2.2, 3.9, 4.4, 5.0, 7.5, 1.1, 0.6];
        GammaDistribution fit = GammaDistribution.Fit(values);
        double mean = values.Average();
        Assert.Equal(mean, fit.Shape * fit.Scale, 12);

        // The log-likelihood (with θ = mean / k, its maximiser for each k) is highest at the fitted k.
        double LogLikelihood(double k) => values.Sum(x => ((k - 1) * Math.Log(x)) - (x * k / mean) - GammaDistribution.LogGamma(k) - (k * Math.Log(mean / k)));
        double best = LogLikelihood(fit.Shape);
        Assert.True(best > LogLikelihood(fit.Shape * 1.001));
        Assert.True(best > LogLikelihood(fit.Shape * 0.999));

        // And ln k − ψ(k) = ln(mean) − mean(ln x), the estimator's equation.
        double s = Math.Log(mean) - values.Average(Math.Log);
        Assert.Equal(s, Math.Log(fit.Shape) - GammaDistribution.Digamma(fit.Shape), 12);
    }

    [Fact]
    public void Gamma_fit_recovers_the_parameters_of_a_large_sample()
    {
        // Gamma(k = 2, θ = 3) as the sum of two exponentials of mean 3.
        var random = new Random(9);
        double[] values = Enumerable.Range(0, 40000).Select(_ => -3 * (Math.Log(1 - random.NextDouble()) + Math.Log(1 - random.NextDouble()))).ToArray();
        GammaDistribution fit = GammaDistribution.Fit(values);
        Assert.InRange(fit.Shape, 1.95, 2.05);
        Assert.InRange(fit.Scale, 2.9, 3.1);
        float[] scores = values.Select(v => (float)v).ToArray();
        AnomalyThreshold t = Calibration.FromNormalScores(scores, CalibrationMethod.Parse("gamma:0.9"));
        Assert.Equal((float)fit.Quantile(0.9), t.Threshold);
    }

    [Fact]
    public void False_alarm_rate_picks_the_lowest_threshold_within_the_rate()
    {
        float[] scores = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30];
        int[] labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1];

        // 10 normal scores, rate 0.2: at most 2 above → threshold 8 (9 and 10 are the false alarms).
        AnomalyThreshold t = Calibration.FromFalseAlarmRate(scores, labels, 0.2);
        Assert.Equal(8f, t.Threshold);
        Assert.Equal(0.2, DetectionMetrics.At(scores, labels, t.Threshold).FalsePositiveRate);
        Assert.Equal(10f, Calibration.FromFalseAlarmRate(scores, labels, 0).Threshold);
    }

    [Fact]
    public void Too_few_constant_or_non_positive_scores_are_clear_errors()
    {
        var percentile = CalibrationMethod.Parse("percentile:99.5");
        float[] few = Enumerable.Range(0, 199).Select(i => (float)i).ToArray();
        Assert.Contains("at least 200", Assert.Throws<AnomalyException>(() => Calibration.FromNormalScores(few, percentile)).Message);
        Assert.NotNull(Calibration.FromNormalScores(Enumerable.Range(0, 200).Select(i => (float)i).ToArray(), percentile));
        Assert.Contains("at least 2", Assert.Throws<AnomalyException>(() => Calibration.FromNormalScores([1f], CalibrationMethod.Parse("meanstd:3"))).Message);
        float[] constant = Enumerable.Repeat(0.25f, 50).ToArray();
        Assert.Contains("constant", Assert.Throws<AnomalyException>(() => Calibration.FromNormalScores(constant, CalibrationMethod.Parse("meanstd:3"))).Message);
        float[] withZero = Enumerable.Range(0, 20).Select(i => (float)i).ToArray();
        Assert.Contains("positive", Assert.Throws<AnomalyException>(() => Calibration.FromNormalScores(withZero, CalibrationMethod.Parse("gamma:0.9"))).Message);
        Assert.Contains("row 2", Assert.Throws<AnomalyException>(() => Calibration.FromFalseAlarmRate([1f, 2f], [0, 3], 0.1)).Message);
    }
}
