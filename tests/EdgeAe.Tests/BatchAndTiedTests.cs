using EdgeAe.Tests.Models;

namespace EdgeAe.Tests;

/// <summary>Batch-shaped training and tied weights.</summary>
public sealed class BatchAndTiedTests
{
    [Theory]
    [MemberData(nameof(TestModels.Names), MemberType = typeof(TestModels))]
    public void Batch_gradients_equal_the_sum_of_per_sample_gradients(string name)
    {
        IAutoencoder model = TestModels.Create(name);
        TestModels.PerturbBiases(model, 3);
        int count = Math.Min(5, model.Topology.MaxBatchSize);
        int width = model.Topology.InputSize;
        var inputs = new float[count * width];
        var targets = new float[count * width];
        for (int s = 0; s < count; s++)
        {
            TestModels.RandomInput(model, 10 + s).CopyTo(inputs, s * width);
            TestModels.RandomInput(model, 20 + s).CopyTo(targets, s * width);
        }

        model.ZeroGradients();
        double expectedLoss = 0;
        for (int s = 0; s < count; s++)
        {
            expectedLoss += model.AccumulateGradients(inputs.AsSpan(s * width, width), targets.AsSpan(s * width, width));
        }

        float[] expected = model.Gradients.ToArray();
        model.ZeroGradients();
        float loss = model.AccumulateBatchGradients(inputs, targets);
        float[] actual = model.Gradients.ToArray();

        Assert.Equal(expectedLoss, loss, 1e-4 * Math.Max(1, Math.Abs(expectedLoss)));
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[k])), $"{name} gradient [{k}]: per-sample {expected[k]} vs batch {actual[k]}");
        }
    }

    [Fact]
    public void Train_batch_applies_the_mean_gradient()
    {
        var model = new DeepSquaredErrorAe();
        var inputs = new float[3 * 9];
        for (int s = 0; s < 3; s++)
        {
            TestModels.RandomInput(model, s).CopyTo(inputs, s * 9);
        }

        float[] before = model.Parameters.ToArray();
        model.ZeroGradients();
        float summed = model.AccumulateBatchGradients(inputs, inputs);
        float[] gradient = model.Gradients.ToArray();
        float mean = model.TrainBatch(inputs, inputs, 0.1f);
        Assert.Equal(summed / 3, mean, 1e-6f);
        float[] after = model.Parameters.ToArray();
        for (int k = 0; k < before.Length; k++)
        {
            Assert.Equal(before[k] - 0.1f / 3 * gradient[k], after[k], 1e-7f);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(9 * 65)]
    public void A_batch_that_is_empty_ragged_or_too_large_is_rejected(int floats)
    {
        var model = new DeepSquaredErrorAe();
        var inputs = new float[floats];
        var exception = Assert.Throws<ArgumentException>(() => model.AccumulateBatchGradients(inputs, inputs));
        Assert.Equal("inputs", exception.ParamName);
        Assert.Contains("Expected a batch of 1 to 64 samples of 9 floats", exception.Message);
        Assert.Contains($"found {floats} floats", exception.Message);
    }

    [Fact]
    public void Batch_training_allocates_nothing()
    {
        var model = new DeepBceAe();
        var inputs = new float[64 * DeepBceAe.InputSize];
        new Random(1).NextBytes(new byte[1]);
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (i % 13) / 13f;
        }

        model.TrainBatch(inputs, inputs, 0.01f);
        Allocations.AssertNoneOnThisThread(() =>
        {
            for (int k = 0; k < 200; k++)
            {
                model.TrainBatch(inputs, inputs, 0.01f);
            }
        });
    }

    [Fact]
    public void Tied_decoder_layers_share_the_encoder_weights_and_own_only_biases()
    {
        ModelTopology topology = TiedDeepAe.Topology;
        Assert.True(topology.TiedWeights);
        LayerInfo encoder0 = topology.Layers[0];
        LayerInfo code = topology.Layers[1];
        LayerInfo decoder = topology.Layers[2];
        LayerInfo output = topology.Layers[3];
        Assert.Equal(1, decoder.TiedTo);
        Assert.Equal(0, output.TiedTo);
        Assert.Equal(code.WeightOffset, decoder.WeightOffset);
        Assert.Equal(encoder0.WeightOffset, output.WeightOffset);

        // 8·6 + 6 + 6·4 + 4 owned by the encoder side, only biases (6 + 8) on the decoder side.
        Assert.Equal(8 * 6 + 6 + 6 * 4 + 4 + 6 + 8, TiedDeepAe.ParameterCount);

        // Changing an encoder weight changes the reconstruction through both uses.
        var model = new TiedDeepAe();
        float[] input = TestModels.RandomInput(model, 4);
        var before = new float[8];
        model.Reconstruct(input, before);
        model.Parameters[encoder0.WeightOffset] += 0.5f;
        var after = new float[8];
        model.Reconstruct(input, after);
        Assert.NotEqual(before, after);
    }
}
