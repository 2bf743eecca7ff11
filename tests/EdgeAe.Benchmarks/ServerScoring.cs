using BenchmarkDotNet.Attributes;

namespace EdgeAe.Benchmarks;

/// <summary>
/// What <c>serve</c> computes for 64 received codes of M1 (784 → 64 → 784): the decoded sample x̂ = Decode(code) and its
/// anomaly score Score(x̂). Per sample (the single-sample calls, 64 times) against the batch calls
/// (<see cref="IAutoencoder.DecodeBatch"/>, <see cref="IAutoencoder.ScoreBatch"/>), which give the same floats bit for
/// bit: the batch products read each weight once per tile of samples instead of once per sample.
/// </summary>
[MemoryDiagnoser]
public class ServerScoring
{
    private const int Count = 64;
    private readonly IAutoencoder _model = new M1Ae();
    private float[] _codes = null!;
    private float[] _samples = null!;
    private float[] _scores = null!;

    [GlobalSetup]
    public void Setup()
    {
        int width = _model.Topology.InputSize, code = _model.Topology.CodeSize;
        var random = new Random(1);
        var input = new float[width];
        _codes = new float[Count * code];
        for (int s = 0; s < Count; s++)
        {
            for (int i = 0; i < width; i++)
            {
                input[i] = (float)random.NextDouble();
            }

            _model.Encode(input, _codes.AsSpan(s * code, code));
        }

        _samples = new float[Count * width];
        _scores = new float[Count];
    }

    [Benchmark(Baseline = true, Description = "Decode + Score, 64 single samples")]
    public float PerSample()
    {
        int width = _model.Topology.InputSize, code = _model.Topology.CodeSize;
        for (int s = 0; s < Count; s++)
        {
            Span<float> sample = _samples.AsSpan(s * width, width);
            _model.Decode(_codes.AsSpan(s * code, code), sample);
            _scores[s] = _model.Score(sample);
        }

        return _scores[Count - 1];
    }

    [Benchmark(Description = "DecodeBatch + ScoreBatch, 64")]
    public float Batched()
    {
        _model.DecodeBatch(_codes, _samples);
        _model.ScoreBatch(_samples, _scores);
        return _scores[Count - 1];
    }
}
