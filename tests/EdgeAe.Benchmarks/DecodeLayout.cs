using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using EdgeAe.Kernels;

namespace EdgeAe.Benchmarks;

/// <summary>
/// What the weight layout costs M1's batch-1 decode: the product alone (linear activation, no epilogue) of the
/// 784→64 encoder layer and the 64→784 decoder layer, the same 50,176 multiply-adds and 200 KB of weights each. The
/// encoder's block reads its input-major W as one sequential stream; the decoder's column blocks read 256 bytes of
/// every 3,136-byte row. The third row runs the decoder on the same weights packed in panels of 64 columns (each panel's
/// 64 rows contiguous, 16 KB), as 12 calls on 64→64 layers and one on a 64→16 layer: the layout a panel-packed
/// parameter buffer would give the kernel (docs/BENCHMARKS.md, decode against encode).
/// </summary>
[MemoryDiagnoser]
public class DecodeLayout
{
    private const int Wide = 784, Narrow = 64, Panel = 64;
    private AlignedBuffer _encoder = null!;
    private AlignedBuffer _decoder = null!;
    private AlignedBuffer _panels = null!;
    private AlignedBuffer _input = null!;
    private AlignedBuffer _code = null!;
    private AlignedBuffer _output = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _encoder = Filled(EncoderLayer.Biases + Narrow, random);
        _decoder = Filled(DecoderLayer.Biases + Wide, random);
        _input = Filled(Wide, random);
        _code = Filled(Narrow, random);
        _output = new AlignedBuffer(Wide);

        // Panel p of the decoder: its 64 rows of (up to) 64 columns, then its biases, as a layer of its own.
        _panels = new AlignedBuffer(((Wide / Panel) + 1) * PanelLayer.Stride);
        Span<float> w = _decoder.Span, panels = _panels.Span;
        for (int p = 0, c = 0; c < Wide; p++, c += Panel)
        {
            int columns = Math.Min(Panel, Wide - c);
            Span<float> panel = panels.Slice(p * PanelLayer.Stride, PanelLayer.Stride);
            for (int i = 0; i < Narrow; i++)
            {
                w.Slice(DecoderLayer.Weights + (i * Wide) + c, columns).CopyTo(panel.Slice(i * columns, columns));
            }

            w.Slice(DecoderLayer.Biases + c, columns).CopyTo(panel.Slice(Narrow * columns, columns));
        }

        // The packed decoder computes the same floats as the strided one (each output's chain is the same).
        Decode();
        float[] strided = _output.Span.ToArray();
        DecodePanels();
        if (!_output.Span.SequenceEqual(strided))
        {
            throw new InvalidOperationException("The panel-packed decoder differs from the strided one.");
        }
    }

    [Benchmark(Description = "encode product 784→64 (sequential W)")]
    public void Encode() => Dense.Forward<EncoderLayer, Linear>(ref _encoder.Reference, ref _input.Reference, ref _code.Reference);

    [Benchmark(Description = "decode product 64→784 (column blocks, 3,136-byte stride)")]
    public void Decode() => Dense.Forward<DecoderLayer, Linear>(ref _decoder.Reference, ref _code.Reference, ref _output.Reference);

    [Benchmark(Description = "decode product 64→784 (panels of 64 columns)")]
    public void DecodePanels()
    {
        ref float panels = ref _panels.Reference;
        ref float output = ref _output.Reference;
        for (int p = 0; p < Wide / Panel; p++)
        {
            Dense.Forward<PanelLayer, Linear>(ref Unsafe.Add(ref panels, p * PanelLayer.Stride), ref _code.Reference, ref Unsafe.Add(ref output, p * Panel));
        }

        Dense.Forward<LastPanelLayer, Linear>(ref Unsafe.Add(ref panels, (Wide / Panel) * PanelLayer.Stride), ref _code.Reference, ref Unsafe.Add(ref output, Wide / Panel * Panel));
    }

    private static AlignedBuffer Filled(int length, Random random)
    {
        var buffer = new AlignedBuffer(length);
        foreach (ref float value in buffer.Span)
        {
            value = (float)(random.NextDouble() - 0.5) * 0.2f;
        }

        return buffer;
    }

    private readonly struct EncoderLayer : IDenseLayer
    {
        public static int Inputs => Wide;
        public static int Outputs => Narrow;
        public static int Weights => 0;
        public static int Biases => Wide * Narrow;
    }

    private readonly struct DecoderLayer : IDenseLayer
    {
        public static int Inputs => Narrow;
        public static int Outputs => Wide;
        public static int Weights => 0;
        public static int Biases => Wide * Narrow;
    }

    private readonly struct PanelLayer : IDenseLayer
    {
        /// <summary>Floats per panel in the packed buffer (a multiple of 16, so every panel starts 64-byte aligned).</summary>
        public const int Stride = (Narrow * Panel) + Panel;

        public static int Inputs => Narrow;
        public static int Outputs => Panel;
        public static int Weights => 0;
        public static int Biases => Narrow * Panel;
    }

    private readonly struct LastPanelLayer : IDenseLayer
    {
        public static int Inputs => Narrow;
        public static int Outputs => Wide % Panel;
        public static int Weights => 0;
        public static int Biases => Narrow * (Wide % Panel);
    }
}
