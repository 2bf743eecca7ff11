using EdgeAe.Data;

namespace EdgeAe.Compression;

/// <summary>
/// Uniform scalar quantisation of the code layer: each code value j is mapped from its range
/// [<see cref="Min"/>[j], <see cref="Max"/>[j]] onto the integers 0 … 2^bits − 1 and back.
/// The arithmetic is spelled out (float32, no fused operations) so that the generated firmware
/// flavour computes bit-identical integers: <c>t = (v − min)·scale</c> with
/// <c>scale = levels / (max − min)</c>; q = 0 if t is not above 0 (NaN included), <c>levels</c> if
/// t ≥ levels, else (int)(t + 0.5). Dequantisation is <c>min + q·step</c>, <c>step = (max − min) / levels</c>.
/// A value inside its range comes back off by at most step/2 = R/(2·(2^bits − 1)) (plus float rounding);
/// a value outside is clamped to the range first.
/// </summary>
public sealed class CodeQuantizer
{
    private readonly float[] _min;
    private readonly float[] _max;
    private readonly float[] _scale;
    private readonly float[] _step;

    /// <summary>A quantiser with the given bits (8 or 16) and per-value ranges (finite, max &gt; min).</summary>
    public CodeQuantizer(int bits, ReadOnlySpan<float> min, ReadOnlySpan<float> max)
    {
        if (bits is not (8 or 16))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "Code values are packed to 8 or 16 bits.");
        }

        if (min.Length == 0 || min.Length != max.Length)
        {
            throw new ArgumentException($"Expected as many maxima as minima, at least one ({min.Length} minima, {max.Length} maxima).", nameof(max));
        }

        Bits = bits;
        Levels = (1 << bits) - 1;
        _min = min.ToArray();
        _max = max.ToArray();
        _scale = new float[min.Length];
        _step = new float[min.Length];
        for (int j = 0; j < min.Length; j++)
        {
            if (!float.IsFinite(min[j]) || !float.IsFinite(max[j]) || !(max[j] > min[j]))
            {
                throw new ArgumentException($"The range [{min[j]}, {max[j]}] of code value {j} is not a finite interval with max > min.", nameof(max));
            }

            _scale[j] = Levels / (_max[j] - _min[j]);
            _step[j] = (_max[j] - _min[j]) / Levels;
        }
    }

    /// <summary>Bits per code value: 8 or 16.</summary>
    public int Bits { get; }

    /// <summary>2^bits − 1: the largest quantised value.</summary>
    public int Levels { get; }

    /// <summary>Number of code values.</summary>
    public int CodeSize => _min.Length;

    /// <summary>Bytes the packed code takes: CodeSize · Bits / 8.</summary>
    public int PayloadBytes => CodeSize * (Bits / 8);

    /// <summary>The lower end of each code value's range.</summary>
    public ReadOnlySpan<float> Min => _min;

    /// <summary>The upper end of each code value's range.</summary>
    public ReadOnlySpan<float> Max => _max;

    /// <summary>The largest error a value inside its range suffers: (max − min) / (2·levels), per code value.</summary>
    public double MaxError(int index) => ((double)_max[index] - _min[index]) / (2.0 * Levels);

    /// <summary>
    /// The known range of a bounded code activation: [0, 1] for sigmoid, [−1, 1] for tanh; null for linear and
    /// ReLU codes, whose range is learned from data (<see cref="Measure"/>).
    /// </summary>
    public static CodeQuantizer? ForActivation(ActivationKind activation, int codeSize, int bits)
    {
        (float low, float high) = activation switch
        {
            ActivationKind.Sigmoid => (0f, 1f),
            ActivationKind.Tanh => (-1f, 1f),
            _ => (float.NaN, float.NaN),
        };
        if (float.IsNaN(low))
        {
            return null;
        }

        return new CodeQuantizer(bits, Enumerable.Repeat(low, codeSize).ToArray(), Enumerable.Repeat(high, codeSize).ToArray());
    }

    /// <summary>
    /// The quantiser for <paramref name="model"/>'s code: the known range of a sigmoid or tanh code, else each code
    /// value's minimum and maximum over <paramref name="data"/> (normalised inputs, e.g. the training set after training).
    /// </summary>
    public static CodeQuantizer For(IAutoencoder model, ISampleSource data, int bits)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelTopology topology = model.Topology;
        return ForActivation(topology.Layers[topology.CodeLayerIndex].Activation, topology.CodeSize, bits) ?? Measure(model, data, bits);
    }

    /// <summary>
    /// Each code value's minimum and maximum over <paramref name="data"/>. A value that never varies (a dead ReLU)
    /// gets the range [v, v + 1], so it still round-trips exactly (q = 0 decodes to v).
    /// </summary>
    public static CodeQuantizer Measure(IAutoencoder model, ISampleSource data, int bits)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0)
        {
            throw new ArgumentException("The code range needs at least one sample.", nameof(data));
        }

        int width = model.Topology.CodeSize;
        var code = new float[width];
        var min = Enumerable.Repeat(float.PositiveInfinity, width).ToArray();
        var max = Enumerable.Repeat(float.NegativeInfinity, width).ToArray();
        for (int i = 0; i < data.Count; i++)
        {
            model.Encode(data[i], code);
            for (int j = 0; j < width; j++)
            {
                if (!float.IsFinite(code[j]))
                {
                    throw new ArgumentException($"Sample {i} gives the non-finite code value {code[j]} at {j}.", nameof(data));
                }

                min[j] = Math.Min(min[j], code[j]);
                max[j] = Math.Max(max[j], code[j]);
            }
        }

        for (int j = 0; j < width; j++)
        {
            if (!(max[j] > min[j]))
            {
                max[j] = min[j] + 1f;
            }
        }

        return new CodeQuantizer(bits, min, max);
    }

    /// <summary>Quantises one code value (see the class remarks for the exact arithmetic).</summary>
    public int Quantize(int index, float value)
    {
        float t = (value - _min[index]) * _scale[index];
        if (!(t > 0f))
        {
            return 0;
        }

        if (t >= Levels)
        {
            return Levels;
        }

        return (int)(t + 0.5f);
    }

    /// <summary>The value a quantised integer stands for: min + q·step.</summary>
    public float Dequantize(int index, int q) => _min[index] + (q * _step[index]);

    /// <summary>Packs <paramref name="code"/> into <see cref="PayloadBytes"/> bytes (16-bit values little-endian).</summary>
    public void Pack(ReadOnlySpan<float> code, Span<byte> payload)
    {
        CheckLength(code.Length, CodeSize, nameof(code));
        CheckLength(payload.Length, PayloadBytes, nameof(payload));
        for (int j = 0; j < code.Length; j++)
        {
            int q = Quantize(j, code[j]);
            if (Bits == 8)
            {
                payload[j] = (byte)q;
            }
            else
            {
                payload[2 * j] = (byte)q;
                payload[(2 * j) + 1] = (byte)(q >> 8);
            }
        }
    }

    /// <summary>Unpacks <see cref="PayloadBytes"/> bytes into the dequantised code.</summary>
    public void Unpack(ReadOnlySpan<byte> payload, Span<float> code)
    {
        CheckLength(code.Length, CodeSize, nameof(code));
        CheckLength(payload.Length, PayloadBytes, nameof(payload));
        for (int j = 0; j < code.Length; j++)
        {
            int q = Bits == 8 ? payload[j] : payload[2 * j] | (payload[(2 * j) + 1] << 8);
            code[j] = Dequantize(j, q);
        }
    }

    /// <summary>Quantises and dequantises <paramref name="code"/> in place (what a receiver will see).</summary>
    public void RoundTrip(Span<float> code)
    {
        CheckLength(code.Length, CodeSize, nameof(code));
        for (int j = 0; j < code.Length; j++)
        {
            code[j] = Dequantize(j, Quantize(j, code[j]));
        }
    }

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected {expected} elements in '{name}' but found {actual}.", name);
        }
    }
}
