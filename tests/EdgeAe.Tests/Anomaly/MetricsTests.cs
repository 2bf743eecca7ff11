using EdgeAe.Anomaly;

namespace EdgeAe.Tests.Anomaly;

/// <summary>ROC AUC, scikit-learn's partial AUC (McClish) and the confusion counts, against cases computed by hand.</summary>
public sealed class MetricsTests
{
    // scikit-learn's roc_auc_score documentation example: AUC 0.75.
    private static readonly float[] DocScores = [0.1f, 0.4f, 0.35f, 0.8f];
    private static readonly int[] DocLabels = [0, 0, 1, 1];

    // Ties across classes: positives {1, 2, 3}, negatives {1, 2}; Mann–Whitney (0.5 + 0 + 1 + 0.5 + 1 + 1) / 6 = 2/3.
    private static readonly float[] TiedScores = [1f, 1f, 2f, 2f, 3f];
    private static readonly int[] TiedLabels = [0, 1, 0, 1, 1];

    [Fact]
    public void Auc_of_the_scikit_learn_example_is_three_quarters()
        => Assert.Equal(0.75, DetectionMetrics.RocAuc(DocScores, DocLabels), 12);

    [Fact]
    public void Roc_curve_steps_diagonally_through_tied_scores()
    {
        RocPoint[] curve = DetectionMetrics.RocCurve(TiedScores, TiedLabels);
        Assert.Equal([(0.0, 0.0), (0.0, 1.0 / 3), (0.5, 2.0 / 3), (1.0, 1.0)], curve.Select(p => (p.FalsePositiveRate, p.TruePositiveRate)));
        Assert.Equal(2.0 / 3, DetectionMetrics.RocAuc(TiedScores, TiedLabels), 12);
    }

    [Fact]
    public void Partial_auc_is_McClish_standardised_and_interpolated_at_the_bound()
    {
        // Doc example at max_fpr 0.25: area 0.25·0.5 = 0.125 → 0.5·(1 + (0.125 − 0.03125)/(0.25 − 0.03125)) = 0.7142857…
        Assert.Equal(0.5 * (1 + ((0.125 - 0.03125) / (0.25 - 0.03125))), DetectionMetrics.PartialRocAuc(DocScores, DocLabels, 0.25), 12);

        // Ties at max_fpr 0.1: TPR at 0.1 on the diagonal step is 1/3 + (1/3)·0.2 = 0.4; area 0.1·(1/3 + 0.4)/2;
        // standardised with min 0.005 and max 0.1.
        double area = 0.1 * ((1.0 / 3) + 0.4) / 2;
        Assert.Equal(0.5 * (1 + ((area - 0.005) / (0.1 - 0.005))), DetectionMetrics.PartialRocAuc(TiedScores, TiedLabels), 12);
    }

    [Fact]
    public void Perfect_random_and_inverted_detectors()
    {
        float[] scores = [1, 2, 3, 4, 5, 6];
        int[] perfect = [0, 0, 0, 1, 1, 1];
        int[] inverted = [1, 1, 1, 0, 0, 0];
        Assert.Equal(1.0, DetectionMetrics.RocAuc(scores, perfect), 12);
        Assert.Equal(1.0, DetectionMetrics.PartialRocAuc(scores, perfect), 12);
        Assert.Equal(0.0, DetectionMetrics.RocAuc(scores, inverted), 12);

        // All scores equal: the curve is the diagonal, AUC 0.5, standardised partial AUC 0.5.
        float[] same = [2, 2, 2, 2];
        int[] mixed = [0, 1, 0, 1];
        Assert.Equal(0.5, DetectionMetrics.RocAuc(same, mixed), 12);
        Assert.Equal(0.5, DetectionMetrics.PartialRocAuc(same, mixed), 12);
    }

    [Fact]
    public void Auc_equals_the_Mann_Whitney_statistic_on_random_tied_data()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = random.Next(2, 60);
            float[] scores = Enumerable.Range(0, n).Select(_ => (float)random.Next(0, 6)).ToArray();
            int[] labels = Enumerable.Range(0, n).Select(i => i < 1 ? 0 : i < 2 ? 1 : random.Next(0, 2)).ToArray();
            double wins = 0;
            int pairs = 0;
            for (int p = 0; p < n; p++)
            {
                for (int q = 0; q < n; q++)
                {
                    if (labels[p] == 1 && labels[q] == 0)
                    {
                        pairs++;
                        wins += scores[p] > scores[q] ? 1 : scores[p] == scores[q] ? 0.5 : 0;
                    }
                }
            }

            Assert.Equal(wins / pairs, DetectionMetrics.RocAuc(scores, labels), 12);
        }
    }

    [Fact]
    public void Confusion_at_a_threshold_flags_scores_strictly_above_it()
    {
        Confusion c = DetectionMetrics.At(DocScores, DocLabels, 0.35f);
        Assert.Equal(new Confusion(TruePositives: 1, FalsePositives: 1, TrueNegatives: 1, FalseNegatives: 1), c);
        Assert.Equal(0.5, c.Precision);
        Assert.Equal(0.5, c.Recall);
        Assert.Equal(0.5, c.F1);
        Confusion none = DetectionMetrics.At(DocScores, DocLabels, 1f);
        Assert.Equal(0, none.Precision);
        Assert.Equal(0, none.F1);
    }

    [Fact]
    public void A_single_class_is_an_error_not_NaN()
    {
        var e = Assert.Throws<AnomalyException>(() => DetectionMetrics.RocAuc([0.1f, 0.2f], [0, 0]));
        Assert.Contains("single class", e.Message);
        Assert.Throws<AnomalyException>(() => DetectionMetrics.PartialRocAuc([0.1f, 0.2f], [1, 1]));
    }

    [Fact]
    public void Bad_labels_name_the_row_and_lengths_must_match()
    {
        Assert.Contains("row 3", Assert.Throws<AnomalyException>(() => DetectionMetrics.RocAuc([1, 2, 3], [0, 1, 2])).Message);
        Assert.Contains("2 labels for 3 scores", Assert.Throws<AnomalyException>(() => DetectionMetrics.RocAuc([1, 2, 3], [0, 1])).Message);
        Assert.Contains("row 2", Assert.Throws<AnomalyException>(() => DetectionMetrics.RocAuc([1, float.NaN, 3], [0, 1, 1])).Message);
    }

    [Fact]
    public void Label_files_accept_a_header_and_name_a_bad_row()
    {
        string path = Path.Combine(Path.GetTempPath(), "edgeae-labels-" + Guid.NewGuid().ToString("N") + ".csv");
        try
        {
            File.WriteAllText(path, "label\n0\n1\n1\n\n");
            Assert.Equal([0, 1, 1], LabelFile.Read(path));
            File.WriteAllText(path, "0\n1\nyes\n");
            Assert.Contains("row 3", Assert.Throws<AnomalyException>(() => LabelFile.Read(path)).Message);
            File.WriteAllText(path, "0\n0.5\n");
            Assert.Contains("row 2", Assert.Throws<AnomalyException>(() => LabelFile.Read(path)).Message);

            // np.savetxt("labels.csv", y) and pandas write 0/1 as floats: "label '0.0' is not 0" was untrue.
            File.WriteAllText(path, "0.000000000000000000e+00\n1.000000000000000000e+00\n1.0\n0.0\n");
            Assert.Equal([0, 1, 1, 0], LabelFile.Read(path));
            File.WriteAllText(path, "0\n2.0\n");
            Assert.Contains("row 2: label '2.0' is not 0 (normal) or 1 (anomalous)", Assert.Throws<AnomalyException>(() => LabelFile.Read(path)).Message);
            File.WriteAllText(path, "0\nNaN\n");
            Assert.Contains("row 2", Assert.Throws<AnomalyException>(() => LabelFile.Read(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
