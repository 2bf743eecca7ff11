using BenchmarkDotNet.Attributes;

namespace EdgeAe.Benchmarks;

/// <summary>
/// The device-equal encoder of M1 (784 → 64): <c>EncodePortable</c>, which packet codecs, <c>compress</c>, <c>simulate</c>
/// and the edge gateway run so that a code is the firmware's bit for bit (multiply, then add, in the firmware's order),
/// against the scalar loop it replaced (the same arithmetic, one output at a time; kept here as the baseline) and the
/// desktop's fused SIMD <c>Encode</c>.
/// </summary>
[MemoryDiagnoser]
public class PortableEncoding
{
    private readonly M1Ae _model = new();
    private readonly float[] _input = new float[784];
    private readonly float[] _code = new float[64];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (int i = 0; i < _input.Length; i++)
        {
            _input[i] = (float)random.NextDouble();
        }
    }

    [Benchmark(Baseline = true, Description = "scalar loop (before), 784→64 + sigmoid")]
    public float ScalarLoop()
    {
        ReadOnlySpan<float> p = _model.Parameters;
        LayerInfo layer = M1Ae.Topology.Layers[0];
        ReadOnlySpan<float> w = p.Slice(layer.WeightOffset, 784 * 64);
        p.Slice(layer.BiasOffset, 64).CopyTo(_code);
        for (int i = 0; i < 784; i++)
        {
            float xi = _input[i];
            ReadOnlySpan<float> row = w.Slice(i * 64, 64);
            for (int j = 0; j < 64; j++)
            {
                _code[j] += xi * row[j];
            }
        }

        for (int j = 0; j < 64; j++)
        {
            _code[j] = 1f / (1f + MathF.Exp(-_code[j]));
        }

        return _code[63];
    }

    [Benchmark(Description = "EncodePortable (device-equal)")]
    public float Portable()
    {
        _model.EncodePortable(_input, _code);
        return _code[63];
    }

    [Benchmark(Description = "Encode (desktop SIMD, FMA)")]
    public float Simd()
    {
        _model.Encode(_input, _code);
        return _code[63];
    }
}
