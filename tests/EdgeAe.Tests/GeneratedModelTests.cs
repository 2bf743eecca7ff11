using EdgeAe.Tests.Models;

namespace EdgeAe.Tests;

/// <summary>The generated forward pass and backprop against the double-precision reference.</summary>
public sealed class GeneratedModelTests
{
    [Theory]
    [MemberData(nameof(TestModels.Names), MemberType = typeof(TestModels))]
    public void Forward_matches_the_double_precision_reference(string name)
    {
        IAutoencoder model = TestModels.Create(name);
        TestModels.PerturbBiases(model, 5);
        ModelTopology topology = model.Topology;
        double[] parameters = ToDouble(model.Parameters);
        for (int sample = 0; sample < 5; sample++)
        {
            float[] input = TestModels.RandomInput(model, sample);
            (double[][] expected, _) = ReferenceModel.Forward(topology, parameters, ToDouble(input));

            var code = new float[topology.CodeSize];
            model.Encode(input, code);
            AssertClose(expected[topology.CodeLayerIndex], code, 1e-5);

            var output = new float[topology.InputSize];
            float loss = model.Reconstruct(input, output);
            AssertClose(expected[^1], output, 1e-5);
            double expectedLoss = ReferenceModel.Loss(topology, parameters, ToDouble(input), ToDouble(input));
            Assert.InRange(loss, expectedLoss - 1e-5 * Math.Max(1, Math.Abs(expectedLoss)), expectedLoss + 1e-5 * Math.Max(1, Math.Abs(expectedLoss)));

            // Decode of the code gives the same reconstruction as Reconstruct.
            var decoded = new float[topology.InputSize];
            model.Decode(code, decoded);
            Assert.Equal(output, decoded);
        }
    }

    [Theory]
    [MemberData(nameof(TestModels.Names), MemberType = typeof(TestModels))]
    public void Reconstruct_writes_the_output_in_place_and_agrees_with_Evaluate(string name)
    {
        IAutoencoder model = TestModels.Create(name);
        TestModels.PerturbBiases(model, 9);
        float[] input = TestModels.RandomInput(model, 3);
        var output = new float[input.Length];
        float loss = model.Reconstruct(input, output);
        Assert.Equal(loss, model.Evaluate(input, input));

        // The output span may be the input itself: every output is written after its input and target were read.
        float[] inPlace = (float[])input.Clone();
        Assert.Equal(loss, model.Reconstruct(inPlace, inPlace));
        Assert.Equal(output, inPlace);
    }

    [Theory]
    [MemberData(nameof(TestModels.Small), MemberType = typeof(TestModels))]
    public void Gradients_match_central_finite_differences_of_the_reference(string name)
    {
        IAutoencoder model = TestModels.Create(name);
        TestModels.PerturbBiases(model, 7);
        ModelTopology topology = model.Topology;
        double[] parameters = ToDouble(model.Parameters);
        for (int sample = 0; sample < 3; sample++)
        {
            float[] input = TestModels.RandomInput(model, 100 + sample);
            float[] target = TestModels.RandomInput(model, 200 + sample);
            model.ZeroGradients();
            float loss = model.AccumulateGradients(input, target);
            double referenceLoss = ReferenceModel.Loss(topology, parameters, ToDouble(input), ToDouble(target));
            Assert.True(Math.Abs(loss - referenceLoss) <= 1e-5 * Math.Max(1, Math.Abs(referenceLoss)), $"loss {loss} vs reference {referenceLoss}");

            double[] expected = ReferenceModel.FiniteDifferenceGradient(topology, parameters, ToDouble(input), ToDouble(target));
            ReadOnlySpan<float> actual = model.Gradients;
            int checkedParameters = 0;
            foreach (LayerInfo layer in topology.Layers.Where(l => !l.IsTied))
            {
                for (int k = 0; k < layer.WeightCount; k++)
                {
                    AssertGradient(expected[layer.WeightOffset + k], actual[layer.WeightOffset + k], $"{name} W{layer.Role}[{k}]");
                    checkedParameters++;
                }

            }

            foreach (LayerInfo layer in topology.Layers)
            {
                for (int j = 0; j < layer.Width; j++)
                {
                    AssertGradient(expected[layer.BiasOffset + j], actual[layer.BiasOffset + j], $"{name} b{layer.Role}[{j}]");
                    checkedParameters++;
                }
            }

            Assert.Equal(topology.ParameterCount, checkedParameters);
        }
    }

    [Fact]
    public void Gradients_accumulate_until_zeroed()
    {
        var model = new DeepBceAe();
        float[] input = TestModels.RandomInput(model, 1);
        model.ZeroGradients();
        model.AccumulateGradients(input, input);
        float[] once = model.Gradients.ToArray();
        model.AccumulateGradients(input, input);
        float[] twice = model.Gradients.ToArray();
        for (int k = 0; k < once.Length; k++)
        {
            Assert.Equal(2 * once[k], twice[k], 1e-6f * Math.Max(1, Math.Abs(twice[k])));
        }

        model.ZeroGradients();
        Assert.All(model.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Train_step_applies_plain_sgd_to_every_parameter()
    {
        var model = new DeepSquaredErrorAe();
        float[] input = TestModels.RandomInput(model, 3);
        float[] before = model.Parameters.ToArray();
        model.ZeroGradients();
        model.AccumulateGradients(input, input);
        float[] gradient = model.Gradients.ToArray();
        const float learningRate = 0.05f;
        model.TrainStep(input, learningRate);
        float[] after = model.Parameters.ToArray();
        for (int k = 0; k < before.Length; k++)
        {
            Assert.Equal(before[k] - learningRate * gradient[k], after[k]);
        }
    }

    [Fact]
    public void Same_seed_gives_same_parameters_and_different_seeds_differ()
    {
        Assert.Equal(new DigitsAe().Parameters.ToArray(), new DigitsAe().Parameters.ToArray());
        Assert.Equal(new DigitsAe(DigitsAe.DeclaredSeed).Parameters.ToArray(), new DigitsAe().Parameters.ToArray());
        Assert.NotEqual(new DigitsAe(2).Parameters.ToArray(), new DigitsAe().Parameters.ToArray());
    }

    [Fact]
    public void Initialisation_follows_glorot_and_he_limits_with_zero_biases()
    {
        var model = new DeepBceAe();
        ReadOnlySpan<float> p = model.Parameters;
        foreach (LayerInfo layer in DeepBceAe.Topology.Layers)
        {
            double limit = layer.Activation == ActivationKind.Relu
                ? Math.Sqrt(6.0 / layer.InputWidth)
                : Math.Sqrt(6.0 / (layer.InputWidth + layer.Width));
            ReadOnlySpan<float> weights = p.Slice(layer.WeightOffset, layer.WeightCount);
            foreach (float weight in weights)
            {
                Assert.InRange(weight, -limit, limit);
            }

            Assert.True(weights.ToArray().Distinct().Count() == weights.Length, "weights are distinct draws");
            Assert.All(p.Slice(layer.BiasOffset, layer.Width).ToArray(), b => Assert.Equal(0f, b));
        }
    }

    [Fact]
    public void Uniform_fan_in_initialisation_draws_weights_and_biases_within_one_over_root_fan_in()
    {
        var model = new FanInTiedAe();
        ReadOnlySpan<float> p = model.Parameters;
        foreach (LayerInfo layer in FanInTiedAe.Topology.Layers)
        {
            double bound = 1 / Math.Sqrt(layer.InputWidth);
            float[] biases = p.Slice(layer.BiasOffset, layer.Width).ToArray();
            Assert.All(biases, b => Assert.InRange(b, -bound, bound));
            Assert.Equal(layer.Width, biases.Distinct().Count());
            if (!layer.IsTied)
            {
                float[] weights = p.Slice(layer.WeightOffset, layer.WeightCount).ToArray();
                Assert.All(weights, w => Assert.InRange(w, -bound, bound));
                Assert.True(weights.Max() > 0.8 * bound && weights.Min() < -0.8 * bound, "the draws fill the interval");
            }
        }

        Assert.Equal(model.Parameters.ToArray(), new FanInTiedAe().Parameters.ToArray());
    }

    [Fact]
    public void Constants_describe_the_declaration()
    {
        Assert.Equal(64, DigitsAe.InputSize);
        Assert.Equal(16, DigitsAe.CodeSize);
        Assert.Equal(2, DigitsAe.LayerCount);
        Assert.Equal(64 * 16 + 16 + 16 * 64 + 64, DigitsAe.ParameterCount);
        Assert.Equal(DigitsAe.ParameterBufferLength * 4, DigitsAe.ParameterBytes);
        Assert.Equal(DigitsAe.WorkspaceLength * DigitsAe.MaxBatchSize * 4, DigitsAe.WorkspaceBytes);
        Assert.Equal(64, DigitsAe.MaxBatchSize);
        Assert.Equal(DigitsAe.ParameterCount, DigitsAe.Topology.ParameterCount);
        Assert.Equal(7, DeepBceAe.InputSize);
        Assert.Equal(3, DeepBceAe.CodeSize);
        Assert.Equal(6, DeepBceAe.LayerCount);
        Assert.Equal(128, OverCompleteAe.CodeSize);

        // Every tensor starts on a 64-byte boundary and tensors do not overlap.
        var tensors = DeepBceAe.Topology.Layers
            .SelectMany(l => new[] { (Start: l.WeightOffset, Length: l.WeightCount), (Start: l.BiasOffset, Length: l.Width) })
            .OrderBy(t => t.Start).ToArray();
        for (int t = 0; t < tensors.Length; t++)
        {
            Assert.Equal(0, tensors[t].Start % 16);
            int end = t + 1 < tensors.Length ? tensors[t + 1].Start : DeepBceAe.ParameterBufferLength;
            Assert.True(tensors[t].Start + tensors[t].Length <= end);
        }
    }

    [Fact]
    public unsafe void Parameter_buffer_is_64_byte_aligned()
    {
        var model = new DigitsAe();
        fixed (float* p = model.Parameters)
        {
            Assert.Equal(0, (long)p % 64);
        }

        fixed (float* g = model.Gradients)
        {
            Assert.Equal(0, (long)g % 64);
        }
    }

    [Fact]
    public void Binary_cross_entropy_stays_finite_for_saturated_outputs()
    {
        var model = new BceSigmoidCode();
        Span<float> p = model.Parameters;
        LayerInfo output = BceSigmoidCode.Topology.Layers[^1];
        // Huge output biases drive σ(z) to exactly 0 and 1 in float.
        for (int j = 0; j < output.Width; j++)
        {
            p[output.BiasOffset + j] = j % 2 == 0 ? 200f : -200f;
        }

        float[] input = [0f, 1f, 1f, 0f, 0.5f, 0.5f];
        var reconstruction = new float[6];
        float loss = model.Reconstruct(input, reconstruction);
        Assert.True(float.IsFinite(loss), $"loss {loss}");
        Assert.Equal(1f, reconstruction[0]);
        Assert.Equal(0f, reconstruction[1]);

        // Elements 0 and 1 are maximally wrong (≈200 each), 2 and 3 right (≈0), 4 and 5 cost ≈100 each (z ≈ ±200 give |z|·½).
        Assert.InRange(loss, 590f, 610f);
        model.ZeroGradients();
        model.AccumulateGradients(input, input);
        Assert.All(model.Gradients.ToArray(), g => Assert.True(float.IsFinite(g)));
    }

    private static void AssertGradient(double expected, float actual, string what)
    {
        double error = Math.Abs(actual - expected) / Math.Max(Math.Max(Math.Abs(expected), Math.Abs(actual)), 1e-4);
        Assert.True(error < 1e-3, $"{what}: analytical {actual:R} vs finite difference {expected:R} (relative error {error:E2})");
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = tolerance * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"[{i}]: {actual[i]:R} vs reference {expected[i]:R}");
        }
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
}
