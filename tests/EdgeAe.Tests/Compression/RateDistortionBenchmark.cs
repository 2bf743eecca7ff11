// The benchmark trains for minutes and tests no cancellation.
#pragma warning disable xUnit1051
using System.Diagnostics;
using EdgeAe.Data;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Compression;

/// <summary>
/// The rate–distortion figures of docs/BENCHMARKS.md ("Compression: rate–distortion"), opt-in:
/// <c>EDGEAE_RD_BENCH=1 tests/EdgeAe.Tests/bin/Debug/net10.0/EdgeAe.Tests -method "*Rate_distortion_benchmark*"</c>.
/// Writes the tables to <c>EDGEAE_RD_OUT</c> (default: rd-benchmark.md in the working folder).
/// </summary>
public sealed class RateDistortionBenchmark
{
    /// <summary>The Fashion-MNIST reference settings of the learning-quality tests (Adam lr 1e-3, batch 64, 3 epochs).</summary>
    public static readonly TrainingOptions Adam = Training.FashionMnistQualityTests.Reference;

    [Fact]
    public void Rate_distortion_benchmark()
    {
        if (Environment.GetEnvironmentVariable("EDGEAE_RD_BENCH") != "1")
        {
            Assert.Skip("opt-in: EDGEAE_RD_BENCH=1 (trains for minutes)");
        }

        string outPath = Environment.GetEnvironmentVariable("EDGEAE_RD_OUT") ?? "rd-benchmark.md";
        var report = new System.Text.StringBuilder();
        void Emit(string text)
        {
            report.AppendLine(text);
            File.WriteAllText(outPath, report.ToString());
            Console.WriteLine(text);
        }

        var clock = Stopwatch.StartNew();

        // Digits: 64 → 16 → 64 sigmoid, the README's training (Adam lr 1e-2, batch 32, 200 epochs) on 1500 digits.
        {
            (Dataset train, Dataset test, byte[] raw) = RdData.Digits();
            var model = new DigitsAe();
            new Trainer<DigitsAe>(model, Adam with { Epochs = 200, BatchSize = 32, LearningRate = 1e-2f }).Fit(train);
            var rows = RateDistortion.Autoencoder("AE 64→16→64", model, train, test, 1).ToList();
            rows.AddRange(RateDistortion.Autoencoder("AE 64→16→64 int8", Int8(model, new DigitsAe.Int8(), train), train, test, 1));
            rows.AddRange(RateDistortion.PcaRows(Pca.Fit(train, 16), train, test, 1));
            rows.AddRange(RateDistortion.Lossless(raw, test.Count));
            Emit(RateDistortion.Markdown($"UCI digits, 297 test images of 8×8 (trained on 1,500) — {clock.Elapsed.TotalSeconds:F0} s", 64, rows));
        }

        {
            (Dataset train, Dataset test, byte[] raw) = RdData.BreastCancer();
            var model = new CancerAe();
            new Trainer<CancerAe>(model, Adam with { Epochs = 300, BatchSize = 16, LearningRate = 3e-3f }).Fit(train);
            var rows = RateDistortion.Autoencoder("AE 30→24→8→24→30", model, train, test, 4).ToList();
            rows.AddRange(RateDistortion.Autoencoder("AE 30→24→8→24→30 int8", Int8(model, new CancerAe.Int8(), train), train, test, 4));
            rows.AddRange(RateDistortion.PcaRows(Pca.Fit(train, 8), train, test, 4));
            rows.AddRange(RateDistortion.Lossless(raw, test.Count));
            Emit(RateDistortion.Markdown($"Breast cancer (Wisconsin diagnostic), 114 test samples of 30 float32 features (trained on 455), standardised units — {clock.Elapsed.TotalSeconds:F0} s", 120, rows));
        }

        if (FashionMnist.IsAvailable)
        {
            (Dataset train, Dataset test, byte[] raw) = RdData.Fashion();
            var rows = new List<RdRow>();
            foreach (IAutoencoder model in new IAutoencoder[] { new FashionAe16(), new FashionAe32(), new FashionAe() })
            {
                TrainFashion(model, train);
                int k = model.Topology.CodeSize;
                rows.AddRange(RateDistortion.Autoencoder($"AE 784→{k}→784", model, train, test, 1));
                EdgeAe.Quantization.QuantizedAutoencoder int8 = model switch
                {
                    FashionAe16 => new FashionAe16.Int8(),
                    FashionAe32 => new FashionAe32.Int8(),
                    _ => new FashionAe.Int8(),
                };
                rows.AddRange(RateDistortion.Autoencoder($"AE 784→{k}→784 int8", Int8(model, int8, train), train, test, 1));
                rows.AddRange(RateDistortion.PcaRows(Pca.Fit(train, k), train, test, 1));
                Console.WriteLine($"(Fashion code {k} done at {clock.Elapsed.TotalSeconds:F0} s)"); // progress, not part of the report
            }

            rows.AddRange(RateDistortion.Lossless(raw, test.Count));
            Emit(RateDistortion.Markdown($"Fashion-MNIST, 10,000 test images of 28×28 (trained on 60,000) — {clock.Elapsed.TotalSeconds:F0} s", 784, rows));
        }
    }

    /// <summary>The trained model quantised to int8 (post-training, min/max calibration on the training data).</summary>
    private static IAutoencoder Int8(IAutoencoder model, EdgeAe.Quantization.QuantizedAutoencoder int8, Dataset train)
    {
        int8.Load(EdgeAe.Quantization.Quantizer.Quantize(model, train).Parameters);
        return int8;
    }

    private static void TrainFashion(IAutoencoder model, Dataset train)
    {
        switch (model)
        {
            case FashionAe16 m:
                new Trainer<FashionAe16>(m, Adam).Fit(train);
                break;
            case FashionAe32 m:
                new Trainer<FashionAe32>(m, Adam).Fit(train);
                break;
            case FashionAe m:
                new Trainer<FashionAe>(m, Adam).Fit(train);
                break;
        }
    }
}
