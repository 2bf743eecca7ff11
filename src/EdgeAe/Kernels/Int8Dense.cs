using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeAe.Quantization;

namespace EdgeAe.Kernels;

/// <summary>
/// The int8 kernels generated int8 models call: one call per layer with the layer's shape as a type argument
/// (<see cref="IInt8Layer"/>). Each entry point picks the rung for the layer's width and the machine (VNNI, AVX-512 BW,
/// AVX2, SSE, SDOT, portable Vector128, scalar); every rung computes the same codes (docs/quantization.md).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Int8Dense
{
    /// <summary>Entries of <see cref="SoftplusTable"/>: one per int8 code.</summary>
    public const int TableEntries = 256;

    /// <summary>The rungs, best first; <see cref="RungFor"/> picks one per layer width.</summary>
    internal enum Rung
    {
        Scalar,
        X128Portable,
        X128,
        X128Vnni,
        X256,
        X256Vnni,
        X512,
    }

    /// <summary>
    /// The rung a layer with <paramref name="outputs"/> outputs runs on: AVX-VNNI on 256 bits first (one VPDPBUSD per
    /// quad: cheaper than two VPMADDWD on 512 bits plus the byte splitting, measured in docs/BENCHMARKS.md), then AVX-512
    /// BW, AVX2, the 128-bit forms, scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Rung RungFor(int outputs)
        => outputs >= 8 && Int8x256Vnni.IsSupported ? Rung.X256Vnni
            : outputs >= 16 && Int8x512.IsSupported ? Rung.X512
            : outputs >= 8 && Int8x256.IsSupported ? Rung.X256
            : outputs >= 4 && Int8x128Vnni.IsSupported ? Rung.X128Vnni
            : outputs >= 4 && Int8x128.IsSupported ? Rung.X128
            : outputs >= 4 && Int8x128Portable.IsSupported ? Rung.X128Portable
            : Rung.Scalar;

    /// <summary>
    /// Quantises <paramref name="count"/> float rows (<typeparamref name="L"/>.Inputs values, <paramref name="stride"/>
    /// apart) with the layer's input quantisation into int8 rows at <paramref name="codes"/>.
    /// </summary>
    public static void Quantize<L>(ref byte packed, ref float values, int stride, ref sbyte codes, int count)
        where L : struct, IInt8Layer
    {
        ref int header = ref Unsafe.As<byte, int>(ref Unsafe.Add(ref packed, L.PackedOffset));
        float inverse = BitConverter.Int32BitsToSingle(Unsafe.Add(ref header, Int8Header.InputInverseScale));
        int zeroPoint = Unsafe.Add(ref header, Int8Header.InputZeroPoint);
        QuantizeRows(RungFor(L.Inputs), ref values, L.Inputs, stride, inverse, zeroPoint, ref codes, count);
    }

    /// <summary>Layer <typeparamref name="L"/> (activation <typeparamref name="A"/>) on <paramref name="count"/> int8 rows into int8 rows.</summary>
    public static void Forward<L, A>(ref byte packed, ref sbyte x, ref sbyte y, int count)
        where L : struct, IInt8Layer
        where A : struct
        => Run<L, A, Int8Out>(ref packed, ref x, ref Unsafe.As<sbyte, byte>(ref y), 0, ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<sbyte>(), count);

    /// <summary>
    /// Layer <typeparamref name="L"/> on <paramref name="count"/> int8 rows, outputs dequantised into float rows
    /// <paramref name="stride"/> apart (a code, a reconstruction).
    /// </summary>
    public static void ForwardToFloat<L, A>(ref byte packed, ref sbyte x, ref float y, int stride, int count)
        where L : struct, IInt8Layer
        where A : struct
        => Run<L, A, FloatOut>(ref packed, ref x, ref Unsafe.As<float, byte>(ref y), stride, ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<sbyte>(), count);

    /// <summary>
    /// The output layer for one row: outputs dequantised into <paramref name="y"/>, the pre-activation z dequantised into
    /// <paramref name="z"/> and as codes into <paramref name="zCodes"/> (for <see cref="BinaryCrossEntropyLoss{L}"/>).
    /// </summary>
    public static void ForwardOutput<L, A>(ref byte packed, ref sbyte x, ref float y, ref float z, ref sbyte zCodes)
        where L : struct, IInt8Layer
        where A : struct
        => Run<L, A, FloatOutWithZ>(ref packed, ref x, ref Unsafe.As<float, byte>(ref y), L.Outputs, ref z, ref zCodes, 1);

    /// <summary>
    /// Binary cross-entropy Σ softplus(z) − t·z of one output row of layer <typeparamref name="L"/> from
    /// <see cref="ForwardOutput{L, A}"/>'s z: z takes only 256 values, so softplus(z) is read from
    /// <paramref name="softplus"/> (the value of each code, in double: <see cref="SoftplusTable"/>) and only Σ t·z is
    /// computed, over the dequantised z.
    /// </summary>
    public static double BinaryCrossEntropyLoss<L>(ref sbyte zCodes, ref float z, ref float targets, ref double softplus)
        where L : struct, IInt8Layer
    {
        int n = L.Outputs;
        ref byte codes = ref Unsafe.As<sbyte, byte>(ref zCodes);

        // The dot product first: the accumulators below then never live across a call (the JIT spilled them in the loop).
        double s0 = -Dense.Dot(ref targets, ref z, n), s1 = 0, s2 = 0, s3 = 0;
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            // Eight codes in one read; code c is entry c + 128 (the byte with its top bit flipped).
            ulong eight = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref codes, j)) ^ 0x8080808080808080;
            s0 += Unsafe.Add(ref softplus, (nint)(eight & 0xFF)) + Unsafe.Add(ref softplus, (nint)((eight >> 32) & 0xFF));
            s1 += Unsafe.Add(ref softplus, (nint)((eight >> 8) & 0xFF)) + Unsafe.Add(ref softplus, (nint)((eight >> 40) & 0xFF));
            s2 += Unsafe.Add(ref softplus, (nint)((eight >> 16) & 0xFF)) + Unsafe.Add(ref softplus, (nint)((eight >> 48) & 0xFF));
            s3 += Unsafe.Add(ref softplus, (nint)((eight >> 24) & 0xFF)) + Unsafe.Add(ref softplus, (nint)(eight >> 56));
        }

        for (; j < n; j++)
        {
            s0 += Unsafe.Add(ref softplus, Unsafe.Add(ref codes, j) ^ 0x80);
        }

        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>
    /// Fills <paramref name="table"/> (256 entries) with softplus(z) = log(1 + e^z) in double for each pre-activation code
    /// c (entry c + 128), z = scale·(c − zp) dequantised in float exactly as the kernels dequantise it.
    /// </summary>
    public static void SoftplusTable(QuantizationParameters preActivation, Span<double> table)
    {
        if (table.Length < TableEntries)
        {
            throw new ArgumentException($"The table needs {TableEntries} entries.", nameof(table));
        }

        for (int c = -128; c < 128; c++)
        {
            double zc = (float)(c - preActivation.ZeroPoint) * preActivation.Scale;
            table[c + 128] = Math.Max(zc, 0) + Math.Log(1 + Math.Exp(-Math.Abs(zc)));
        }
    }

    /// <summary>Writes layer <typeparamref name="L"/>'s block of the packed buffer from <paramref name="layer"/>.</summary>
    public static void Pack<L>(Span<byte> packed, QuantizedLayer layer)
        where L : struct, IInt8Layer
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (layer.InputWidth != L.Inputs || layer.Width != L.Outputs)
        {
            throw new ArgumentException($"Layer {layer.Index} is {layer.InputWidth}→{layer.Width}, not {L.Inputs}→{L.Outputs}.", nameof(layer));
        }

        Span<byte> block = packed.Slice(L.PackedOffset, Int8Layout.Bytes<L>());
        block.Clear();
        int n = L.Outputs, m = L.Inputs;
        Span<int> header = MemoryMarshal.Cast<byte, int>(block[..Int8Layout.HeaderBytes]);
        header[Int8Header.Shift] = layer.Shift;
        header[Int8Header.ZZeroPoint] = layer.PreActivation.ZeroPoint;
        header[Int8Header.ZMin] = layer.ZMin;
        header[Int8Header.ZMax] = layer.ZMax;
        header[Int8Header.OutputZeroPoint] = layer.Output.ZeroPoint;
        header[Int8Header.OutputScale] = BitConverter.SingleToInt32Bits(layer.Output.Scale);
        header[Int8Header.ZScale] = BitConverter.SingleToInt32Bits(layer.PreActivation.Scale);
        header[Int8Header.InputZeroPoint] = layer.Input.ZeroPoint;
        header[Int8Header.InputInverseScale] = BitConverter.SingleToInt32Bits(Int8Arithmetic.Inverse(layer.Input.Scale));
        header[Int8Header.HasTable] = layer.Table.IsEmpty ? 0 : 1;

        Span<int> signed = MemoryMarshal.Cast<byte, int>(block.Slice(Int8Layout.SignedBiases(n), 4 * n));
        Span<int> unsigned = MemoryMarshal.Cast<byte, int>(block.Slice(Int8Layout.UnsignedBiases(n), 4 * n));
        Span<int> multipliers = MemoryMarshal.Cast<byte, int>(block.Slice(Int8Layout.Multipliers(n), 4 * n));
        ReadOnlySpan<sbyte> w = layer.Weights;
        for (int j = 0; j < n; j++)
        {
            int sum = 0;
            for (int i = 0; i < m; i++)
            {
                // The AVX2 and SSSE3 products are exact only for symmetric weights (Int8x256.Dot); every source of a
                // QuantizedLayer (the quantiser, the weight-file reader) keeps them so.
                int weight = w[(i * n) + j];
                if (weight < -Int8Arithmetic.WeightMax)
                {
                    throw new ArgumentException($"Layer {layer.Index}: weight {weight} at W[{i}, {j}]; int8 weights are symmetric, -127..127.", nameof(layer));
                }

                sum += weight;
            }

            signed[j] = layer.FoldedBiases[j];
            unsigned[j] = layer.FoldedBiases[j] - (128 * sum);
            multipliers[j] = layer.Multipliers[j];
        }

        Span<byte> table = block.Slice(Int8Layout.Table(n), 5 * Int8Layout.TableBytes);
        Span<int> wide = MemoryMarshal.Cast<byte, int>(table[Int8Layout.TableBytes..]);
        for (int k = 0; k < layer.Table.Length; k++)
        {
            table[k] = (byte)layer.Table[k];
            wide[k] = layer.Table[k];
        }

        // Quads: weight W[i, j] at quad i/4, output j, byte i%4.
        Span<byte> quads = block[Int8Layout.Weights(n)..];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                quads[(((i / 4 * n) + j) * 4) + (i % 4)] = (byte)w[(i * n) + j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<L, A, E>(ref byte packed, ref sbyte x, ref byte y, int stride, ref float z, ref sbyte zCodes, int count)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
    {
        switch (RungFor(L.Outputs))
        {
            case Rung.X256Vnni: Int8Gemm<Int8x256Vnni, Vector256<int>>.Run<L, A, E>(ref packed, ref x, ref y, stride, ref z, ref zCodes, count); break;
            case Rung.X512: Int8Gemm<Int8x512, Vector512<int>>.Run<L, A, E>(ref packed, ref x, ref y, stride, ref z, ref zCodes, count); break;
            case Rung.X256: Int8Gemm<Int8x256, Vector256<int>>.Run<L, A, E>(ref packed, ref x, ref y, stride, ref z, ref zCodes, count); break;
            case Rung.X128Vnni: Int8Gemm<Int8x128Vnni, Vector128<int>>.Run<L, A, E>(ref packed, ref x, ref y, stride, ref z, ref zCodes, count); break;
            case Rung.X128: Int8Gemm<Int8x128, Vector128<int>>.Run<L, A, E>(ref packed, ref x, ref y, stride, ref z, ref zCodes, count); break;
            case Rung.X128Portable: Int8Gemm<Int8x128Portable, Vector128<int>>.Run<L, A, E>(ref packed, ref x, ref y, stride, ref z, ref zCodes, count); break;
            default: Int8Gemm<Int8x1, int>.Run<L, A, E>(ref packed, ref x, ref y, stride, ref z, ref zCodes, count); break;
        }
    }

    private static void QuantizeRows(Rung rung, ref float values, int width, int stride, float inverse, int zeroPoint, ref sbyte codes, int count)
    {
        // Quantising needs no dot product: the widest vectors the machine has, whatever rung the layer's product takes.
        if (width >= 16 && Int8x512.IsSupported)
        {
            rung = Rung.X512;
        }

        switch (rung)
        {
            case Rung.X512: Int8Gemm<Int8x512, Vector512<int>>.Quantize(ref values, width, stride, inverse, zeroPoint, ref codes, count); break;
            case Rung.X256Vnni or Rung.X256: Int8Gemm<Int8x256, Vector256<int>>.Quantize(ref values, width, stride, inverse, zeroPoint, ref codes, count); break;
            case Rung.X128Vnni or Rung.X128 or Rung.X128Portable: Int8Gemm<Int8x128, Vector128<int>>.Quantize(ref values, width, stride, inverse, zeroPoint, ref codes, count); break;
            default: Int8Gemm<Int8x1, int>.Quantize(ref values, width, stride, inverse, zeroPoint, ref codes, count); break;
        }
    }
}
