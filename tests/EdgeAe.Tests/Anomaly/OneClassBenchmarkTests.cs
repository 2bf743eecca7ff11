// Training runs here take seconds and test no cancellation.
#pragma warning disable xUnit1051
using EdgeAe.Anomaly;
using EdgeAe.Data;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Anomaly;

/// <summary>
/// One-class benchmarks (docs/anomaly.md): EdgeAe's recipe against PCA (same code size) and ML.NET's RandomizedPca.
/// The digits protocol runs in full in the suite; Fashion-MNIST runs on a reduced split in the suite and in full when
/// EDGEAE_ONE_CLASS_FULL=1 (several minutes; the table is printed and recorded in docs/anomaly.md).
/// </summary>
public sealed class OneClassBenchmarkTests
{
    /// <summary>
    /// 1: the full Fashion-MNIST protocol (all 10 classes, 6,000 training images each, 30 epochs, 10,000 test images);
    /// <c>classes</c>: all 10 classes with the suite's reduced training (2,000 images, 10 epochs) on the 10,000 test images.
    /// </summary>
    public const string FullVariable = "EDGEAE_ONE_CLASS_FULL";

    /// <summary>Epochs of the digits recipe (about 80 training images per class).</summary>
    public const int DigitsEpochs = 1000;

    /// <summary>Epochs of the Fashion-MNIST recipe (5,400 training images per class).</summary>
    public const int FashionEpochs = 30;

    [Fact]
    public void One_class_digits_edgeae_against_pca_and_ml_net()
    {
        // Split (stated in docs/anomaly.md): for class k, a seeded half of its images (DatasetSplit seed 1) trains; the
        // other half is the test's normal part and every image of the other nine classes its anomalous part.
        Dataset digits = BundledData.Digits();
        var rows = new List<OneClassResult>();
        for (int k = 0; k < 10; k++)
        {
            Dataset ofClass = OneClass.OfClass(digits, k);
            (Dataset trainPart, Dataset testPart) = DatasetSplit.TrainValidation(ofClass, 0.5, seed: 1);
            int[] others = Enumerable.Range(0, digits.Count).Where(i => digits.Labels![i] != k).ToArray();
            Dataset test = Concat(testPart, digits.Select(others));
            rows.Add(OneClass.Run(new OneClassDigitsAe(), k, trainPart, test, OneClass.Labels(test, k), OneClass.Recipe(DigitsEpochs), CalibrationMethod.Parse("meanstd:3")));
        }

        Report.Line("One-class digits (bundled UCI 8×8):\n" + OneClass.Table(rows));
        double edge = rows.Average(r => r.EdgeAeAuc), pca = rows.Average(r => r.PcaAuc), ml = rows.Average(r => r.MlNetAuc);
        // Measured: EdgeAe 0.99590, PCA 0.99587, ML.NET 0.92675 (docs/anomaly.md) — above PCA by 3·10⁻⁵, a tie in
        // practice. Training is deterministic for this machine's ISA, but FMA rungs may move the last digits, so the
        // suite checks the tie with PCA and the clear win over ML.NET.
        Assert.True(edge >= pca - 0.001 && edge > ml + 0.05, OneClass.Table(rows));
    }

    [Fact]
    public void One_class_fashion_mnist_reduced_or_full()
    {
        if (!FashionMnist.IsAvailable)
        {
            Assert.Skip($"Fashion-MNIST is not installed: apt-get install -y {FashionMnist.DebianPackage}");
        }

        string mode = Environment.GetEnvironmentVariable(FullVariable) ?? string.Empty;
        bool full = mode == "1", allClasses = full || mode == "classes";
        Dataset train = FashionMnist.LoadTrain(), test = FashionMnist.LoadTest();
        Normalization scale = Normalizer.FitScale(train, FashionMnist.PixelMax);
        train = Normalizer.Apply(train, scale);
        test = Normalizer.Apply(test, scale);
        int[] classes = allClasses ? Enumerable.Range(0, 10).ToArray() : [1];
        if (!allClasses)
        {
            test = test.Slice(0, 2000);
        }

        var rows = new List<OneClassResult>();
        foreach (int k in classes)
        {
            Dataset normal = OneClass.OfClass(train, k);
            if (!full)
            {
                normal = normal.Slice(0, 2000);
            }

            rows.Add(OneClass.Run(new OneClassImageAe(), k, normal, test, OneClass.Labels(test, k), OneClass.Recipe(full ? FashionEpochs : 10), CalibrationMethod.Parse("percentile:99")));
            Report.Line(OneClass.Table(rows[^1..]).Split('\n')[2]); // each class as it finishes (a long run can be read part-way)
        }

        Report.Line($"One-class Fashion-MNIST ({(full ? "full protocol" : allClasses ? "every class, reduced training: 2,000 images, 10 epochs; 10,000 test images" : "reduced: 2,000 training images, 10 epochs, the first 2,000 test images")}):\n" + OneClass.Table(rows));
        if (!allClasses)
        {
            // The reduced run is a smoke test of the protocol with a measured floor (EdgeAe 0.9865, PCA 0.9883, ML.NET
            // 0.9263 for trouser on this subset): EdgeAe loses to PCA here by 0.002; the bar is judged on the full run.
            OneClassResult r = rows[0];
            Assert.True(r.EdgeAeAuc >= 0.98 && r.EdgeAeAuc > r.MlNetAuc, OneClass.Table(rows));
        }
    }

    private static Dataset Concat(Dataset a, Dataset b)
        => new([.. a.Values, .. b.Values], a.Count + b.Count, a.Width, [.. a.Labels!, .. b.Labels!]);
}
