using EdgeAe.Anomaly;
using EdgeAe.Baselines;
using EdgeAe.Data;
using EdgeAe.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EdgeAe.Tests.Anomaly;

/// <summary>One class of a one-class benchmark: AUC and partial AUC of EdgeAe and its two peers on the same split.</summary>
internal sealed record OneClassResult(int NormalClass, int Train, int TestNormal, int TestAnomalous, double EdgeAeAuc, double EdgeAePauc, double PcaAuc, double PcaPauc, double MlNetAuc, double MlNetPauc, double FalseAlarmRate, double Recall, double Seconds);

/// <summary>
/// The one-class protocol of the deep one-class literature (docs/anomaly.md): for each class k, train on images of class
/// k only, test on a held-out set where class k is normal (label 0) and every other class anomalous (label 1). EdgeAe's
/// recipe (train on normal data with a 10 % validation split, score = mean per-element loss, threshold calibrated on the
/// validation scores) against two peers fitted on the same training images: the PCA reconstruction residual with
/// the same number of components as the code, and ML.NET's RandomizedPca (same rank).
/// </summary>
internal static class OneClass
{
    /// <summary>The recipe's training options: Adam lr 1e-3, batch 64, seed 1, the best validation epoch kept.</summary>
    public static TrainingOptions Recipe(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = 64,
        LearningRate = 1e-3f,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam },
        Seed = 1,
        Keep = KeepParameters.Best,
    };

    /// <summary>Runs the three detectors for one normal class.</summary>
    public static OneClassResult Run(IAutoencoder model, int normalClass, Dataset normalTraining, Dataset test, int[] labels, TrainingOptions options, CalibrationMethod calibration)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (Dataset train, Dataset validation) = DatasetSplit.TrainValidation(normalTraining, 0.1, seed: 1);
        new Trainer<IAutoencoder>(model, options).Fit(train, validation);
        float[] scores = AnomalyScore.ScoreAll(model, test);
        AnomalyThreshold threshold = Calibration.FromNormalScores(AnomalyScore.ScoreAll(model, validation), calibration);
        Confusion confusion = DetectionMetrics.At(scores, labels, threshold.Threshold);

        int code = model.Topology.CodeSize;
        Pca pca = Pca.Fit(train, code);
        float[] residuals = Enumerable.Range(0, test.Count).Select(i => (float)pca.Residual(test[i])).ToArray();
        float[] mlNet = MlNetRandomizedPca(train, test, code);
        int anomalous = labels.Sum();
        return new OneClassResult(
            normalClass, train.Count, test.Count - anomalous, anomalous,
            DetectionMetrics.RocAuc(scores, labels), DetectionMetrics.PartialRocAuc(scores, labels),
            DetectionMetrics.RocAuc(residuals, labels), DetectionMetrics.PartialRocAuc(residuals, labels),
            DetectionMetrics.RocAuc(mlNet, labels), DetectionMetrics.PartialRocAuc(mlNet, labels),
            confusion.FalsePositiveRate, confusion.Recall, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Labels for a test set: 0 where the sample's class is <paramref name="normalClass"/>, else 1.</summary>
    public static int[] Labels(Dataset test, int normalClass) => test.Labels!.Select(l => l == normalClass ? 0 : 1).ToArray();

    /// <summary>The samples of <paramref name="data"/> of one class.</summary>
    public static Dataset OfClass(Dataset data, int label)
        => data.Select(Enumerable.Range(0, data.Count).Where(i => data.Labels![i] == label).ToArray());

    /// <summary>A table in Markdown: one row per class, then the means.</summary>
    public static string Table(IReadOnlyList<OneClassResult> rows)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("| normal class | train | test normal/anomalous | EdgeAe AUC | PCA AUC | ML.NET AUC | EdgeAe pAUC | PCA pAUC | ML.NET pAUC | FPR / recall at the threshold | s |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (OneClassResult r in rows)
        {
            string best = r.EdgeAeAuc >= Math.Max(r.PcaAuc, r.MlNetAuc) ? "" : " (loses)";
            text.AppendLine(FormattableString.Invariant($"| {r.NormalClass} | {r.Train} | {r.TestNormal}/{r.TestAnomalous} | {r.EdgeAeAuc:F4}{best} | {r.PcaAuc:F4} | {r.MlNetAuc:F4} | {r.EdgeAePauc:F4} | {r.PcaPauc:F4} | {r.MlNetPauc:F4} | {r.FalseAlarmRate:F3} / {r.Recall:F3} | {r.Seconds:F1} |"));
        }

        text.AppendLine(FormattableString.Invariant($"| mean | | | {rows.Average(r => r.EdgeAeAuc):F5} | {rows.Average(r => r.PcaAuc):F5} | {rows.Average(r => r.MlNetAuc):F5} | {rows.Average(r => r.EdgeAePauc):F5} | {rows.Average(r => r.PcaPauc):F5} | {rows.Average(r => r.MlNetPauc):F5} | {rows.Average(r => r.FalseAlarmRate):F3} / {rows.Average(r => r.Recall):F3} | {rows.Sum(r => r.Seconds):F0} |"));
        return text.ToString();
    }

    /// <summary>ML.NET's RandomizedPca anomaly score (higher = more anomalous) of every test sample, trained on <paramref name="train"/>.</summary>
    private static float[] MlNetRandomizedPca(Dataset train, Dataset test, int rank)
    {
        var ml = new MLContext(seed: 1);
        SchemaDefinition schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, train.Width);
        IDataView View(Dataset data) => ml.Data.LoadFromEnumerable(Enumerable.Range(0, data.Count).Select(i => new Row { Features = data[i].ToArray() }).ToArray(), schema);
        var trainer = ml.AnomalyDetection.Trainers.RandomizedPca(featureColumnName: nameof(Row.Features), rank: rank, ensureZeroMean: true, seed: 1);
        ITransformer fitted = trainer.Fit(View(train));
        return fitted.Transform(View(test)).GetColumn<float>("Score").ToArray();
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
    }
}
