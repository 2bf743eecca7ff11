using EdgeAe.Anomaly;
using EdgeAe.Data;
using EdgeAe.Tests.Training;

namespace EdgeAe.Tests;

/// <summary>DecodeBatch and ScoreBatch give each sample's single-sample result bit for bit.</summary>
public sealed class BatchInferenceTests
{
    public static TheoryData<string> Names => TestModels.Names;

    [Theory]
    [MemberData(nameof(Names))]
    public void Batch_decode_and_scores_equal_the_single_sample_ones_bit_for_bit(string name)
    {
        IAutoencoder model = TestModels.Create(name);
        TestModels.PerturbBiases(model, 7);
        int width = model.Topology.InputSize, codeSize = model.Topology.CodeSize, max = model.Topology.MaxBatchSize;
        Dataset data = DataParallelTests.Data(model, max, seed: 5);
        float[] inputs = data.Values.ToArray();
        var codes = new float[max * codeSize];
        for (int s = 0; s < max; s++)
        {
            model.Encode(inputs.AsSpan(s * width, width), codes.AsSpan(s * codeSize, codeSize));
        }

        var expectedOutputs = new float[max * width];
        var expectedScores = new float[max];
        for (int s = 0; s < max; s++)
        {
            model.Decode(codes.AsSpan(s * codeSize, codeSize), expectedOutputs.AsSpan(s * width, width));
            expectedScores[s] = model.Score(inputs.AsSpan(s * width, width));
        }

        // Every batch size from 1 to MaxBatch (tiles of every height and the single-row tail), from every start.
        foreach (int count in new[] { 1, 2, 3, 4, 5, 7, max - 1, max }.Where(c => c >= 1 && c <= max).Distinct())
        {
            int start = max - count;
            var outputs = new float[count * width];
            var scores = new float[count];
            model.DecodeBatch(codes.AsSpan(start * codeSize, count * codeSize), outputs);
            model.ScoreBatch(inputs.AsSpan(start * width, count * width), scores);
            Assert.Equal(Bits(expectedOutputs.AsSpan(start * width, count * width)), Bits(outputs));
            Assert.Equal(Bits(expectedScores.AsSpan(start, count)), Bits(scores));
        }
    }

    [Fact]
    public void AnomalyScore_in_blocks_of_the_largest_batch_equals_Score()
    {
        IAutoencoder model = TestModels.Create(nameof(Models.TiedTailsAe)); // MaxBatch 13
        IAutoencoder untied = TestModels.Create(nameof(Models.DigitsAe));
        foreach (IAutoencoder m in new[] { model, untied })
        {
            TestModels.PerturbBiases(m, 3);
            int width = m.Topology.InputSize;
            const int count = 3 * 64 + 5;
            float[] inputs = DataParallelTests.Data(m, count, seed: 9).Values.ToArray();
            var scores = new float[count];
            AnomalyScore.ScoreBatch(m, inputs, scores);
            for (int s = 0; s < count; s++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(m.Score(inputs.AsSpan(s * width, width))), BitConverter.SingleToInt32Bits(scores[s]));
            }
        }
    }

    [Fact]
    public void Batches_outside_1_to_MaxBatch_or_of_partial_samples_are_refused_by_parameter()
    {
        IAutoencoder model = new Models.DigitsAe();
        int width = model.Topology.InputSize, code = model.Topology.CodeSize, max = model.Topology.MaxBatchSize;
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => model.DecodeBatch([], new float[width])).ParamName);
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => model.DecodeBatch(new float[(max + 1) * code], new float[(max + 1) * width])).ParamName);
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => model.DecodeBatch(new float[code + 1], new float[width])).ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => model.DecodeBatch(new float[2 * code], new float[width])).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => model.ScoreBatch(new float[(max + 1) * width], new float[max + 1])).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => model.ScoreBatch(new float[width - 1], new float[1])).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => model.ScoreBatch(new float[2 * width], new float[1])).ParamName);

        // The interface's own loop (an int8 model's) checks the same way.
        IAutoencoder int8 = TestModels.Int8[nameof(Models.DigitsAe)]();
        Assert.Equal("codes", Assert.Throws<ArgumentException>(() => int8.DecodeBatch(new float[(max + 1) * code], new float[(max + 1) * width])).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => int8.ScoreBatch(new float[2 * width], new float[3])).ParamName);
    }

    private static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        }

        return bits;
    }
}
