// Training runs here take seconds and test no cancellation.
#pragma warning disable xUnit1051
using EdgeAe.Data;
using EdgeAe.Quantization;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Quantization;

/// <summary>
/// The quality rows of int8 models on Fashion-MNIST: 784→64→784 BCE and the deep squared-error model on standardised
/// pixels. The suite runs them on a 20,000-image, one-epoch subset; the full rows (60,000 images, 3 epochs, the float
/// rows' settings, and the digits row at 200 epochs) are opt-in with EDGEAE_FULL_QUALITY=1 and recorded in
/// docs/BENCHMARKS.md.
/// </summary>
public sealed class Int8QualityTests
{
    private static readonly Lazy<(Dataset Train, Dataset Test, Dataset StandardTrain, Dataset StandardTest)> s_data = new(() =>
    {
        Dataset train = FashionMnist.LoadTrain();
        Dataset test = FashionMnist.LoadTest();
        Normalization scale = Normalizer.FitScale(train, FashionMnist.PixelMax);
        Normalization standard = Normalizer.FitStandardize(train);
        return (Normalizer.Apply(train, scale), Normalizer.Apply(test, scale), Normalizer.Apply(train, standard), Normalizer.Apply(test, standard));
    });

    [Fact]
    public void Subset_fashion_int8_stays_within_the_bars()
    {
        RequireData();
        (Dataset train, Dataset test, Dataset standardTrain, Dataset standardTest) = s_data.Value;
        TrainingOptions subset = QuantizerTests.Settings.Fashion with { Epochs = 1 };

        var bce = new FashionAe();
        new Trainer<FashionAe>(bce, subset).Fit(train.Slice(0, 20000));
        double ratio = PtqRatio(bce, new FashionAe.Int8(), train.Slice(0, 2048), test.Slice(0, 2000));

        var deep = new FashionDeepAe();
        new Trainer<FashionDeepAe>(deep, subset).Fit(standardTrain.Slice(0, 20000));
        double deepRatio = PtqRatio(deep, new FashionDeepAe.Int8(), standardTrain.Slice(0, 2048), standardTest.Slice(0, 2000));

        Assert.True(ratio <= 1.10, $"784→64→784 BCE: int8 MSE {ratio:F3}× float");
        Assert.True(deepRatio <= 1.15, $"784→128→32→128→784: int8 MSE {deepRatio:F3}× float");
    }

    /// <summary>
    /// The quality table at full size (opt-in, several minutes): each model trained with its float row's
    /// settings, then post-training quantised (min/max on the training set) and, from the same float model,
    /// quantisation-aware fine-tuned (a tenth of the learning rate); test-set MSE of each against the float model's.
    /// </summary>
    [Fact]
    public void Full_size_quality_rows()
    {
        if (Environment.GetEnvironmentVariable("EDGEAE_FULL_QUALITY") != "1")
        {
            Assert.Skip("Opt-in (several minutes): set EDGEAE_FULL_QUALITY=1; the figures are in docs/BENCHMARKS.md.");
        }

        var rows = new List<(string Name, double Float, double Ptq, double Qat, double PtqBar, double QatBar)>();
        Dataset digits = BundledData.Digits();
        var digitsModel = new DigitsAe();
        new Trainer<DigitsAe>(digitsModel, QuantizerTests.Settings.Digits).Fit(digits);
        rows.Add(Row("digits 64→16→64 BCE", digitsModel, new DigitsAe.Int8(), digits, digits, QuantizerTests.Settings.Digits with { Epochs = 20, LearningRate = 3e-4f }, 1.10, 1.03,
            (m, o) => new Trainer<DigitsAe>((DigitsAe)m, o).Fit(digits)));

        RequireData();
        (Dataset train, Dataset test, Dataset standardTrain, Dataset standardTest) = s_data.Value;
        var fashion = new FashionAe();
        new Trainer<FashionAe>(fashion, QuantizerTests.Settings.Fashion).Fit(train);
        rows.Add(Row("Fashion-MNIST 784→64→784 BCE", fashion, new FashionAe.Int8(), train, test, QuantizerTests.Settings.Fashion with { Epochs = 1, LearningRate = 1e-4f }, 1.10, 1.03,
            (m, o) => new Trainer<FashionAe>((FashionAe)m, o).Fit(train)));

        var deep = new FashionDeepAe();
        new Trainer<FashionDeepAe>(deep, QuantizerTests.Settings.Fashion).Fit(standardTrain);
        rows.Add(Row("Fashion-MNIST 784→128→32→128→784 squared error, standardised", deep, new FashionDeepAe.Int8(), standardTrain, standardTest, QuantizerTests.Settings.Fashion with { Epochs = 1, LearningRate = 1e-4f }, 1.15, 1.05,
            (m, o) => new Trainer<FashionDeepAe>((FashionDeepAe)m, o).Fit(standardTrain)));

        foreach (var r in rows)
        {
            Report.Line(FormattableString.Invariant($"| {r.Name} | {r.Float:F5} | {r.Ptq:F5} ({r.Ptq / r.Float:F3}×, bar {r.PtqBar:F2}×) | {r.Qat:F5} ({r.Qat / r.Float:F3}×, bar {r.QatBar:F2}×) |"));
        }

        Assert.All(rows, r => Assert.True(r.Ptq <= r.PtqBar * r.Float && r.Qat <= r.QatBar * r.Float, $"{r.Name}: PTQ {r.Ptq / r.Float:F3}×, QAT {r.Qat / r.Float:F3}×"));
    }

    /// <summary>One row: the float model's test MSE, its PTQ int8 MSE, and the QAT int8 MSE after fine-tuning a copy.</summary>
    private static (string, double, double, double, double, double) Row(string name, IAutoencoder model, QuantizedAutoencoder int8, Dataset train, Dataset test,
        TrainingOptions qatOptions, double ptqBar, double qatBar, Action<IAutoencoder, TrainingOptions> fit)
    {
        double floatMse = Trainer<IAutoencoder>.Evaluate(model, test).MeanSquaredError;
        int8.Load(Quantizer.Quantize(model, train).Parameters);
        double ptq = Trainer<IAutoencoder>.Evaluate(int8, test).MeanSquaredError;
        var qat = new QuantizationAwareTraining(train);
        fit(model, qatOptions with { QuantizationAware = qat });
        int8.Load(qat.Quantize(model));
        double qatMse = Trainer<IAutoencoder>.Evaluate(int8, test).MeanSquaredError;
        return (name, floatMse, ptq, qatMse, ptqBar, qatBar);
    }

    private static double PtqRatio(IAutoencoder model, QuantizedAutoencoder int8, Dataset calibration, Dataset test)
    {
        Evaluation before = Trainer<IAutoencoder>.Evaluate(model, test);
        int8.Load(Quantizer.Quantize(model, calibration).Parameters);
        Evaluation after = Trainer<IAutoencoder>.Evaluate(int8, test);
        double ratio = after.MeanSquaredError / before.MeanSquaredError;
        Report.Line($"{model.Topology} subset: float MSE {before.MeanSquaredError:F5}, PTQ int8 MSE {after.MeanSquaredError:F5} ({ratio:F3}×)");
        return ratio;
    }

    private static void RequireData()
    {
        if (!FashionMnist.IsAvailable)
        {
            Assert.Skip($"Fashion-MNIST is not installed: apt-get install -y {FashionMnist.DebianPackage}");
        }
    }
}
