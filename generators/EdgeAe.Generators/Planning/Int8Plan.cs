using System.Collections.Generic;

namespace EdgeAe.Generators.Planning;

/// <summary>
/// The int8 plan of a model (the desktop flavour's <c>Int8</c> companion): where each layer's block lives in the packed
/// buffer and where the int8 activation rows live. The block sizes follow the runtime's <c>EdgeAe.Kernels.Int8Layout</c>
/// (header, two folded bias vectors, multipliers, the activation table and its int32 copy, the weights in quads, each
/// part 64-byte aligned); a test compares the two for every width.
/// </summary>
internal sealed class Int8Plan
{
    private Int8Plan(int[] offsets, int packedBytes, int[] rows, int codeBytes, int floatRow)
    {
        Offsets = offsets;
        PackedBytes = packedBytes;
        Rows = rows;
        CodeBytes = codeBytes;
        FloatRow = floatRow;
    }

    /// <summary>Byte offset of each layer's block in the packed buffer.</summary>
    public IReadOnlyList<int> Offsets { get; }

    /// <summary>Bytes of the packed buffer.</summary>
    public int PackedBytes { get; }

    /// <summary>
    /// Byte offset of the int8 rows in the activation buffer: [0] the quantised input, [l + 1] layer l's outputs; each
    /// region holds one row per sample of the largest batch.
    /// </summary>
    public IReadOnlyList<int> Rows { get; }

    /// <summary>Bytes of the int8 activation buffer.</summary>
    public int CodeBytes { get; }

    /// <summary>Floats of one scratch row for the loss (the widest of input and layers, padded to 16).</summary>
    public int FloatRow { get; }

    public static Int8Plan Of(ModelPlan plan)
    {
        int layers = plan.Layers.Count;
        var offsets = new int[layers];
        int packed = 0;
        for (int l = 0; l < layers; l++)
        {
            offsets[l] = packed;
            packed += Bytes(plan.Layers[l].Layer.InputWidth, plan.Layers[l].Layer.Width);
        }

        int batch = plan.Topology.MaxBatchSize;
        var rows = new int[layers + 1];
        int codes = RowBytes(plan.Topology.InputSize) * batch;
        for (int l = 0; l < layers; l++)
        {
            rows[l + 1] = codes;
            codes += RowBytes(plan.Layers[l].Layer.Width) * batch;
        }

        return new Int8Plan(offsets, packed, rows, codes, BatchPlan.Row(plan.Topology.InputSize));
    }

    /// <summary>Bytes of a layer's block (the runtime's <c>Int8Layout.Bytes</c>).</summary>
    public static int Bytes(int inputs, int outputs)
        => HeaderBytes + (3 * Pad(4 * outputs)) + (5 * TableBytes) + Pad(4 * outputs * Quads(inputs));

    /// <summary>Bytes of one int8 activation row (the runtime's <c>Int8Layout.RowBytes</c>).</summary>
    public static int RowBytes(int width) => Pad(4 * Quads(width));

    private const int HeaderBytes = 64;
    private const int TableBytes = 256;

    private static int Pad(int bytes) => (bytes + 63) & ~63;

    private static int Quads(int inputs) => (inputs + 3) / 4;
}
