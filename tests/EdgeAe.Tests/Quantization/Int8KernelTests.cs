using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeAe.IO.Format;
using EdgeAe.Kernels;
using EdgeAe.Quantization;

namespace EdgeAe.Tests.Quantization;

/// <summary>
/// Every int8 rung this machine supports (VNNI, AVX-512 BW, AVX2, SSE, the portable Vector128 form, scalar; SDOT on
/// ARM64) against the scalar reference <see cref="Int8Reference.Layer"/>, for every width 1..256 as a layer's inputs and
/// outputs, with exact equality: one-row products (Encode) and four-row tiles (batches), clamp and table activations,
/// int8 and dequantised float outputs. CI re-runs the class with AVX-512, AVX2 and hardware intrinsics switched off.
/// </summary>
public sealed class Int8KernelTests
{
    /// <summary>Skips a rung this machine cannot execute (the theories list every rung, so the data is the same on x64 and ARM64).</summary>
    private static void RequireRung(string rung)
    {
#if EDGEAE_ARM64_SUITE
        // tests/EdgeAe.Arm64.Tests links this file for the ARM64 rungs; on x64 EdgeAe.Tests runs the same checks.
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.Arm64)
        {
            Assert.Skip("On x64 EdgeAe.Tests runs this class; the ARM64 suite runs it under ARM64 (qemu in CI).");
        }
#endif
        if (!RungSupport().Single(r => r.Name == rung).Supported)
        {
            Assert.Skip($"{rung} does not run on this machine ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}).");
        }
    }

    [Theory]
    [InlineData(nameof(Int8Dense.Rung.X512))]
    [InlineData(nameof(Int8Dense.Rung.X256Vnni))]
    [InlineData(nameof(Int8Dense.Rung.X256))]
    [InlineData(nameof(Int8Dense.Rung.X128Vnni))]
    [InlineData(nameof(Int8Dense.Rung.X128))]
    [InlineData(nameof(Int8Dense.Rung.X128Portable))]
    [InlineData(nameof(Int8Dense.Rung.Scalar))]
    public void Every_width_matches_the_reference_exactly(string rung)
    {
        RequireRung(rung);
        MethodInfo check = typeof(Int8KernelTests).GetMethod(nameof(CheckWidth), BindingFlags.NonPublic | BindingFlags.Static)!;
        (Type q, Type vec) = RungTypes(rung);
        int[] widths = Widths().Where(w => w >= MinimumOutputs(rung)).ToArray();
        foreach (int width in widths)
        {
            check.MakeGenericMethod(q, vec, WidthType(width)).Invoke(null, [width]);
        }

        TestContext.Current.SendDiagnosticMessage($"{rung}: {widths.Length} widths checked");
        Assert.NotEmpty(widths);
    }

    /// <summary>
    /// Every width 1..256; under ARM64 emulation (10–17× slower, tests/EdgeAe.Arm64.Tests links this file) 1..20 and the
    /// widths around 32, 64, 128 and 256: every remainder of the 4-lane vector, as inputs and outputs.
    /// </summary>
    private static IEnumerable<int> Widths()
        => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64
            ? Enumerable.Range(1, 20).Concat([31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256])
            : Enumerable.Range(1, 256);

    [Fact]
    public void Every_width_1_to_256_is_checked_on_x64()
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Skip("The emulated ARM64 leg checks the widths around every vector multiple (see Widths).");
        }

        Assert.Equal(Enumerable.Range(1, 256), Widths());
    }

    [Theory]
    [InlineData(nameof(Int8Dense.Rung.X512))]
    [InlineData(nameof(Int8Dense.Rung.X256Vnni))]
    [InlineData(nameof(Int8Dense.Rung.X256))]
    [InlineData(nameof(Int8Dense.Rung.X128Vnni))]
    [InlineData(nameof(Int8Dense.Rung.X128))]
    [InlineData(nameof(Int8Dense.Rung.X128Portable))]
    [InlineData(nameof(Int8Dense.Rung.Scalar))]
    public void Extreme_codes_and_constants_match_the_reference(string rung)
    {
        RequireRung(rung);
        MethodInfo check = typeof(Int8KernelTests).GetMethod(nameof(CheckExtremes), BindingFlags.NonPublic | BindingFlags.Static)!;
        (Type q, Type vec) = RungTypes(rung);
        foreach (int width in new[] { 16, 37, 256 })
        {
            check.MakeGenericMethod(q, vec, WidthType(width)).Invoke(null, [width]);
        }
    }

    [Theory]
    [InlineData(nameof(Int8Dense.Rung.X512))]
    [InlineData(nameof(Int8Dense.Rung.X256Vnni))]
    [InlineData(nameof(Int8Dense.Rung.X256))]
    [InlineData(nameof(Int8Dense.Rung.X128Vnni))]
    [InlineData(nameof(Int8Dense.Rung.X128))]
    [InlineData(nameof(Int8Dense.Rung.X128Portable))]
    [InlineData(nameof(Int8Dense.Rung.Scalar))]
    public void Quantising_floats_matches_the_scalar_definition(string rung)
    {
        RequireRung(rung);
        MethodInfo check = typeof(Int8KernelTests).GetMethod(nameof(CheckQuantize), BindingFlags.NonPublic | BindingFlags.Static)!;
        (Type q, Type vec) = RungTypes(rung);
        check.MakeGenericMethod(q, vec).Invoke(null, [rung]);
    }

    [Fact]
    public void Packing_refuses_a_weight_of_minus_128()
    {
        // The AVX2 and SSSE3 products are exact only for symmetric weights: a −128 must never reach them.
        var random = new Random(5);
        QuantizedLayer layer = RandomLayer(random, 8, 8, ActivationKind.Relu, new QuantizationParameters(0.02f, 0));
        layer.Data.Weights[13] = -128;
        var buffer = new AlignedBuffer((Int8Layout.Bytes<Layer<N8>>() + 3) / 4);
        ArgumentException e = Assert.Throws<ArgumentException>(() => Int8Dense.Pack<Layer<N8>>(MemoryMarshal.AsBytes(buffer.Span), layer));
        Assert.Contains("weight -128 at W[1, 5]", e.Message);
    }

    [Fact]
    public void The_dispatcher_picks_a_supported_rung_for_every_width()
    {
        var supported = RungSupport().Where(r => r.Supported).Select(r => r.Name).ToHashSet();
        for (int width = 1; width <= 256; width++)
        {
            string name = Int8Dense.RungFor(width).ToString();
            Assert.Contains(name, supported);
            Assert.True(width >= MinimumOutputs(name), $"width {width} on {name}");
        }

        TestContext.Current.SendDiagnosticMessage($"dispatcher: 4 → {Int8Dense.RungFor(4)}, 8 → {Int8Dense.RungFor(8)}, 16 → {Int8Dense.RungFor(16)}; supported: {string.Join(", ", supported)}");
    }

    private static IEnumerable<(string Name, bool Supported)> RungSupport()
    {
        yield return (nameof(Int8Dense.Rung.X512), Int8x512.IsSupported);
        yield return (nameof(Int8Dense.Rung.X256Vnni), Int8x256Vnni.IsSupported);
        yield return (nameof(Int8Dense.Rung.X256), Int8x256.IsSupported);
        yield return (nameof(Int8Dense.Rung.X128Vnni), Int8x128Vnni.IsSupported);
        yield return (nameof(Int8Dense.Rung.X128), Int8x128.IsSupported);
        yield return (nameof(Int8Dense.Rung.X128Portable), Int8x128Portable.IsSupported);
        yield return (nameof(Int8Dense.Rung.Scalar), true);
    }

    private static (Type Ops, Type Vector) RungTypes(string rung) => rung switch
    {
        nameof(Int8Dense.Rung.X512) => (typeof(Int8x512), typeof(Vector512<int>)),
        nameof(Int8Dense.Rung.X256Vnni) => (typeof(Int8x256Vnni), typeof(Vector256<int>)),
        nameof(Int8Dense.Rung.X256) => (typeof(Int8x256), typeof(Vector256<int>)),
        nameof(Int8Dense.Rung.X128Vnni) => (typeof(Int8x128Vnni), typeof(Vector128<int>)),
        nameof(Int8Dense.Rung.X128) => (typeof(Int8x128), typeof(Vector128<int>)),
        nameof(Int8Dense.Rung.X128Portable) => (typeof(Int8x128Portable), typeof(Vector128<int>)),
        _ => (typeof(Int8x1), typeof(int)),
    };

    private static int MinimumOutputs(string rung) => rung switch
    {
        nameof(Int8Dense.Rung.X512) => 16,
        nameof(Int8Dense.Rung.X256Vnni) or nameof(Int8Dense.Rung.X256) => 8,
        nameof(Int8Dense.Rung.Scalar) => 1,
        _ => 4,
    };

    /// <summary>A width as a type: <see cref="Square{W}"/> reads it from the digit types.</summary>
    private static Type WidthType(int width)
        => width == 256 ? typeof(W256) : typeof(Width<,>).MakeGenericType(Digits[width / 16], Digits[width % 16]);

    private static readonly Type[] Digits =
    [
        typeof(D0), typeof(D1), typeof(D2), typeof(D3), typeof(D4), typeof(D5), typeof(D6), typeof(D7),
        typeof(D8), typeof(D9), typeof(D10), typeof(D11), typeof(D12), typeof(D13), typeof(D14), typeof(D15),
    ];

    /// <summary>
    /// A w → w layer, two of them chained (ReLU, or tanh for every third width, into int8 rows, then sigmoid or tanh to
    /// floats with the pre-activations), on 1 row and on 7 rows (two three-row tiles and a single row on the x86 rungs
    /// below 512 bits, a four-row tile and three single rows on the others), against the reference row by row.
    /// </summary>
    private static void CheckWidth<Q, TVec, W>(int width)
        where Q : struct, IInt8Simd<TVec>
        where TVec : struct
        where W : struct, IConstant
    {
        var random = new Random(width);
        QuantizedLayer first = RandomLayer(random, width, width, width % 3 == 0 ? ActivationKind.Tanh : ActivationKind.Relu, new QuantizationParameters(0.02f, random.Next(-128, 128)));
        QuantizedLayer second = RandomLayer(random, width, width, width % 2 == 0 ? ActivationKind.Sigmoid : ActivationKind.Tanh, first.Output);
        foreach (int rows in new[] { 1, 7 })
        {
            int rowBytes = Int8Layout.RowBytes(width);
            sbyte[] x = new sbyte[rows * rowBytes];
            sbyte[] hidden = new sbyte[rows * rowBytes];
            float[] y = new float[rows * width];
            float[] z = new float[rows * width];
            sbyte[] zCodes = new sbyte[rows * rowBytes];
            int[][] inputs = new int[rows][];
            for (int r = 0; r < rows; r++)
            {
                inputs[r] = new int[width];
                for (int i = 0; i < width; i++)
                {
                    inputs[r][i] = random.Next(-128, 128);
                    x[(r * rowBytes) + i] = (sbyte)inputs[r][i];
                }

                // Bytes past the last input are padding: garbage there must not change any output.
                for (int i = width; i < rowBytes; i++)
                {
                    x[(r * rowBytes) + i] = (sbyte)random.Next(-128, 128);
                }
            }

            if (first.Activation == ActivationKind.Tanh)
            {
                Run<Q, TVec, Layer<W>, Tanh, Int8Out>(first, x, hidden, [], [], rows);
            }
            else
            {
                Run<Q, TVec, Layer<W>, Relu, Int8Out>(first, x, hidden, [], [], rows);
            }

            if (rows == 1)
            {
                Run<Q, TVec, Layer<W>, Sigmoid, FloatOutWithZ>(second, hidden, [], y, z, rows, zCodes);
            }
            else
            {
                Run<Q, TVec, Layer<W>, Sigmoid, FloatOut>(second, hidden, [], y, z, rows, zCodes);
            }

            for (int r = 0; r < rows; r++)
            {
                int[] z1 = new int[width], y1 = new int[width], z2 = new int[width], y2 = new int[width];
                Int8Reference.Layer(first, inputs[r], z1, y1);
                Int8Reference.Layer(second, y1, z2, y2);
                for (int j = 0; j < width; j++)
                {
                    Assert.True(y1[j] == hidden[(r * rowBytes) + j], $"width {width}, rows {rows}: hidden row {r}, output {j}: kernel {hidden[(r * rowBytes) + j]}, reference {y1[j]}");
                    float expected = second.Output.Dequantize(y2[j]);
                    Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[(r * width) + j]), $"width {width}, rows {rows}: output row {r}, {j}: kernel {y[(r * width) + j]}, reference {expected}");
                    if (rows == 1)
                    {
                        Assert.Equal(second.PreActivation.Dequantize(z2[j]), z[j]);
                        Assert.True(z2[j] == zCodes[j], $"width {width}: z code {j}: kernel {zCodes[j]}, reference {z2[j]}");
                    }
                }
            }

            if (rows == 1)
            {
                CheckLoss<W>(second, zCodes, z, random);
            }
        }
    }

    /// <summary>The binary cross-entropy from z codes (softplus by table, Σ t·z a float dot) against the formula in double.</summary>
    private static void CheckLoss<W>(QuantizedLayer layer, sbyte[] zCodes, float[] z, Random random)
        where W : struct, IConstant
    {
        int n = Layer<W>.Outputs;
        float[] targets = new float[n];
        double expected = 0, magnitude = 0;
        for (int j = 0; j < n; j++)
        {
            targets[j] = (float)random.NextDouble();
            double zj = z[j];
            double term = Math.Max(zj, 0) - (targets[j] * zj) + Math.Log(1 + Math.Exp(-Math.Abs(zj)));
            expected += term;
            magnitude += Math.Abs(term) + Math.Abs(targets[j] * zj);
        }

        double[] table = new double[Int8Dense.TableEntries];
        Int8Dense.SoftplusTable(layer.PreActivation, table);
        double loss = Int8Dense.BinaryCrossEntropyLoss<Layer<W>>(ref zCodes[0], ref z[0], ref targets[0], ref table[0]);
        Assert.True(Math.Abs(loss - expected) <= 1e-6 * magnitude, $"width {n}: loss {loss}, formula {expected}");
    }

    /// <summary>Extreme codes and constants: every input −128 or 127, weights ±127, biases ±2²⁹, shifts 31 and 62, multipliers near 0 and 2³¹.</summary>
    private static void CheckExtremes<Q, TVec, W>(int width)
        where Q : struct, IInt8Simd<TVec>
        where TVec : struct
        where W : struct, IConstant
    {
        var random = new Random(7 * width);
        foreach (int shift in new[] { 31, 32, 45, 61, 62 })
        {
            foreach (int xValue in new[] { -128, 127, 0 })
            {
                var data = new Int8LayerData
                {
                    Shift = shift,
                    ZScale = 0.01f,
                    ZZeroPoint = random.Next(-128, 128),
                    OutputScale = 0.01f,
                    WeightScales = Enumerable.Repeat(0.001f, width).ToArray(),
                    Multipliers = Enumerable.Range(0, width).Select(j => j % 3 == 0 ? int.MaxValue : j % 3 == 1 ? 1 : random.Next()).ToArray(),
                    Weights = Enumerable.Range(0, width * width).Select(k => (sbyte)(k % 2 == 0 ? 127 : -127)).ToArray(),
                    Biases = Enumerable.Range(0, width).Select(j => j % 2 == 0 ? WeightFileFormat.Int8MaxBias : -WeightFileFormat.Int8MaxBias).ToArray(),
                };
                data.OutputZeroPoint = data.ZZeroPoint;
                var layer = new QuantizedLayer(0, new LayerFingerprint(0, width, width, 0), new QuantizationParameters(0.01f, xValue == 0 ? 127 : -128), data);
                int rowBytes = Int8Layout.RowBytes(width);
                sbyte[] x = Enumerable.Repeat((sbyte)xValue, rowBytes).ToArray();
                sbyte[] y = new sbyte[rowBytes];
                Run<Q, TVec, Layer<W>, Linear, Int8Out>(layer, x, y, [], [], 1);
                int[] zr = new int[width], yr = new int[width];
                Int8Reference.Layer(layer, Enumerable.Repeat(xValue, width).ToArray(), zr, yr);
                for (int j = 0; j < width; j++)
                {
                    Assert.True(yr[j] == y[j], $"width {width}, shift {shift}, x {xValue}: output {j}: kernel {y[j]}, reference {yr[j]}");
                }
            }
        }
    }

    private static void CheckQuantize<Q, TVec>(string rung)
        where Q : struct, IInt8Simd<TVec>
        where TVec : struct
    {
        var random = new Random(3);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e30f, -1e30f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -128.5f, float.Epsilon];

        // 37: one vector at a time with an overlapping last one; 150: the four-vector steps of every rung first.
        foreach (int width in new[] { 37, 150 })
        {
            int rows = 50;
            float[] values = new float[rows * width];
            for (int k = 0; k < values.Length; k++)
            {
                values[k] = k % 97 < specials.Length ? specials[k % 97] : (float)((random.NextDouble() - 0.5) * 600) / (k % 5 == 0 ? 1f : 3f);
            }

            foreach ((float scale, int zeroPoint) in new[] { (1f, 0), (0.5f, -128), (1f / 255, -128), (3f, 127) })
            {
                float inverse = Int8Arithmetic.Inverse(scale);
                sbyte[] codes = new sbyte[rows * Int8Layout.RowBytes(width)];
                if (Q.Count <= width)
                {
                    Int8Gemm<Q, TVec>.Quantize(ref values[0], width, width, inverse, zeroPoint, ref codes[0], rows);
                    for (int r = 0; r < rows; r++)
                    {
                        for (int i = 0; i < width; i++)
                        {
                            float v = values[(r * width) + i];
                            Assert.True(Int8Arithmetic.Quantize(v, inverse, zeroPoint) == codes[(r * Int8Layout.RowBytes(width)) + i], $"{rung}: {v} at scale {scale}, zero point {zeroPoint}, width {width}");
                        }
                    }
                }
            }
        }
    }

    private static void Run<Q, TVec, L, A, E>(QuantizedLayer layer, sbyte[] x, sbyte[] y8, float[] y, float[] z, int rows, sbyte[]? zCodes = null)
        where Q : struct, IInt8Simd<TVec>
        where TVec : struct
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
    {
        // The packed buffer must not move (the AVX2 table lookup gathers through a pointer): pinned, as models keep it.
        var buffer = new AlignedBuffer((Int8Layout.Bytes<L>() + 3) / 4);
        Span<byte> block = MemoryMarshal.AsBytes(buffer.Span);
        Int8Dense.Pack<L>(block, layer);
        ref byte p = ref MemoryMarshal.GetReference(block);
        if (typeof(E) == typeof(Int8Out))
        {
            Int8Gemm<Q, TVec>.Run<L, A, E>(ref p, ref x[0], ref Unsafe.As<sbyte, byte>(ref y8[0]), 0, ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<sbyte>(), rows);
        }
        else if (z.Length > 0)
        {
            Int8Gemm<Q, TVec>.Run<L, A, E>(ref p, ref x[0], ref Unsafe.As<float, byte>(ref y[0]), L.Outputs, ref z[0], ref zCodes![0], rows);
        }
        else
        {
            Int8Gemm<Q, TVec>.Run<L, A, E>(ref p, ref x[0], ref Unsafe.As<float, byte>(ref y[0]), L.Outputs, ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<sbyte>(), rows);
        }
    }

    private static QuantizedLayer RandomLayer(Random random, int inputs, int outputs, ActivationKind activation, QuantizationParameters input)
    {
        bool table = activation is ActivationKind.Sigmoid or ActivationKind.Tanh;
        var z = new QuantizationParameters(0.05f, random.Next(-128, 128));
        var output = table ? new QuantizationParameters(activation == ActivationKind.Sigmoid ? 1 / 256f : 1 / 128f, activation == ActivationKind.Sigmoid ? -128 : 0) : z;
        if (activation == ActivationKind.Relu)
        {
            output = z = new QuantizationParameters(0.05f, -128);
        }

        // Multipliers and shift that keep most requantised values inside the int8 range (some saturate).
        double factor = 60 / (4700 * Math.Sqrt(inputs));
        int shift = Math.Clamp((int)Math.Round(Math.Log2(Math.Pow(2, 30.5) / factor)), 31, 62);
        var data = new Int8LayerData
        {
            Shift = shift,
            ZScale = z.Scale,
            ZZeroPoint = z.ZeroPoint,
            OutputScale = output.Scale,
            OutputZeroPoint = output.ZeroPoint,
            WeightScales = Enumerable.Range(0, outputs).Select(_ => 0.01f).ToArray(),
            Multipliers = Enumerable.Range(0, outputs).Select(_ => random.Next(1 << 29, int.MaxValue)).ToArray(),
            // Half the widths get a table that maps every index to a different code (a permutation), so that a lookup
            // reading a wrong entry cannot agree with the reference by the plateaus of a real sigmoid or tanh table.
            Table = !table ? [] : outputs % 4 < 2 ? Permutation(random) : Quantizer.Table(activation, z, output),
            Weights = Enumerable.Range(0, inputs * outputs).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(),
            Biases = Enumerable.Range(0, outputs).Select(_ => random.Next(-100_000, 100_000)).ToArray(),
        };
        return new QuantizedLayer(0, new LayerFingerprint(0, inputs, outputs, (byte)activation), input, data);
    }

    /// <summary>The 256 codes −128..127 in a random order.</summary>
    private static sbyte[] Permutation(Random random)
    {
        sbyte[] codes = Enumerable.Range(-128, 256).Select(c => (sbyte)c).ToArray();
        random.Shuffle(codes);
        return codes;
    }

    /// <summary>A layer of W inputs and W outputs at offset 0 of the packed buffer.</summary>
    private readonly struct Layer<W> : IInt8Layer
        where W : struct, IConstant
    {
        public static int Inputs => W.Value;

        public static int Outputs => W.Value;

        public static int PackedOffset => 0;
    }

    private readonly struct Width<H, L> : IConstant
        where H : struct, IConstant
        where L : struct, IConstant
    {
        public static int Value => (16 * H.Value) + L.Value;
    }

    private readonly struct W256 : IConstant { public static int Value => 256; }
    private readonly struct D0 : IConstant { public static int Value => 0; }
    private readonly struct D1 : IConstant { public static int Value => 1; }
    private readonly struct D2 : IConstant { public static int Value => 2; }
    private readonly struct D3 : IConstant { public static int Value => 3; }
    private readonly struct D4 : IConstant { public static int Value => 4; }
    private readonly struct D5 : IConstant { public static int Value => 5; }
    private readonly struct D6 : IConstant { public static int Value => 6; }
    private readonly struct D7 : IConstant { public static int Value => 7; }
    private readonly struct D8 : IConstant { public static int Value => 8; }
    private readonly struct D9 : IConstant { public static int Value => 9; }
    private readonly struct D10 : IConstant { public static int Value => 10; }
    private readonly struct D11 : IConstant { public static int Value => 11; }
    private readonly struct D12 : IConstant { public static int Value => 12; }
    private readonly struct D13 : IConstant { public static int Value => 13; }
    private readonly struct D14 : IConstant { public static int Value => 14; }
    private readonly struct D15 : IConstant { public static int Value => 15; }
}
