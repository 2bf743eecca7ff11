using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace EdgeAe.Kernels;

/// <summary>
/// The constant shape of one layer of a generated int8 model: generated code declares one struct per layer and passes
/// it to <see cref="Int8Dense"/>, so sizes and offsets are constants in the machine code (as <see cref="IDenseLayer"/>).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IInt8Layer
{
    /// <summary>Inputs of the layer.</summary>
    static abstract int Inputs { get; }

    /// <summary>Outputs of the layer.</summary>
    static abstract int Outputs { get; }

    /// <summary>Byte offset of the layer's block in the packed buffer (<see cref="Int8Layout"/>).</summary>
    static abstract int PackedOffset { get; }
}

/// <summary>
/// Where an int8 layer's constants live in a model's packed buffer, relative to the layer's block (every part starts on
/// a 64-byte boundary): a header of 16 int32 values (<see cref="Int8Header"/>), the folded biases for signed inputs, the
/// folded biases for inputs offset by 128 (VPDPBUSD), the Q31 multipliers, the activation table (256 bytes, then the
/// same entries sign-extended to int32 for gathers), and the weights in quads: for each group of four inputs, each
/// output's four weights side by side (zeros past the last input).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Int8Layout
{
    /// <summary>Bytes of the header.</summary>
    public const int HeaderBytes = 64;

    /// <summary>Entries of an activation table.</summary>
    public const int TableBytes = 256;

    /// <summary><paramref name="bytes"/> rounded up to a multiple of 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Pad(int bytes) => (bytes + 63) & ~63;

    /// <summary>Groups of four inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Quads(int inputs) => (inputs + 3) / 4;

    /// <summary>Offset of the biases folded for signed inputs (int32 per output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SignedBiases(int outputs) => HeaderBytes;

    /// <summary>Offset of the biases folded for inputs offset by 128: B − 128·Σᵢ W[i, j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnsignedBiases(int outputs) => HeaderBytes + Pad(4 * outputs);

    /// <summary>Offset of the Q31 multipliers (int32 per output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Multipliers(int outputs) => HeaderBytes + (2 * Pad(4 * outputs));

    /// <summary>Offset of the activation table (256 bytes, then 256 int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Table(int outputs) => HeaderBytes + (3 * Pad(4 * outputs));

    /// <summary>Offset of the weights in quads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Weights(int outputs) => Table(outputs) + (5 * TableBytes);

    /// <summary>Bytes of a layer's block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bytes(int inputs, int outputs) => Weights(outputs) + Pad(4 * outputs * Quads(inputs));

    /// <summary>Bytes of one row of int8 activations of <paramref name="width"/> codes (a whole number of quads, padded to 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RowBytes(int width) => Pad(4 * Quads(width));

    /// <summary>Bytes of the block of layer <typeparamref name="L"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bytes<L>()
        where L : struct, IInt8Layer
        => Bytes(L.Inputs, L.Outputs);

    /// <summary>The first byte after layer <typeparamref name="L"/>'s block: the next layer's offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int End<L>()
        where L : struct, IInt8Layer
        => L.PackedOffset + Bytes(L.Inputs, L.Outputs);
}

/// <summary>The int32 slots of a layer's header.</summary>
internal static class Int8Header
{
    public const int Shift = 0;
    public const int ZZeroPoint = 1;
    public const int ZMin = 2;
    public const int ZMax = 3;
    public const int OutputZeroPoint = 4;
    public const int OutputScale = 5;
    public const int ZScale = 6;
    public const int InputZeroPoint = 7;
    public const int InputInverseScale = 8;
    public const int HasTable = 9;
}
