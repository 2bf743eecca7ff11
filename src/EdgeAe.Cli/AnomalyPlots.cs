using EdgeAe.Anomaly;
using ScottPlot;

namespace EdgeAe.Cli;

/// <summary>The PNGs <c>eval --labels</c> writes: the ROC curve and the score histograms of both classes with the threshold.</summary>
internal static class AnomalyPlots
{
    public const string RocFile = "roc.png";
    public const string ScoresFile = "scores.png";
    public const int Width = 800;
    public const int Height = 600;

    /// <summary>Bins of each class's histogram.</summary>
    public const int Bins = 50;

    /// <summary>The ROC curve with its AUC, the chance diagonal and the FPR bound of the partial AUC; written atomically.</summary>
    public static void Roc(string path, RocPoint[] curve, double auc, double partialAuc, double maxFalsePositiveRate)
    {
        var plot = new Plot();
        var chance = plot.Add.Scatter(new double[] { 0, 1 }, new double[] { 0, 1 });
        chance.MarkerSize = 0;
        chance.LinePattern = LinePattern.Dotted;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance";
        var roc = plot.Add.Scatter(curve.Select(p => p.FalsePositiveRate).ToArray(), curve.Select(p => p.TruePositiveRate).ToArray());
        roc.MarkerSize = 0;
        roc.LineWidth = 2;
        roc.LegendText = FormattableString.Invariant($"ROC (AUC {auc:F4}, pAUC@FPR≤{maxFalsePositiveRate:0.##} {partialAuc:F4})");
        var bound = plot.Add.VerticalLine(maxFalsePositiveRate);
        bound.LinePattern = LinePattern.Dashed;
        bound.Color = Colors.Orange;
        bound.LegendText = FormattableString.Invariant($"FPR = {maxFalsePositiveRate:0.##}");
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.Title("ROC curve");
        plot.XLabel("false-positive rate (normal samples flagged)");
        plot.YLabel("true-positive rate (anomalies flagged)");
        plot.ShowLegend(Alignment.LowerRight);
        Files.OutputFile.WritePng(path, plot, Width, Height);
    }

    /// <summary>Histograms (fraction of each class per bin) of normal and anomalous scores, the threshold drawn when known; written atomically.</summary>
    public static void Scores(string path, ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, float? threshold, string scoreName)
    {
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        foreach (float s in scores)
        {
            low = Math.Min(low, s);
            high = Math.Max(high, s);
        }

        if (threshold is { } t)
        {
            low = Math.Min(low, t);
            high = Math.Max(high, t);
        }

        if (!(high > low))
        {
            high = low + 1;
        }

        double width = (high - low) / Bins;
        var plot = new Plot();
        foreach ((int label, string name) in new[] { (0, "normal"), (1, "anomalous") })
        {
            var counts = new double[Bins];
            int total = 0;
            for (int i = 0; i < scores.Length; i++)
            {
                if (labels[i] == label)
                {
                    counts[Math.Min(Bins - 1, (int)((scores[i] - low) / width))]++;
                    total++;
                }
            }

            // A step outline of the histogram: up, across and down each bin.
            var xs = new List<double> { low };
            var ys = new List<double> { 0 };
            for (int b = 0; b < Bins; b++)
            {
                double fraction = total == 0 ? 0 : counts[b] / total;
                xs.Add(low + (b * width));
                ys.Add(fraction);
                xs.Add(low + ((b + 1) * width));
                ys.Add(fraction);
            }

            xs.Add(high);
            ys.Add(0);
            var outline = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            outline.MarkerSize = 0;
            outline.LineWidth = 2;
            outline.LegendText = $"{name} ({total})";
        }

        if (threshold is { } value)
        {
            var line = plot.Add.VerticalLine(value);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Red;
            line.LegendText = FormattableString.Invariant($"threshold {value:G6}");
        }

        plot.Title("Anomaly scores by class");
        plot.XLabel(scoreName);
        plot.YLabel("fraction of the class");
        plot.ShowLegend(Alignment.UpperRight);
        Files.OutputFile.WritePng(path, plot, Width, Height);
    }
}
