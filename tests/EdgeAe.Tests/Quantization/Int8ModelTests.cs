using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Quantization;
using EdgeAe.Tests.Models;

namespace EdgeAe.Tests.Quantization;

/// <summary>
/// The generated <c>Int8</c> companions of every test model (deep, tied, tails of every vector width, wide) against
/// the scalar reference, bit for bit: Encode, Decode, Reconstruct, Evaluate and EncodeBatch; their losses; their
/// allocation-free hot paths; and the members an int8 model refuses.
/// </summary>
public sealed class Int8ModelTests
{
    /// <summary>A float model with seeded parameters, its int8 parameters (calibrated on seeded inputs) and the companion running them.</summary>
    internal static (IAutoencoder Float, QuantizedAutoencoder Int8, QuantizedParameters Parameters, Dataset Data) Quantized(string name, int seed = 1)
    {
        IAutoencoder model = TestModels.Create(name);
        TestModels.PerturbBiases(model, seed);
        var rows = Enumerable.Range(0, 64).SelectMany(s => TestModels.RandomInput(model, seed * 1000 + s)).ToArray();
        var data = new Dataset(rows, 64, model.Topology.InputSize);
        QuantizedParameters parameters = Quantizer.Quantize(model, data).Parameters;
        QuantizedAutoencoder int8 = TestModels.Int8[name]();
        int8.Load(parameters);
        return (model, int8, parameters, data);
    }

    [Theory]
    [MemberData(nameof(TestModels.Names), MemberType = typeof(TestModels))]
    public void Every_output_equals_the_reference_bit_for_bit(string name)
    {
        (IAutoencoder _, QuantizedAutoencoder int8, QuantizedParameters parameters, Dataset data) = Quantized(name);
        ModelTopology t = int8.Topology;
        var code = new float[t.CodeSize];
        var output = new float[t.InputSize];
        for (int s = 0; s < data.Count; s++)
        {
            float[] expectedCode = Int8Reference.Encode(parameters, data[s]);
            int8.Encode(data[s], code);
            AssertBits(expectedCode, code, $"{name} Encode sample {s}");
            int8.EncodePortable(data[s], code);
            AssertBits(expectedCode, code, $"{name} EncodePortable sample {s}");

            int8.Decode(expectedCode, output);
            AssertBits(Int8Reference.Decode(parameters, expectedCode), output, $"{name} Decode sample {s}");

            float[] expected = Int8Reference.Reconstruct(parameters, data[s]);
            float loss = int8.Reconstruct(data[s], output);
            AssertBits(expected, output, $"{name} Reconstruct sample {s}");
            Assert.Equal(loss, int8.Evaluate(data[s], data[s]));
            Assert.Equal(ReferenceLoss(parameters, data[s], data[s]), loss, Math.Max(1e-4, Math.Abs(loss) * 1e-5));
        }

        // Batches of every size up to 9 (four-row tiles and single rows) give the single-sample codes.
        for (int count = 1; count <= Math.Min(9, t.MaxBatchSize); count++)
        {
            var codes = new float[count * t.CodeSize];
            int8.EncodeBatch(data.Values[..(count * t.InputSize)], codes);
            for (int s = 0; s < count; s++)
            {
                AssertBits(Int8Reference.Encode(parameters, data[s]), codes.AsSpan(s * t.CodeSize, t.CodeSize).ToArray(), $"{name} EncodeBatch({count}) sample {s}");
            }
        }
    }

    [Fact]
    public void Hot_paths_allocate_nothing()
    {
        (IAutoencoder _, QuantizedAutoencoder int8, QuantizedParameters _, Dataset data) = Quantized(nameof(DeepBceAe));
        float[] input = data[0].ToArray();
        var code = new float[DeepBceAe.CodeSize];
        var output = new float[DeepBceAe.InputSize];
        float[] batch = data.Values[..(8 * DeepBceAe.InputSize)].ToArray();
        var codes = new float[8 * DeepBceAe.CodeSize];

        void RunAll()
        {
            for (int k = 0; k < 1000; k++)
            {
                int8.Encode(input, code);
                int8.Decode(code, output);
                int8.Reconstruct(input, output);
                int8.Evaluate(input, input);
                int8.EncodeBatch(batch, codes);
                int8.Score(input);
                int8.ScoreFeatures(input, output);
            }
        }

        RunAll();
        Allocations.AssertNoneOnThisThread(RunAll);
    }

    [Theory]
    [MemberData(nameof(TestModels.Names), MemberType = typeof(TestModels))]
    public void Anomaly_scores_are_the_int8_loss_per_element(string name)
    {
        (IAutoencoder _, QuantizedAutoencoder int8, QuantizedParameters parameters, Dataset data) = Quantized(name);
        ModelTopology t = int8.Topology;
        var terms = new float[t.InputSize];
        for (int s = 0; s < Math.Min(8, data.Count); s++)
        {
            // Mean per element of the model's loss: BCE, or the MSE (twice the ½-weighted squared error).
            double reference = ReferenceLoss(parameters, data[s], data[s]) * (t.Loss == LossKind.BinaryCrossEntropy ? 1 : 2) / t.InputSize;
            float score = int8.Score(data[s]);
            float portable = int8.ScorePortable(data[s]);
            Assert.Equal(reference, score, Math.Max(1e-6, reference * 1e-5));
            Assert.Equal(reference, portable, Math.Max(1e-6, reference * 1e-5));
            Assert.Equal(portable, int8.ScoreFeatures(data[s], terms));
            Assert.Equal(portable, (float)terms.Select(x => (double)x).Sum() / t.InputSize, Math.Max(1e-6, portable * 1e-5));
        }

        Assert.Equal("perFeature", Assert.Throws<ArgumentException>(() => int8.ScoreFeatures(data[0], new float[t.InputSize + 1])).ParamName);
    }

    [Fact]
    public void An_int8_model_refuses_training_and_running_without_parameters()
    {
        var int8 = new DigitsAe.Int8();
        var input = new float[64];
        InvalidOperationException empty = Assert.Throws<InvalidOperationException>(() => int8.Encode(input, new float[16]));
        Assert.Contains("no int8 parameters", empty.Message);
        NotSupportedException training = Assert.Throws<NotSupportedException>(() => int8.TrainStep(input, 0.1f));
        Assert.Contains("inference only", training.Message);
        Assert.Contains("DigitsAe", training.Message);
        Assert.Throws<NotSupportedException>(() => int8.InitializeParameters(1));
        Assert.Throws<NotSupportedException>(() => int8.AccumulateBatchGradients(input, input));
        Assert.True(int8.Parameters.IsEmpty);
        Assert.IsAssignableFrom<IQuantizedAutoencoder>(int8);
        Assert.IsNotAssignableFrom<IQuantizedAutoencoder>(new DigitsAe());

        (_, _, QuantizedParameters deep, _) = Quantized(nameof(DeepBceAe));
        ArgumentException other = Assert.Throws<ArgumentException>(() => int8.Load(deep));
        Assert.Contains("different model", other.Message);
    }

    [Fact]
    public void Wrong_span_lengths_throw_naming_the_parameter()
    {
        (_, QuantizedAutoencoder int8, _, _) = Quantized(nameof(DigitsAe));
        ArgumentException e = Assert.Throws<ArgumentException>(() => int8.Encode(new float[63], new float[16]));
        Assert.Equal("input", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => int8.Decode(new float[16], new float[65]));
        Assert.Equal("output", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => int8.EncodeBatch(new float[64 * 65], new float[16 * 65]));
        Assert.Equal("inputs", e.ParamName);
    }

    /// <summary>The loss the int8 model reports, recomputed in double from the reference's codes.</summary>
    private static double ReferenceLoss(QuantizedParameters p, ReadOnlySpan<float> input, ReadOnlySpan<float> target)
    {
        (int[][] z, int[][] y) = Int8Reference.Run(p, input, 0, p.Layers.Count - 1);
        QuantizedLayer last = p.Layers[^1];
        double loss = 0;
        for (int j = 0; j < target.Length; j++)
        {
            if (p.Loss == LossKind.BinaryCrossEntropy)
            {
                double zj = last.PreActivation.Dequantize(z[^1][j]);
                loss += Math.Max(zj, 0) - (target[j] * zj) + Math.Log(1 + Math.Exp(-Math.Abs(zj)));
            }
            else
            {
                double d = last.Output.Dequantize(y[^1][j]) - target[j];
                loss += 0.5 * d * d;
            }
        }

        return loss;
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}, value {i}: expected {expected[i]}, found {actual[i]}");
        }
    }
}
