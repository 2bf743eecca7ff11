using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.Tests.Models;
using EdgeAe.Tests.Training;

namespace EdgeAe.Tests;

/// <summary>Parallel batch inference gives exactly the sequential results.</summary>
public sealed class ParallelInferenceTests
{
    [Theory]
    [InlineData(nameof(DigitsAe), 1)]
    [InlineData(nameof(DigitsAe), 2)]
    [InlineData(nameof(DigitsAe), 3)]
    [InlineData(nameof(TiedTailsAe), 4)]      // MaxBatch 13: blocks of 13 shared out
    [InlineData(nameof(WideAe), 2)]
    [InlineData(nameof(DeepSquaredErrorAe), 5)]
    public void Encode_reconstruct_and_score_equal_the_sequential_results(string name, int degree)
    {
        IAutoencoder model = TestModels.Create(name);
        TestModels.PerturbBiases(model, 3);
        int width = model.Topology.InputSize, code = model.Topology.CodeSize, block = model.Topology.MaxBatchSize;
        const int count = 301; // not a multiple of any MaxBatch here
        Dataset data = DataParallelTests.Data(model, count, seed: 11);
        float[] inputs = data.Values.ToArray();

        // Sequential: MaxBatch blocks through EncodeBatch; Reconstruct and Score per sample.
        var codes = new float[count * code];
        var outputs = new float[count * width];
        var losses = new float[count];
        var scores = new float[count];
        for (int start = 0; start < count; start += block)
        {
            int n = Math.Min(block, count - start);
            model.EncodeBatch(inputs.AsSpan(start * width, n * width), codes.AsSpan(start * code, n * code));
        }

        for (int i = 0; i < count; i++)
        {
            losses[i] = model.Reconstruct(inputs.AsSpan(i * width, width), outputs.AsSpan(i * width, width));
            scores[i] = model.Score(inputs.AsSpan(i * width, width));
        }

        IReadOnlyList<IAutoencoder> replicas = ParallelInference.Replicas(model, () => TestModels.Create(name), degree);
        Assert.Equal(degree, replicas.Count);
        var parallelCodes = new float[codes.Length];
        var parallelOutputs = new float[outputs.Length];
        var parallelLosses = new float[count];
        var parallelScores = new float[count];
        ParallelInference.EncodeBatch(replicas, inputs, parallelCodes);
        ParallelInference.ReconstructBatch(replicas, inputs, parallelOutputs, parallelLosses);
        ParallelInference.ScoreBatch(replicas, inputs, parallelScores);

        Assert.Equal(Bits(codes), Bits(parallelCodes));
        Assert.Equal(Bits(outputs), Bits(parallelOutputs));
        Assert.Equal(Bits(losses), Bits(parallelLosses));
        Assert.Equal(Bits(scores), Bits(parallelScores));
    }

    [Theory]
    [InlineData(nameof(DigitsAe), 2)]
    [InlineData(nameof(DeepSquaredErrorAe), 3)]
    public void Replicas_of_an_int8_model_run_its_int8_parameters(string name, int degree)
    {
        // An int8 model has no float parameters to copy: its replicas load the same int8 parameters instead.
        (IAutoencoder _, EdgeAe.Quantization.QuantizedAutoencoder int8, EdgeAe.Quantization.QuantizedParameters parameters, Dataset data) = Quantization.Int8ModelTests.Quantized(name);
        float[] inputs = data.Values.ToArray();
        var scores = new float[data.Count];
        var codes = new float[data.Count * int8.Topology.CodeSize];
        AnomalyScoreOf(int8, inputs, scores);
        int8.EncodeBatch(inputs, codes);

        IReadOnlyList<IAutoencoder> replicas = ParallelInference.Replicas(int8, () => TestModels.Int8[name](), degree);
        Assert.All(replicas.Skip(1), r => Assert.Same(parameters, ((EdgeAe.Quantization.IQuantizedAutoencoder)r).Quantization));
        var parallelScores = new float[scores.Length];
        var parallelCodes = new float[codes.Length];
        ParallelInference.ScoreBatch(replicas, inputs, parallelScores);
        ParallelInference.EncodeBatch(replicas, inputs, parallelCodes);
        Assert.Equal(Bits(scores), Bits(parallelScores));
        Assert.Equal(Bits(codes), Bits(parallelCodes));

        // A float factory for an int8 model (or the reverse) is refused by name.
        Assert.Equal("create", Assert.Throws<ArgumentException>(() => ParallelInference.Replicas(int8, () => TestModels.Create(name), 2)).ParamName);
        Assert.Equal("create", Assert.Throws<ArgumentException>(() => ParallelInference.Replicas(TestModels.Create(name), () => TestModels.Int8[name](), 2)).ParamName);
    }

    private static void AnomalyScoreOf(IAutoencoder model, float[] inputs, float[] scores)
    {
        int width = model.Topology.InputSize;
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = model.Score(inputs.AsSpan(i * width, width));
        }
    }

    [Fact]
    public void One_instance_twice_is_refused_by_name()
    {
        var model = new DigitsAe();
        var error = Assert.Throws<ArgumentException>(() => ParallelInference.ScoreBatch([model, model], new float[64 * 4], new float[4]));
        Assert.Contains("same object", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => ParallelInference.ScoreBatch([new DigitsAe(), new DigitsAe()], new float[64 * 4], new float[3]));
        Assert.Equal("scores", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => ParallelInference.Replicas(model, () => new OverCompleteAe(), 2));
        Assert.Equal("create", error.ParamName);
    }

    [Fact]
    public void A_worker_exception_surfaces_as_itself()
    {
        var error = Assert.Throws<ArgumentException>(() => ParallelInference.EncodeBatch([new DigitsAe(), new DigitsAe()], new float[64 * 200], new float[200 * 16 - 1]));
        Assert.Equal("codes", error.ParamName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void DecodeBatch_across_codecs_equals_the_sequential_decode(int degree)
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x1234);
        Dataset digits = BundledData.Digits();
        const int count = 250;
        var bytes = new List<byte>();
        for (int i = 0; i < count; i++)
        {
            // Both packet versions, so the ranges start at uneven byte offsets.
            var packet = new byte[i % 3 == 0 ? codec.PacketLength : codec.SequencedPacketLength];
            if (i % 3 == 0)
            {
                codec.Encode(digits[i], packet);
            }
            else
            {
                codec.Encode(digits[i], (uint)i, packet);
            }

            bytes.AddRange(packet);
        }

        byte[] all = [.. bytes];
        var sequential = new float[count * 64];
        Assert.Equal(count, codec.DecodeBatch(all, sequential));

        // A model batch at a time (several MaxBatch blocks here), each reconstruction is Decode's bit for bit.
        var one = new float[64];
        for (int i = 0, offset = 0; i < count; i++)
        {
            int length = i % 3 == 0 ? codec.PacketLength : codec.SequencedPacketLength;
            codec.Decode(all.AsSpan(offset, length), one);
            Assert.Equal(Bits(one), Bits(sequential.AsSpan(i * 64, 64).ToArray()));
            offset += length;
        }

        IReadOnlyList<PacketCodec> codecs = ParallelInference.Replicas(model, () => new CodecDigitsAe(), degree).Select(codec.WithModel).ToArray();
        var parallel = new float[count * 64];
        Assert.Equal(count, PacketCodec.DecodeBatch(codecs, all, parallel));
        Assert.Equal(Bits(sequential), Bits(parallel));

        // A bad packet is the same error as the sequential call's, before anything is decoded.
        byte[] corrupt = (byte[])all.Clone();
        corrupt[codec.PacketLength + 5] ^= 0x40;
        PacketException sequentialError = Assert.Throws<PacketException>(() => codec.DecodeBatch(corrupt, sequential));
        PacketException parallelError = Assert.Throws<PacketException>(() => PacketCodec.DecodeBatch(codecs, corrupt, parallel));
        Assert.Equal((sequentialError.Reason, sequentialError.PacketIndex), (parallelError.Reason, parallelError.PacketIndex));
        parallelError = Assert.Throws<PacketException>(() => PacketCodec.DecodeBatch(codecs, all[..^3], parallel));
        Assert.Equal((PacketErrorReason.Truncated, (long)count - 1), (parallelError.Reason, parallelError.PacketIndex));
    }

    private static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);
}
