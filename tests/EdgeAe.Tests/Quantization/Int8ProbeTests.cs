#pragma warning disable xUnit1051
using EdgeAe.Data;
using EdgeAe.Quantization;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Quantization;

public sealed class Int8ProbeTests
{
    [Fact]
    public void Probe_digits()
    {
        Dataset digits = BundledData.Digits();
        var model = new DigitsAe();
        var options = new TrainingOptions { Epochs = 200, BatchSize = 32, LearningRate = 1e-2f, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam }, Seed = 1 };
        new Trainer<DigitsAe>(model, options).Fit(digits);
        Evaluation f = Trainer<DigitsAe>.Evaluate(model, digits);
        foreach (CalibrationMethod m in Enum.GetValues<CalibrationMethod>())
        {
            QuantizationResult q = Quantizer.Quantize(model, digits, new QuantizationOptions { Method = m });
            var int8 = new DigitsAe.Int8(q.Parameters);
            Evaluation e = Trainer<IAutoencoder>.Evaluate(int8, digits);
            Report.Line($"{m}: float MSE {f.MeanSquaredError:F5} BCE {f.MeanLoss:F4}; int8 MSE {e.MeanSquaredError:F5} ({e.MeanSquaredError / f.MeanSquaredError:F3}x) BCE {e.MeanLoss:F4}");
            foreach (var l in q.Layers)
            {
                Report.Line($"  L{l.Index} {l.Activation} in {l.Input} z {l.PreActivation} out {l.Output} ws [{l.WeightScaleMin:G3},{l.WeightScaleMax:G3}] n {l.Shift} sat {l.SaturatedFraction:P3} rmse {l.OutputRmse:G3} rel {l.RelativeError:P2}");
            }

            // exactness against the reference
            int mismatches = 0;
            var code = new float[16];
            var output = new float[64];
            for (int i = 0; i < digits.Count; i++)
            {
                int8.Encode(digits[i], code);
                float[] refCode = Int8Reference.Encode(q.Parameters, digits[i]);
                int8.Reconstruct(digits[i], output);
                float[] refOut = Int8Reference.Reconstruct(q.Parameters, digits[i]);
                if (!code.AsSpan().SequenceEqual(refCode) || !output.AsSpan().SequenceEqual(refOut))
                {
                    mismatches++;
                }
            }

            Report.Line($"  mismatches vs reference: {mismatches}");
        }
    }
}

public sealed class Int8FashionProbeTests
{
    [Fact]
    public void Probe_fashion()
    {
        Dataset train = FashionMnist.LoadTrain();
        Dataset test = FashionMnist.LoadTest();
        Normalization scale = Normalizer.FitScale(train, FashionMnist.PixelMax);
        (train, test) = (Normalizer.Apply(train, scale), Normalizer.Apply(test, scale));
        var options = new TrainingOptions { Epochs = 3, BatchSize = 64, LearningRate = 1e-3f, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam }, Seed = 1 };
        var model = new FashionAe();
        new Trainer<FashionAe>(model, options).Fit(train);
        Probe(model, train, test, new FashionAe.Int8());

        Normalization standard = Normalizer.FitStandardize(Normalizer.Apply(FashionMnist.LoadTrain(), Normalization.None));
        Dataset rawTrain = FashionMnist.LoadTrain(), rawTest = FashionMnist.LoadTest();
        Dataset strain = Normalizer.Apply(rawTrain, standard), stest = Normalizer.Apply(rawTest, standard);
        var deep = new FashionDeepAe();
        new Trainer<FashionDeepAe>(deep, options).Fit(strain);
        Probe(deep, strain, stest, new FashionDeepAe.Int8());
    }

    private static void Probe(IAutoencoder model, Dataset train, Dataset test, QuantizedAutoencoder int8)
    {
        Evaluation f = Trainer<IAutoencoder>.Evaluate(model, test);
        foreach (CalibrationMethod m in Enum.GetValues<CalibrationMethod>())
        {
            QuantizationResult q = Quantizer.Quantize(model, train, new QuantizationOptions { Method = m });
            int8.Load(q.Parameters);
            Evaluation e = Trainer<IAutoencoder>.Evaluate(int8, test);
            Report.Line($"{model.Topology.Name} {m}: float MSE {f.MeanSquaredError:F5} loss {f.MeanLoss:F4}; int8 MSE {e.MeanSquaredError:F5} ({e.MeanSquaredError / f.MeanSquaredError:F3}x) loss {e.MeanLoss:F4}");
            foreach (var l in q.Layers)
            {
                Report.Line($"  L{l.Index} {l.Activation} in {l.Input} z {l.PreActivation} out {l.Output} ws [{l.WeightScaleMin:G3},{l.WeightScaleMax:G3}] n {l.Shift} sat {l.SaturatedFraction:P3} rmse {l.OutputRmse:G3} rel {l.RelativeError:P2}");
            }
        }
    }
}
