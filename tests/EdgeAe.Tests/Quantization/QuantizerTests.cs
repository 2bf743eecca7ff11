// Training runs here take seconds and test no cancellation.
#pragma warning disable xUnit1051
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Quantization;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Quantization;

/// <summary>
/// Post-training quantisation: quality against the float model at reduced size (the full-size rows of the issue are
/// opt-in, <see cref="Int8QualityTests"/>), the per-layer report, every calibration method, determinism.
/// </summary>
public sealed class QuantizerTests
{
    private static readonly Lazy<(DigitsAe Model, Dataset Data)> s_digits = new(() =>
    {
        // The digits row's model and settings, 60 of its 200 epochs (about 2 s).
        Dataset data = BundledData.Digits();
        var model = new DigitsAe();
        new Trainer<DigitsAe>(model, Settings.Digits with { Epochs = 60 }).Fit(data);
        return (model, data);
    });

    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Mse)]
    public void Digits_int8_stays_within_ten_percent_of_the_float_mse(CalibrationMethod method)
    {
        (DigitsAe model, Dataset data) = s_digits.Value;
        Evaluation before = Trainer<DigitsAe>.Evaluate(model, data);
        QuantizationResult result = Quantizer.Quantize(model, data, new QuantizationOptions { Method = method });
        Evaluation after = Trainer<IAutoencoder>.Evaluate(new DigitsAe.Int8(result.Parameters), data);
        double ratio = after.MeanSquaredError / before.MeanSquaredError;
        Report.Line($"digits 64→16→64 (60 epochs) PTQ {method}: float MSE {before.MeanSquaredError:F5}, int8 {after.MeanSquaredError:F5} ({ratio:F3}×)");

        // Measured (all three methods): 1.006–1.007× at 60 epochs (1.034–1.037× at the full 200).
        Assert.True(ratio <= 1.10, $"{method}: int8 MSE {after.MeanSquaredError:F5} is {ratio:F3}× the float MSE {before.MeanSquaredError:F5}");
    }

    [Fact]
    public void The_report_describes_every_layer()
    {
        (DigitsAe model, Dataset data) = s_digits.Value;
        QuantizationResult result = Quantizer.Quantize(model, data, new QuantizationOptions { MaxSamples = 500 });
        Assert.Equal(500, result.CalibrationSamples);
        Assert.Equal(2, result.Layers.Count);
        foreach (LayerQuantizationReport layer in result.Layers)
        {
            Assert.InRange(layer.SaturatedFraction, 0, 0.01);
            Assert.InRange(layer.RelativeError, 1e-4, 0.1);
            Assert.True(layer.WeightScaleMin > 0 && layer.WeightScaleMin <= layer.WeightScaleMax);
            Assert.InRange(layer.Shift, 31, 62);
        }

        // A sigmoid layer's output codes cover [0, 1) at most; the first layer reads pixels/16 in [0, 1].
        Assert.Equal(-128, result.Layers[0].Input.ZeroPoint);
        Assert.Equal(1f / 255, result.Layers[0].Input.Scale, 1e-6f);
        Assert.True(result.Layers[1].Output.Range().High <= 1f);
    }

    [Fact]
    public void Quantising_twice_gives_the_same_file()
    {
        (DigitsAe model, Dataset data) = s_digits.Value;
        byte[] a = WeightFile.ToBytes(Quantizer.Quantize(model, data).Parameters, Normalization.None);
        byte[] b = WeightFile.ToBytes(Quantizer.Quantize(model, data).Parameters, Normalization.None);
        Assert.Equal(a, b);

        // Weights in bytes, biases and constants in int32: less than half the float32 file (8,636 bytes).
        Assert.True(a.Length * 2 < WeightFile.ToBytes(model, Normalization.None).Length, $"{a.Length} bytes");
    }

    [Fact]
    public void Bad_calibration_data_is_refused()
    {
        var model = new DigitsAe();
        ArgumentException e = Assert.Throws<ArgumentException>(() => Quantizer.Quantize(model, new Dataset(new float[10], 1, 10)));
        Assert.Contains("10 values per sample", e.Message);
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(model, new Dataset([], 0, 64)));
    }

    /// <summary>The training settings of docs/BENCHMARKS.md's float rows.</summary>
    internal static class Settings
    {
        // The float rows of docs/BENCHMARKS.md keep the epoch with the lowest training loss (no validation data).
        public static readonly TrainingOptions Digits = new() { Keep = KeepParameters.Best, Epochs = 200, BatchSize = 32, LearningRate = 1e-2f, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam }, Seed = 1 };

        public static readonly TrainingOptions Fashion = new() { Keep = KeepParameters.Best, Epochs = 3, BatchSize = 64, LearningRate = 1e-3f, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam }, Seed = 1 };
    }

    [Fact]
    public void The_calibration_sample_is_every_sample_or_an_even_spread_from_any_source()
    {
        var data = new Dataset(Enumerable.Range(0, 10 * 3).Select(i => (float)i).ToArray(), 10, 3);
        Assert.Same(data, Quantizer.CalibrationSample(data, 10));
        Assert.Same(data, Quantizer.CalibrationSample(data, 2048));

        // ⌊k · 10 / 4⌋ = 0, 2, 5, 7; the same rows through a source that is not a Dataset (as a .f32 cache is).
        Dataset spread = Quantizer.CalibrationSample(data, 4);
        Assert.Equal(data.Select([0, 2, 5, 7]).Values.ToArray(), spread.Values.ToArray());
        Assert.Equal(spread.Values.ToArray(), Quantizer.CalibrationSample(new Source(data), 4).Values.ToArray());
        Assert.Equal(data.Values.ToArray(), Quantizer.CalibrationSample(new Source(data), 50).Values.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Quantizer.CalibrationSample(data, 0));
    }

    private sealed class Source(Dataset data) : ISampleSource
    {
        public int Count => data.Count;

        public int Width => data.Width;

        public ReadOnlySpan<float> this[int index] => data[index];
    }
}
