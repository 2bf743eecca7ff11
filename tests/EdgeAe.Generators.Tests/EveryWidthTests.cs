using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using EdgeAe.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// Every layer width 1..256 through the generated kernels (SIMD rows, tails and epilogues; the scalar path
/// when no vector ISA is accelerated) against the double-precision reference: forward within 1e-5 relative,
/// batch gradients within 1e-4, tolerances scaled by magnitude.
/// </summary>
/// <remarks>
/// A width of 0 is not a legal declaration (EAE0002, asserted below), so 1 is the smallest width tested.
/// One compilation holds <see cref="ModelCount"/> models of 16–17 layers each. Every width 1..256 is the
/// output width of exactly one layer (the columns of its forward and weight-gradient products, the row count
/// of the weight-gradient product's tiles) and, except for the models' input widths 241..256, the input width
/// of a later layer (the columns of the backward data product); the last model gives 241..256 that second role.
/// The input widths (the element-wise loss and delta loops) are 240..256. CI runs this class again on each ISA
/// rung (Vector256, Vector128, scalar).
/// </remarks>
public sealed class EveryWidthTests
{
    private const int ModelCount = 17;
    private const int Batch = 7;

    private static readonly Lazy<Assembly> s_assembly = new(Compile);

    /// <summary>Layer widths of model <paramref name="k"/> (1..17): input, then every layer's width; the output is the input width.</summary>
    public static (int Input, int[] Layers, int CodeIndex) Shape(int k)
    {
        if (k <= 16)
        {
            // Encoders k+224, k+192, …, k+32; code k; decoders k+16, k+48, …, k+208; output k+240.
            var layers = new List<int>();
            for (int w = k + 224; w >= k + 32; w -= 32)
            {
                layers.Add(w);
            }

            int code = layers.Count;
            layers.Add(k);
            for (int w = k + 16; w <= k + 208; w += 32)
            {
                layers.Add(w);
            }

            layers.Add(k + 240);
            return (k + 240, layers.ToArray(), code);
        }

        // 241..256 as hidden widths (inputs of a later layer): encoders 241..248, code 249, decoders 250..256, output 240.
        int[] hidden = Enumerable.Range(241, 16).ToArray();
        return (240, [.. hidden, 240], 8);
    }

    public static TheoryData<int> Models => new(Enumerable.Range(1, ModelCount));

    [Fact]
    public void The_models_cover_every_width_from_1_to_256_in_every_role()
    {
        var asOutput = new HashSet<int>();
        var asHiddenInput = new HashSet<int>();
        for (int k = 1; k <= ModelCount; k++)
        {
            (int input, int[] layers, _) = Shape(k);
            asOutput.UnionWith(layers);
            asHiddenInput.UnionWith(layers[..^1]);
            Assert.Equal(input, layers[^1]);
        }

        Assert.Equal(Enumerable.Range(1, 256), asOutput.Order());
        Assert.Equal(Enumerable.Range(1, 256), asHiddenInput.Order());
    }

    [Fact]
    public void Width_0_is_not_a_legal_declaration()
    {
        GeneratorRun run = GeneratorHarness.Run(
            "using EdgeAe;\nnamespace Demo;\n[Autoencoder(Input = 8, Loss = Loss.SquaredError)]\n[Encoder(0, Activation.Relu)]\n[Code(1, Activation.Linear)]\n[Output(Activation.Linear)]\npublic partial class Zero;\n");
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "EAE0002");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_and_batch_gradients_match_the_double_reference(int k)
    {
        var model = (IAutoencoder)Activator.CreateInstance(s_assembly.Value.GetType("Demo.Widths" + k, throwOnError: true)!)!;
        ModelTopology topology = model.Topology;
        (int inputSize, int[] widths, int codeIndex) = Shape(k);
        Assert.Equal(inputSize, topology.InputSize);
        Assert.Equal(widths, topology.Layers.Select(l => l.Width));
        Assert.Equal(codeIndex, topology.CodeLayerIndex);

        // Non-zero biases, so a bias read from the wrong column shows.
        var random = new Random(k);
        Span<float> p = model.Parameters;
        foreach (LayerInfo layer in topology.Layers)
        {
            for (int j = 0; j < layer.Width; j++)
            {
                p[layer.BiasOffset + j] = (float)(random.NextDouble() - 0.5) * 0.5f;
            }
        }

        bool bce = topology.Loss == LossKind.BinaryCrossEntropy;
        float[] inputs = Values(random, Batch * inputSize, 0f, 1f);
        float[] targets = bce ? Values(random, Batch * inputSize, 0f, 1f) : Values(random, Batch * inputSize, -1f, 1f);
        double[] parameters = p.ToArray().Select(v => (double)v).ToArray();

        // Forward, one sample at a time (Encode, Reconstruct and its loss) and as a batch (EncodeBatch).
        var codes = new float[Batch * topology.CodeSize];
        model.EncodeBatch(inputs, codes);
        var code = new float[topology.CodeSize];
        var output = new float[inputSize];
        for (int s = 0; s < Batch; s++)
        {
            float[] x = inputs.AsSpan(s * inputSize, inputSize).ToArray();
            (double[][] expected, _) = ReferenceModel.Forward(topology, parameters, ToDouble(x));
            model.Encode(x, code);
            AssertClose(expected[codeIndex], code, 1e-5, $"Widths{k} code, sample {s}");
            AssertClose(expected[codeIndex], codes.AsSpan(s * code.Length, code.Length), 1e-5, $"Widths{k} batch code, sample {s}");
            float loss = model.Reconstruct(x, output);
            AssertClose(expected[^1], output, 1e-5, $"Widths{k} reconstruction, sample {s}");
            double expectedLoss = ReferenceModel.Loss(topology, parameters, ToDouble(x), ToDouble(x));
            Assert.True(Math.Abs(loss - expectedLoss) <= 1e-5 * Math.Max(1, Math.Abs(expectedLoss)), $"Widths{k} loss {loss:R} vs reference {expectedLoss:R}");
        }

        // Batch decode and scores: each sample's single-sample result, bit for bit (the segment overlaps of every width).
        var decoded = new float[Batch * inputSize];
        var scores = new float[Batch];
        model.DecodeBatch(codes, decoded);
        model.ScoreBatch(inputs, scores);
        for (int s = 0; s < Batch; s++)
        {
            model.Decode(codes.AsSpan(s * code.Length, code.Length), output);
            Assert.True(output.AsSpan().SequenceEqual(decoded.AsSpan(s * inputSize, inputSize)), $"Widths{k} batch decode, sample {s}, differs from Decode");
            float score = model.Score(inputs.AsSpan(s * inputSize, inputSize));
            Assert.True(BitConverter.SingleToInt32Bits(score) == BitConverter.SingleToInt32Bits(scores[s]), $"Widths{k} batch score {scores[s]:R}, Score {score:R}, sample {s}");
        }

        // Batch gradients (and the per-sample path on the first sample).
        var reference = new double[parameters.Length];
        double referenceLoss = 0;
        for (int s = 0; s < Batch; s++)
        {
            referenceLoss += ReferenceModel.AccumulateGradient(topology, parameters, ToDouble(inputs.AsSpan(s * inputSize, inputSize)), ToDouble(targets.AsSpan(s * inputSize, inputSize)), reference);
        }

        model.ZeroGradients();
        float batchLoss = model.AccumulateBatchGradients(inputs, targets);
        Assert.True(Math.Abs(batchLoss - referenceLoss) <= 1e-5 * Math.Max(1, Math.Abs(referenceLoss)), $"Widths{k} batch loss {batchLoss:R} vs reference {referenceLoss:R}");
        AssertGradients(topology, reference, model.Gradients, $"Widths{k} batch of {Batch}");

        var single = new double[parameters.Length];
        ReferenceModel.AccumulateGradient(topology, parameters, ToDouble(inputs.AsSpan(0, inputSize)), ToDouble(targets.AsSpan(0, inputSize)), single);
        model.ZeroGradients();
        model.AccumulateGradients(inputs.AsSpan(0, inputSize), targets.AsSpan(0, inputSize));
        AssertGradients(topology, single, model.Gradients, $"Widths{k} one sample");
    }

    /// <summary>Each layer's weight and bias gradients within 1e-4 of the reference, relative to the largest reference value of that block.</summary>
    private static void AssertGradients(ModelTopology topology, double[] expected, ReadOnlySpan<float> actual, string what)
    {
        foreach (LayerInfo layer in topology.Layers)
        {
            foreach ((int offset, int count, string name) in new[] { (layer.WeightOffset, layer.InputWidth * layer.Width, "W"), (layer.BiasOffset, layer.Width, "b") })
            {
                double scale = 0;
                for (int i = 0; i < count; i++)
                {
                    scale = Math.Max(scale, Math.Abs(expected[offset + i]));
                }

                Assert.True(scale > 0, $"{what}: layer {layer.Role} {layer.InputWidth}→{layer.Width} has an all-zero reference {name} gradient (the test would prove nothing)");
                for (int i = 0; i < count; i++)
                {
                    double e = expected[offset + i];
                    double bound = 1e-4 * Math.Max(scale, Math.Abs(e));
                    if (!(Math.Abs(actual[offset + i] - e) <= bound))
                    {
                        Assert.Fail($"{what}: layer {layer.Role} {layer.InputWidth}→{layer.Width} g_{name}[{i}] = {actual[offset + i]:R}, reference {e:R} (bound {bound:E2})");
                    }
                }
            }
        }
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = tolerance * Math.Max(1, Math.Abs(expected[i]));
            if (!(Math.Abs(actual[i] - expected[i]) <= bound))
            {
                Assert.Fail($"{what} [{i}] of {expected.Length}: {actual[i]:R} vs reference {expected[i]:R}");
            }
        }
    }

    private static float[] Values(Random random, int count, float min, float max)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = min + (float)random.NextDouble() * (max - min);
        }

        return values;
    }

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    /// <summary>The declarations: activations cycle through sigmoid, tanh, linear and ReLU; BCE models end in sigmoid, squared-error models alternate linear and tanh outputs.</summary>
    private static string Source()
    {
        string[] activations = ["Sigmoid", "Tanh", "Linear", "Relu"];
        var text = new StringBuilder("using EdgeAe;\n\nnamespace Demo;\n");
        for (int k = 1; k <= ModelCount; k++)
        {
            (int input, int[] layers, int codeIndex) = Shape(k);
            bool bce = k % 2 == 1;
            text.Append('\n').Append($"[Autoencoder(Input = {input}, Loss = Loss.{(bce ? "BinaryCrossEntropy" : "SquaredError")}, Seed = {k}, MaxBatch = {Batch})]\n");
            for (int l = 0; l < layers.Length - 1; l++)
            {
                string kind = l < codeIndex ? "Encoder" : l == codeIndex ? "Code" : "Decoder";
                text.Append($"[{kind}({layers[l]}, Activation.{activations[(k + l) % activations.Length]})]\n");
            }

            text.Append($"[Output(Activation.{(bce ? "Sigmoid" : k % 4 == 0 ? "Linear" : "Tanh")})]\n");
            text.Append($"public partial class Widths{k};\n");
        }

        return text.ToString();
    }

    /// <summary>Generates and compiles the models in memory (optimised IL, as a Release build of a consumer).</summary>
    private static Assembly Compile()
    {
        var clock = Stopwatch.StartNew();

        // The generator, then Emit straight away (Emit reports every error; a separate GetDiagnostics would bind all bodies twice).
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Source()).WithOptions(GeneratorHarness.CompilationOptions.WithOptimizationLevel(OptimizationLevel.Release));
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out var driverDiagnostics);
        Assert.Empty(driverDiagnostics);
        long generated = clock.ElapsedMilliseconds;
        int characters = output.SyntaxTrees.Sum(t => t.Length);
        using var stream = new MemoryStream();
        EmitResult emitted = output.Emit(stream);
        Diagnostic[] problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(problems.Length == 0, string.Join(Environment.NewLine, problems.Take(20)));
        TestContext.Current.SendDiagnosticMessage($"EveryWidthTests: {ModelCount} models, {characters / 1000} k characters of generated source, generated in {generated} ms, compiled in {clock.ElapsedMilliseconds - generated} ms");
        return new AssemblyLoadContext("EdgeAe.Generators.Tests:EveryWidth").LoadFromStream(new MemoryStream(stream.ToArray()));
    }
}
