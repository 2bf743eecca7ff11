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
