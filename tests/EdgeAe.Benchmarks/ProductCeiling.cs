using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using EdgeAe.Kernels;

namespace EdgeAe.Benchmarks;

/// <summary>
/// What the CPU's 256-bit instructions allow an int8 product against a float32 one, without memory in the way: the
/// innermost loop of a batch tile, on weights that stay in the L1 cache, the same 24,576 multiply-adds per call in
/// both. Float32: a 4-row × 3-segment tile of FMAs (8 outputs per segment). Int8: a 3-row × 4-segment tile of the
/// int8 kernels' own product (<see cref="IInt8Simd{TVec}.Dot"/>: VPDPBUSD where the CPU has AVX-VNNI, else VPSIGNB,
/// VPMADDUBSW and VPMADDWD), the shape the int8 kernels use on 256 bits. The ratio of the two means is the most a batch
/// product in int8 can gain over float32 on this CPU (docs/BENCHMARKS.md).
/// </summary>
[MemoryDiagnoser]
public class ProductCeiling
{
    private const int Inputs = 256;
    private float[] _weights = null!;
    private float[] _x = null!;
    private byte[] _quads = null!;
    private int[] _codes = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (!Avx2.IsSupported || !Fma.IsSupported)
        {
            throw new PlatformNotSupportedException("ProductCeiling measures 256-bit AVX2 and FMA instructions.");
        }

        var random = new Random(1);
        _weights = new float[Inputs * 24];
        _x = new float[Inputs * 4];
        _quads = new byte[Inputs * 32];
        _codes = new int[(Inputs / 4) * 3];
        for (int i = 0; i < _weights.Length; i++)
        {
            _weights[i] = (float)random.NextDouble() - 0.5f;
        }

        for (int i = 0; i < _x.Length; i++)
        {
            _x[i] = (float)random.NextDouble();
        }

        random.NextBytes(_quads);
        for (int i = 0; i < _quads.Length; i++)
        {
            _quads[i] = _quads[i] == 0x80 ? (byte)0x81 : _quads[i]; // symmetric weights: −127..127
        }

        for (int i = 0; i < _codes.Length; i++)
        {
            _codes[i] = random.Next();
        }
    }

    /// <summary>Float32: 4 rows × 24 outputs × 256 inputs, one FMA per 8 multiply-adds.</summary>
    [Benchmark(Baseline = true)]
    public float Float32Fma() => FloatTile(ref _weights[0], ref _x[0]);

    /// <summary>Int8: 3 rows × 32 outputs × 256 inputs, the kernels' product per quad of inputs.</summary>
    [Benchmark]
    public int QuantizedDot() => AvxVnni.IsSupported ? Int8Tile<Int8x256Vnni>(ref _quads[0], ref _codes[0]) : Int8Tile<Int8x256>(ref _quads[0], ref _codes[0]);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float FloatTile(ref float w, ref float x)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        for (nuint k = 0; k < Inputs; k++)
        {
            Vector256<float> w0 = Vector256.LoadUnsafe(ref w, k * 24), w1 = Vector256.LoadUnsafe(ref w, (k * 24) + 8);
            Vector256<float> w2 = Vector256.LoadUnsafe(ref w, (k * 24) + 16);
            Vector256<float> x0 = Vector256.Create(Unsafe.Add(ref x, k));
            a00 = Fma.MultiplyAdd(w0, x0, a00); a01 = Fma.MultiplyAdd(w1, x0, a01); a02 = Fma.MultiplyAdd(w2, x0, a02);
            Vector256<float> x1 = Vector256.Create(Unsafe.Add(ref x, k + Inputs));
            a10 = Fma.MultiplyAdd(w0, x1, a10); a11 = Fma.MultiplyAdd(w1, x1, a11); a12 = Fma.MultiplyAdd(w2, x1, a12);
            Vector256<float> x2 = Vector256.Create(Unsafe.Add(ref x, k + (2 * Inputs)));
            a20 = Fma.MultiplyAdd(w0, x2, a20); a21 = Fma.MultiplyAdd(w1, x2, a21); a22 = Fma.MultiplyAdd(w2, x2, a22);
            Vector256<float> x3 = Vector256.Create(Unsafe.Add(ref x, k + (3 * Inputs)));
            a30 = Fma.MultiplyAdd(w0, x3, a30); a31 = Fma.MultiplyAdd(w1, x3, a31); a32 = Fma.MultiplyAdd(w2, x3, a32);
        }

        return Vector256.Sum(a00 + a01 + a02 + a10 + a11 + a12 + a20 + a21 + a22 + a30 + a31 + a32);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Int8Tile<Q>(ref byte w, ref int codes)
        where Q : struct, IInt8Simd<Vector256<int>>
    {
        Vector256<int> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default;
        Vector256<int> a12 = default, a13 = default, a20 = default, a21 = default, a22 = default, a23 = default;
        for (nuint q = 0; q < Inputs / 4; q++)
        {
            Vector256<int> w0 = Q.LoadQuads(ref w, q * 128), w1 = Q.LoadQuads(ref w, (q * 128) + 32);
            Vector256<int> w2 = Q.LoadQuads(ref w, (q * 128) + 64), w3 = Q.LoadQuads(ref w, (q * 128) + 96);
            Q.Broadcast(Unsafe.Add(ref codes, q), out Vector256<int> x0, out Vector256<int> x1);
            a00 = Q.Dot(a00, x0, x1, w0); a01 = Q.Dot(a01, x0, x1, w1); a02 = Q.Dot(a02, x0, x1, w2); a03 = Q.Dot(a03, x0, x1, w3);
            Q.Broadcast(Unsafe.Add(ref codes, q + (Inputs / 4)), out x0, out x1);
            a10 = Q.Dot(a10, x0, x1, w0); a11 = Q.Dot(a11, x0, x1, w1); a12 = Q.Dot(a12, x0, x1, w2); a13 = Q.Dot(a13, x0, x1, w3);
            Q.Broadcast(Unsafe.Add(ref codes, q + (Inputs / 2)), out x0, out x1);
            a20 = Q.Dot(a20, x0, x1, w0); a21 = Q.Dot(a21, x0, x1, w1); a22 = Q.Dot(a22, x0, x1, w2); a23 = Q.Dot(a23, x0, x1, w3);
        }

        return Vector256.Sum(a00 + a01 + a02 + a03 + a10 + a11 + a12 + a13 + a20 + a21 + a22 + a23);
    }
}
