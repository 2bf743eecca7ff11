using System.Globalization;

namespace EdgeAe.Anomaly;

/// <summary>One point of a ROC curve: the rates when every score at or above <paramref name="Threshold"/> is called anomalous.</summary>
public readonly record struct RocPoint(double FalsePositiveRate, double TruePositiveRate, double Threshold);

/// <summary>Counts and rates of a thresholded detector against labels (positive = anomalous = label 1).</summary>
/// <param name="TruePositives">Anomalies flagged.</param>
/// <param name="FalsePositives">Normal samples flagged (false alarms).</param>
/// <param name="TrueNegatives">Normal samples not flagged.</param>
/// <param name="FalseNegatives">Anomalies missed.</param>
public readonly record struct Confusion(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>TP / (TP + FP); 0 when nothing is flagged (scikit-learn's zero_division=0).</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : (double)TruePositives / (TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN), the detection rate; 0 without anomalies.</summary>
    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);

    /// <summary>The harmonic mean of precision and recall; 0 when both are 0.</summary>
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    /// <summary>FP / (FP + TN); 0 without normal samples.</summary>
    public double FalsePositiveRate => FalsePositives + TrueNegatives == 0 ? 0 : (double)FalsePositives / (FalsePositives + TrueNegatives);
}

/// <summary>
/// Detection quality from scores and 0/1 labels (1 = anomalous, higher score = more anomalous), computed as
/// scikit-learn does, which is what the MLPerf Tiny and DCASE evaluation scripts call: <c>roc_curve</c>,
/// <c>roc_auc_score</c> and <c>roc_auc_score(max_fpr=0.1)</c> (the McClish-standardised partial AUC).
/// </summary>
public static class DetectionMetrics
{
    /// <summary>The FPR bound MLPerf Tiny and DCASE use for the partial AUC.</summary>
    public const double DefaultMaxFalsePositiveRate = 0.1;

    /// <summary>
    /// The ROC curve: (0, 0), then one point per distinct score from the highest down (tied scores move both
    /// rates at once, a diagonal step), ending at (1, 1). Intermediate collinear points are kept.
    /// </summary>
    /// <exception cref="AnomalyException">Lengths differ, a label is not 0/1, a score is not finite, or one class is missing.</exception>
    public static RocPoint[] RocCurve(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
    {
        (int positives, int negatives) = CheckLabels(scores, labels);
        if (positives == 0 || negatives == 0)
        {
            throw new AnomalyException($"ROC needs both classes, but all {scores.Length} labels are {(positives == 0 ? 0 : 1)} ({(positives == 0 ? "normal" : "anomalous")}): the AUC is undefined with a single class.");
        }

        int[] order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        float[] keys = scores.ToArray();
        Array.Sort(keys, order);
        var points = new List<RocPoint> { new(0, 0, double.PositiveInfinity) };
        int tp = 0, fp = 0;
        for (int k = order.Length - 1; k >= 0; k--)
        {
            if (labels[order[k]] == 1)
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (k == 0 || keys[k - 1] != keys[k])
            {
                points.Add(new RocPoint((double)fp / negatives, (double)tp / positives, keys[k]));
            }
        }

        return points.ToArray();
    }

    /// <summary>The area under the ROC curve (trapezoids; ties count one half, as the Mann–Whitney U statistic).</summary>
    public static double RocAuc(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
        => Area(RocCurve(scores, labels), 1.0);

    /// <summary>
    /// scikit-learn's <c>roc_auc_score(max_fpr=m)</c>: the area under the ROC curve up to FPR = m (the curve
    /// interpolated linearly at m), standardised by McClish's correction 0.5·(1 + (A − m²/2) / (m − m²/2)), so that a
    /// random detector scores 0.5 and a perfect one 1.
    /// </summary>
    public static double PartialRocAuc(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, double maxFalsePositiveRate = DefaultMaxFalsePositiveRate)
    {
        if (!(maxFalsePositiveRate > 0 && maxFalsePositiveRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxFalsePositiveRate), maxFalsePositiveRate, "The FPR bound must be in (0, 1].");
        }

        RocPoint[] curve = RocCurve(scores, labels);
        if (maxFalsePositiveRate == 1)
        {
            return Area(curve, 1.0);
        }

        double partial = Area(curve, maxFalsePositiveRate);
        double minArea = 0.5 * maxFalsePositiveRate * maxFalsePositiveRate;
        double maxArea = maxFalsePositiveRate;
        return 0.5 * (1 + ((partial - minArea) / (maxArea - minArea)));
    }

    /// <summary>Counts at <paramref name="threshold"/>: a sample is flagged when its score is strictly greater.</summary>
    public static Confusion At(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, float threshold)
    {
        CheckLabels(scores, labels);
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            bool flagged = scores[i] > threshold;
            if (labels[i] == 1)
            {
                if (flagged)
                {
                    tp++;
                }
                else
                {
                    fn++;
                }
            }
            else if (flagged)
            {
                fp++;
            }
            else
            {
                tn++;
            }
        }

        return new Confusion(tp, fp, tn, fn);
    }

    /// <summary>Checks lengths, labels (0 or 1) and scores (finite); returns the class counts.</summary>
    internal static (int Positives, int Negatives) CheckLabels(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
    {
        if (labels.Length != scores.Length)
        {
            throw new AnomalyException($"There are {labels.Length} labels for {scores.Length} scores; each sample needs exactly one label.");
        }

        int positives = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] is not (0 or 1))
            {
                throw new AnomalyException($"Label {labels[i].ToString(CultureInfo.InvariantCulture)} at row {i + 1} is not 0 (normal) or 1 (anomalous).");
            }

            if (!float.IsFinite(scores[i]))
            {
                throw new AnomalyException($"The score at row {i + 1} is {scores[i].ToString(CultureInfo.InvariantCulture)}; every score must be finite.");
            }

            positives += labels[i];
        }

        return (positives, labels.Length - positives);
    }

    /// <summary>Trapezoid area under the curve for FPR in [0, limit], interpolating linearly at the limit (scikit-learn's way).</summary>
    private static double Area(RocPoint[] curve, double limit)
    {
        double area = 0;
        for (int k = 1; k < curve.Length; k++)
        {
            RocPoint a = curve[k - 1], b = curve[k];
            if (a.FalsePositiveRate >= limit)
            {
                break;
            }

            if (b.FalsePositiveRate > limit)
            {
                double tprAtLimit = a.TruePositiveRate + ((b.TruePositiveRate - a.TruePositiveRate) * (limit - a.FalsePositiveRate) / (b.FalsePositiveRate - a.FalsePositiveRate));
                area += (limit - a.FalsePositiveRate) * (a.TruePositiveRate + tprAtLimit) / 2;
                break;
            }

            area += (b.FalsePositiveRate - a.FalsePositiveRate) * (a.TruePositiveRate + b.TruePositiveRate) / 2;
        }

        return area;
    }
}
