using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeAe.Kernels;

/// <summary>
/// The operations of one int8 kernel rung: a vector of int32 lanes (accumulators, codes), one output channel per lane.
/// The int8 kernels (<see cref="Int8Gemm{Q, TVec}"/>) are written once over this interface, as the float kernels are
/// over <see cref="ISimd{TVec}"/>; every implementation computes exactly the arithmetic of
/// <see cref="Quantization.Int8Arithmetic"/>, so every rung gives the same codes bit for bit.
/// </summary>
/// <remarks>
/// Weights are packed in quads (<see cref="Int8Layout"/>): for each group of four inputs, each output's four weights
/// are adjacent, so one int32 lane holds the four weights of one output and a dot-product instruction (VPDPBUSD, SDOT)
/// or multiply-add-adjacent instructions (VPMADDUBSW then VPMADDWD, or VPMADDWD on the even and odd bytes) add four
/// products to a lane.
/// </remarks>
/// <typeparam name="TVec">The vector type, e.g. <see cref="Vector256{T}"/> of int.</typeparam>
internal interface IInt8Simd<TVec>
    where TVec : struct
{
    /// <summary>Int32 lanes per vector (output channels per segment).</summary>
    static abstract int Count { get; }

    /// <summary>
    /// True when <see cref="Dot"/> multiplies unsigned inputs (VPDPBUSD takes u8 × s8): the kernel then starts from the
    /// biases folded for inputs offset by 128 (<see cref="Int8Layout.UnsignedBiases"/>).
    /// </summary>
    static abstract bool UnsignedInputs { get; }

    /// <summary><see cref="Count"/> int32 values from <paramref name="source"/> + <paramref name="offset"/> elements.</summary>
    static abstract TVec Load(ref int source, nuint offset);

    /// <summary>The four weights of <see cref="Count"/> outputs: <see cref="Count"/> × 4 bytes at <paramref name="source"/> + <paramref name="offset"/> bytes.</summary>
    static abstract TVec LoadQuads(ref byte source, nuint offset);

    /// <summary>Prepares the four input codes packed in <paramref name="quad"/> (little-endian bytes) for <see cref="Dot"/>.</summary>
    static abstract void Broadcast(int quad, out TVec x0, out TVec x1);

    /// <summary>acc + Σₖ x[k]·w[k] over the four inputs of a quad, in every lane.</summary>
    static abstract TVec Dot(TVec acc, TVec x0, TVec x1, TVec w);

    /// <summary>The requantised codes of accumulators: zp + ⌊(acc·M + 2ⁿ⁻¹) / 2ⁿ⌋, clamped.</summary>
    static abstract TVec Requantize(TVec acc, TVec multiplier, in Requantization r);

    /// <summary>table[z + 128] in every lane (z in −128..127): sigmoid and tanh.</summary>
    static abstract TVec Lookup(TVec z, ref byte table);

    /// <summary>Stores the lanes (codes in −128..127) as <see cref="Count"/> bytes.</summary>
    static abstract void StoreInt8(TVec q, ref sbyte destination, nuint offset);

    /// <summary>Stores scale·(q − zp) as <see cref="Count"/> floats.</summary>
    static abstract void StoreFloat(TVec q, int zeroPoint, float scale, ref float destination, nuint offset);

    /// <summary>
    /// The codes of <see cref="Count"/> floats: clamp(roundHalfEven(x·inverse) + zp, −128, 127), NaN as 0 — a rung whose
    /// <see cref="StoreInt8"/> saturates may leave the final clamp to it (the kernels store every quantised vector).
    /// </summary>
    static abstract TVec Quantize(ref float source, nuint offset, float inverse, int zeroPoint);

    /// <summary>
    /// True when two adjacent segments of this rung are requantised, activated and stored as one 512-bit vector of
    /// <see cref="Int8x512"/> (<see cref="Join"/>): the 256-bit rungs on a machine with AVX-512 BW and VBMI, where that
    /// takes about half the instructions. Same arithmetic, so the same codes.
    /// </summary>
    static virtual bool Pairs => false;

    /// <summary>The 512-bit vector whose lower half is <paramref name="lower"/> and upper half <paramref name="upper"/> (only when <see cref="Pairs"/>).</summary>
    static virtual Vector512<int> Join(TVec lower, TVec upper) => throw new UnreachableException();

    /// <summary>True when <see cref="StoreInt8Four"/> stores four vectors in fewer instructions than four <see cref="StoreInt8"/>.</summary>
    static virtual bool StoresFour => false;

    /// <summary>
    /// As <see cref="StoreInt8"/> for <paramref name="a"/>..<paramref name="d"/> at <paramref name="offset"/> +
    /// 0, 1, 2, 3 × <see cref="Count"/> (only when <see cref="StoresFour"/>); saturates to −128..127.
    /// </summary>
    static virtual void StoreInt8Four(TVec a, TVec b, TVec c, TVec d, ref sbyte destination, nuint offset) => throw new UnreachableException();

    /// <summary>True when <see cref="LookupFour"/> looks up four vectors in fewer instructions than four <see cref="Lookup"/>.</summary>
    static virtual bool LooksUpFour => false;

    /// <summary>As <see cref="Lookup"/> on <paramref name="a"/>..<paramref name="d"/> in place (only when <see cref="LooksUpFour"/>).</summary>
    static virtual void LookupFour(ref TVec a, ref TVec b, ref TVec c, ref TVec d, ref byte table) => throw new UnreachableException();
}

/// <summary>The constants of one layer's requantisation, for the logical-shift form every rung uses.</summary>
/// <remarks>
/// ⌊v / 2ⁿ⌋ for a signed 64-bit v = acc·M + 2ⁿ⁻¹ is computed with a logical shift: (v + 2⁶³) as unsigned, shifted by n,
/// is ⌊v / 2ⁿ⌋ + 2⁶³⁻ⁿ, whose low 32 bits are the result plus 2⁶³⁻ⁿ mod 2³² (the result fits in 32 bits: |acc| &lt; 2³⁰
/// and M / 2ⁿ &lt; 1). So <see cref="Round"/> = 2ⁿ⁻¹ + 2⁶³ and <see cref="Add"/> = zp − 2⁶³⁻ⁿ mod 2³².
/// </remarks>
internal readonly struct Requantization
{
    public Requantization(int shift, int zeroPoint, int min, int max)
    {
        Shift = shift;
        Round = unchecked((long)((1UL << (shift - 1)) + (1UL << 63)));
        Add = unchecked(zeroPoint - (int)(uint)(1UL << (63 - shift)));
        Min = min;
        Max = max;
    }

    public int Shift { get; }

    public long Round { get; }

    /// <summary>The requantisation of the layer whose packed block starts with <paramref name="header"/> (<see cref="Int8Header"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Requantization Of(ref int header)
        => new(header, Unsafe.Add(ref header, Int8Header.ZZeroPoint), Unsafe.Add(ref header, Int8Header.ZMin), Unsafe.Add(ref header, Int8Header.ZMax));

    public int Add { get; }

    public int Min { get; }

    public int Max { get; }
}

/// <summary>Scalar helpers every rung shares.</summary>
internal static class Int8Lanes
{
    /// <summary>The low 16 bits: sign-extended input codes 0 and 2 of a quad; the high: 1 and 3 (as VPMADDWD pairs them with even and odd weight bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pairs(int quad, out int even, out int odd)
    {
        even = (((sbyte)quad) & 0xFFFF) + (((sbyte)(quad >> 16)) << 16);
        odd = (((sbyte)(quad >> 8)) & 0xFFFF) + ((quad >> 24) << 16);
    }

    /// <summary>The scalar requantisation (<see cref="Quantization.Int8Arithmetic.Requantize"/>) in the rungs' form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, int multiplier, in Requantization r)
    {
        ulong v = unchecked((ulong)(((long)acc * multiplier) + r.Round));
        int q = unchecked((int)(uint)(v >> r.Shift) + r.Add);
        return Math.Clamp(q, r.Min, r.Max);
    }

    /// <summary>The scalar float-to-code conversion (<see cref="Quantization.Int8Arithmetic.Quantize"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Quantize(float x, float inverse, int zeroPoint)
    {
        float t = x * inverse;
        t = float.IsNaN(t) ? 0f : Math.Clamp(t, -65536f, 65536f);
        return Math.Clamp((int)MathF.Round(t) + zeroPoint, -128, 127);
    }

    /// <summary>
    /// table[index] for 16 byte indices 0..255 with AVX-512 VBMI: two 128-entry lookups (VPERMI2B over two 64-byte halves
    /// each), the one for indices ≥ 128 chosen by the index's top bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> LookupBytes(Vector128<byte> index, ref byte table)
    {
        Vector512<byte> wide = index.ToVector256Unsafe().ToVector512Unsafe();
        Vector512<byte> lower = Avx512Vbmi.PermuteVar64x8x2(Vector512.LoadUnsafe(ref table), wide, Vector512.LoadUnsafe(ref table, 64));
        Vector512<byte> upper = Avx512Vbmi.PermuteVar64x8x2(Vector512.LoadUnsafe(ref table, 128), wide, Vector512.LoadUnsafe(ref table, 192));
        Vector512<byte> pick = Vector512.ShiftRightArithmetic(wide.AsSByte(), 7).AsByte();
        return Vector512.ConditionalSelect(pick, upper, lower).AsSByte().GetLower().GetLower();
    }

    /// <summary>Lane by lane: table[z + 128] (rungs without a vector table lookup).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Lookup(int z, ref byte table) => (sbyte)Unsafe.Add(ref table, z + 128);
}

/// <summary>512-bit rung (AVX-512 BW): the even and odd weight bytes sign-extended to 16 bits, two VPMADDWD per quad.</summary>
internal readonly struct Int8x512 : IInt8Simd<Vector512<int>>
{
    public static bool IsSupported => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated;

    public static int Count => 16;

    public static bool UnsignedInputs => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Load(ref int source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> LoadQuads(ref byte source, nuint offset) => Vector512.LoadUnsafe(ref source, offset).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast(int quad, out Vector512<int> x0, out Vector512<int> x1)
    {
        Int8Lanes.Pairs(quad, out int even, out int odd);
        x0 = Vector512.Create(even);
        x1 = Vector512.Create(odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<int> acc, Vector512<int> x0, Vector512<int> x1, Vector512<int> w)
    {
        Vector512<short> words = w.AsInt16();
        Vector512<short> even = Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(words, 8), 8);
        Vector512<short> odd = Vector512.ShiftRightArithmetic(words, 8);
        return acc + Avx512BW.MultiplyAddAdjacent(even, x0.AsInt16()) + Avx512BW.MultiplyAddAdjacent(odd, x1.AsInt16());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Requantize(Vector512<int> acc, Vector512<int> multiplier, in Requantization r)
    {
        Vector512<long> round = Vector512.Create(r.Round);
        Vector512<long> even = Avx512F.Multiply(acc, multiplier).AsInt64() + round;
        Vector512<long> odd = Avx512F.Multiply(Vector512.ShiftRightLogical(acc.AsInt64(), 32).AsInt32(), Vector512.ShiftRightLogical(multiplier.AsInt64(), 32).AsInt32()).AsInt64() + round;
        Vector512<long> low = Vector512.ShiftRightLogical(even, r.Shift) & Vector512.Create(0xFFFFFFFFL);
        Vector512<long> high = Vector512.ShiftLeft(Vector512.ShiftRightLogical(odd, r.Shift), 32);
        Vector512<int> q = (low | high).AsInt32() + Vector512.Create(r.Add);
        return Vector512.Min(Vector512.Max(q, Vector512.Create(r.Min)), Vector512.Create(r.Max));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Lookup(Vector512<int> z, ref byte table)
    {
        if (Avx512Vbmi.IsSupported)
        {
            Vector128<sbyte> bytes = Int8Lanes.LookupBytes(Avx512F.ConvertToVector128SByte(z + Vector512.Create(128)).AsByte(), ref table);
            return Avx512F.ConvertToVector512Int32(bytes);
        }

        Span<int> lanes = stackalloc int[16];
        z.StoreUnsafe(ref MemoryMarshal.GetReference(lanes));
        for (int k = 0; k < 16; k++)
        {
            lanes[k] = Int8Lanes.Lookup(lanes[k], ref table);
        }

        return Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(lanes));
    }

    /// <summary>Stores with signed saturation (VPMOVSDB): codes already in −128..127 are stored as they are, so
    /// <see cref="Quantize"/> leaves its final clamp to this narrow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8(Vector512<int> q, ref sbyte destination, nuint offset)
        => Avx512F.ConvertToVector128SByteWithSaturation(q).StoreUnsafe(ref destination, offset);

    public static bool StoresFour => true;

    /// <summary>
    /// Two saturating packs per pair and one VPERMD: one 64-byte store for four vectors. Four VPMOVSDB to memory were
    /// slower: input quantisation took 18 % of the M1 batch-64 int8 encode's kernel samples on an Intel Xeon, 14 % now.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8Four(Vector512<int> a, Vector512<int> b, Vector512<int> c, Vector512<int> d, ref sbyte destination, nuint offset)
    {
        // Per 128-bit lane L the packs leave four codes of a, b, c, d in turn (int32 4L + v holds codes 4L..4L+3 of
        // vector v); the permutation puts int32 4v + L there.
        Vector512<sbyte> packed = Avx512BW.PackSignedSaturate(Avx512BW.PackSignedSaturate(a, b), Avx512BW.PackSignedSaturate(c, d));
        Vector512<int> order = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        Avx512F.PermuteVar16x32(packed.AsInt32(), order).AsSByte().StoreUnsafe(ref destination, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFloat(Vector512<int> q, int zeroPoint, float scale, ref float destination, nuint offset)
        => (Vector512.ConvertToSingle(q - Vector512.Create(zeroPoint)) * Vector512.Create(scale)).StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Quantize(ref float source, nuint offset, float inverse, int zeroPoint)
    {
        Vector512<float> t = Vector512.LoadUnsafe(ref source, offset) * Vector512.Create(inverse);
        if (Avx512DQ.IsSupported)
        {
            // Three instructions where the portable form below takes seven (compare, mask, AND, max, min, round,
            // convert): VFIXUPIMMPS answers +0 for a NaN (quiet or signalling; nibbles 0 and 1 of the table = 8) and t
            // itself for every other class (1); VRANGEPS keeps the smaller magnitude of t and 65,536 with t's sign
            // (control 0b0010), the ±65,536 clamp; VCVTPS2DQ rounds half to even by its embedded rounding. The
            // −128..127 clamp is the saturating narrow of StoreInt8.
            t = Avx512F.Fixup(t, t, Vector512.Create(0x11111188), 0);
            t = Avx512DQ.Range(t, Vector512.Create(65536f), 0b0010);
            return Avx512F.ConvertToVector512Int32(t, FloatRoundingMode.ToEven) + Vector512.Create(zeroPoint);
        }

        // NaN → 0 (an AND with the ordered mask), the ±65,536 clamp, round half to even; the −128..127 clamp is the
        // saturating narrow of StoreInt8.
        t &= Vector512.Equals(t, t);
        t = Vector512.Round(Vector512.Min(Vector512.Max(t, Vector512.Create(-65536f)), Vector512.Create(65536f)));
        return Vector512.ConvertToInt32Native(t) + Vector512.Create(zeroPoint);
    }
}

/// <summary>256-bit rung with AVX-VNNI: one VPDPBUSD (u8 × s8, four products per lane) per quad; inputs offset by 128.</summary>
internal readonly struct Int8x256Vnni : IInt8Simd<Vector256<int>>
{
    public static bool IsSupported => AvxVnni.IsSupported && Vector256.IsHardwareAccelerated;

    public static bool Pairs => Int8x256.Pairs;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Join(Vector256<int> lower, Vector256<int> upper) => Int8x256.Join(lower, upper);

    public static int Count => 8;

    public static bool UnsignedInputs => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Load(ref int source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> LoadQuads(ref byte source, nuint offset) => Vector256.LoadUnsafe(ref source, offset).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast(int quad, out Vector256<int> x0, out Vector256<int> x1)
    {
        // Broadcast, then flip the sign bits (u8 = q + 128): the broadcast reads memory directly; the XOR's constant stays
        // in a register, or with VEX's 16 registers (a 3 × 4 tile fills them) the JIT reloads it from memory.
        x0 = Vector256.Create(quad) ^ Vector256.Create(unchecked((int)0x80808080));
        x1 = x0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<int> x0, Vector256<int> x1, Vector256<int> w)
        => AvxVnni.MultiplyWideningAndAdd(acc, x0.AsByte(), w.AsSByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Requantize(Vector256<int> acc, Vector256<int> multiplier, in Requantization r) => Int8x256.Requantize(acc, multiplier, r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Lookup(Vector256<int> z, ref byte table) => Int8x256.Lookup(z, ref table);

    public static bool LooksUpFour => Int8x256.LooksUpFour;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LookupFour(ref Vector256<int> a, ref Vector256<int> b, ref Vector256<int> c, ref Vector256<int> d, ref byte table)
        => Int8x256.LookupFour(ref a, ref b, ref c, ref d, ref table);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8(Vector256<int> q, ref sbyte destination, nuint offset) => Int8x256.StoreInt8(q, ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFloat(Vector256<int> q, int zeroPoint, float scale, ref float destination, nuint offset) => Int8x256.StoreFloat(q, zeroPoint, scale, ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Quantize(ref float source, nuint offset, float inverse, int zeroPoint) => Int8x256.Quantize(ref source, offset, inverse, zeroPoint);
}

/// <summary>256-bit rung (AVX2): VPSIGNB, VPMADDUBSW and VPMADDWD per quad (<see cref="Dot"/>).</summary>
internal readonly struct Int8x256 : IInt8Simd<Vector256<int>>
{
    public static bool IsSupported => Avx2.IsSupported && Vector256.IsHardwareAccelerated;

    public static bool Pairs => Int8x512.IsSupported && Avx512Vbmi.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Join(Vector256<int> lower, Vector256<int> upper) => Vector512.Create(lower, upper);

    public static int Count => 8;

    public static bool UnsignedInputs => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Load(ref int source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> LoadQuads(ref byte source, nuint offset) => Vector256.LoadUnsafe(ref source, offset).AsInt32();

    /// <summary>x0: the codes' magnitudes as unsigned bytes (0..128); x1: the codes, whose signs <see cref="Dot"/> moves onto the weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast(int quad, out Vector256<int> x0, out Vector256<int> x1)
    {
        x1 = Vector256.Create(quad);
        x0 = Avx2.Abs(x1.AsSByte()).AsInt32();
    }

    /// <summary>
    /// |x|·(w·sign x) = x·w byte by byte: VPSIGNB, then VPMADDUBSW adds each pair of products in int16 — exactly, since
    /// |x| ≤ 128 and |w| ≤ 127 (weights are symmetric) keep a pair within ±32,512 — and VPMADDWD by ones adds the two
    /// pairs of a quad in int32. Four instructions where splitting the weights into even and odd words took seven.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<int> x0, Vector256<int> x1, Vector256<int> w)
    {
        Vector256<short> pairs = Avx2.MultiplyAddAdjacent(x0.AsByte(), Avx2.Sign(w.AsSByte(), x1.AsSByte()));
        return acc + Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Requantize(Vector256<int> acc, Vector256<int> multiplier, in Requantization r)
    {
        Vector256<long> round = Vector256.Create(r.Round);
        Vector256<long> even = Avx2.Multiply(acc, multiplier).AsInt64() + round;
        Vector256<long> odd = Avx2.Multiply(Vector256.ShiftRightLogical(acc.AsInt64(), 32).AsInt32(), Vector256.ShiftRightLogical(multiplier.AsInt64(), 32).AsInt32()).AsInt64() + round;
        Vector256<long> low = Vector256.ShiftRightLogical(even, r.Shift) & Vector256.Create(0xFFFFFFFFL);
        Vector256<long> high = Vector256.ShiftLeft(Vector256.ShiftRightLogical(odd, r.Shift), 32);
        Vector256<int> q = (low | high).AsInt32() + Vector256.Create(r.Add);
        return Vector256.Min(Vector256.Max(q, Vector256.Create(r.Min)), Vector256.Create(r.Max));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<int> Lookup(Vector256<int> z, ref byte table)
    {
        if (Avx512Vbmi.IsSupported && Avx512F.VL.IsSupported)
        {
            Vector128<sbyte> bytes = Int8Lanes.LookupBytes(Avx512F.VL.ConvertToVector128SByte(z + Vector256.Create(128)).AsByte(), ref table);
            return Avx2.ConvertToVector256Int32(bytes);
        }

        // The table's sign-extended int32 copy follows its 256 bytes (Int8Layout); the packed buffer is pinned.
        int* wide = (int*)Unsafe.AsPointer(ref Unsafe.Add(ref table, Int8Layout.TableBytes));
        return Avx2.GatherVector256(wide, z + Vector256.Create(128), 4);
    }

    /// <summary>Without AVX-512 VBMI (whose byte permutes <see cref="Lookup"/> uses): VPSHUFB slices instead of gathers.</summary>
    public static bool LooksUpFour => !(Avx512Vbmi.IsSupported && Avx512F.VL.IsSupported);

    /// <summary>
    /// table[z + 128] for 32 codes at once (four VPGATHERDD cost more: the M1 int8 reconstruction on a Zen 3 took
    /// 3.33–3.40 µs with them, 2.88–2.90 µs with this): the codes packed into bytes (saturating packs; they are within
    /// −128..127) and their sign bits flipped (index z + 128); for each high nibble h, VPSHUFB reads entries
    /// 16h..16h + 15 (VBROADCASTI128) by the low nibble, and a compare and a blend keep them where the high nibble is h;
    /// VPERMD and sign extensions give the four vectors back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void LookupFour(ref Vector256<int> a, ref Vector256<int> b, ref Vector256<int> c, ref Vector256<int> d, ref byte table)
    {
        Vector256<byte> index = PackFour(a, b, c, d).AsByte() ^ Vector256.Create((byte)0x80);
        Vector256<byte> low = index & Vector256.Create((byte)0x0F);
        Vector256<byte> high = Vector256.ShiftRightLogical(index.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);

        // The packed buffer is pinned (as for the gather in Lookup).
        byte* entries = (byte*)Unsafe.AsPointer(ref table);
        Vector256<byte> result = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(entries), low);
        result = Slice(result, low, high, entries, 1);
        result = Slice(result, low, high, entries, 2);
        result = Slice(result, low, high, entries, 3);
        result = Slice(result, low, high, entries, 4);
        result = Slice(result, low, high, entries, 5);
        result = Slice(result, low, high, entries, 6);
        result = Slice(result, low, high, entries, 7);
        result = Slice(result, low, high, entries, 8);
        result = Slice(result, low, high, entries, 9);
        result = Slice(result, low, high, entries, 10);
        result = Slice(result, low, high, entries, 11);
        result = Slice(result, low, high, entries, 12);
        result = Slice(result, low, high, entries, 13);
        result = Slice(result, low, high, entries, 14);
        result = Slice(result, low, high, entries, 15);

        // Back in order (a0–7, b0–7 | c0–7, d0–7), then each eight sign-extended to int32.
        Vector256<sbyte> ordered = InOrder(result.AsSByte());
        Vector128<sbyte> ab = ordered.GetLower(), cd = ordered.GetUpper();
        a = Avx2.ConvertToVector256Int32(ab);
        b = Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(ab, 8));
        c = Avx2.ConvertToVector256Int32(cd);
        d = Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(cd, 8));
    }

    /// <summary>Entries 16h..16h + 15 of the table by the low nibbles, kept where the high nibble is <paramref name="h"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Slice(Vector256<byte> result, Vector256<byte> low, Vector256<byte> high, byte* entries, int h)
        => Avx2.BlendVariable(result, Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(entries + (16 * h)), low), Vector256.Equals(high, Vector256.Create((byte)h)));

    /// <summary>Saturating: VPMOVSDB with AVX-512 VL, else VPACKSSDW and VPACKSSWB.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8(Vector256<int> q, ref sbyte destination, nuint offset)
    {
        if (Avx512F.VL.IsSupported)
        {
            Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref destination, offset)), Avx512F.VL.ConvertToVector128SByteWithSaturation(q).AsInt64().ToScalar());
            return;
        }

        // Per 128-bit half: codes 0–3 (4–7) four times; the low int32 of each half holds them.
        Vector256<short> words = Avx2.PackSignedSaturate(q, q);
        Vector256<sbyte> bytes = Avx2.PackSignedSaturate(words, words);
        long both = (uint)bytes.AsInt32().GetElement(0) | ((long)bytes.AsInt32().GetElement(4) << 32);
        Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref destination, offset)), both);
    }

    public static bool StoresFour => true;

    /// <summary>Three saturating packs and one VPERMD put 32 codes in order: one 32-byte store for four vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8Four(Vector256<int> a, Vector256<int> b, Vector256<int> c, Vector256<int> d, ref sbyte destination, nuint offset)
        => InOrder(PackFour(a, b, c, d)).StoreUnsafe(ref destination, offset);

    /// <summary>
    /// The 32 codes of four vectors as bytes, saturated to −128..127, in the packs' order: per 128-bit half
    /// a0–3 b0–3 c0–3 d0–3 | a4–7 b4–7 c4–7 d4–7 (groups of four codes; <see cref="InOrder"/> sorts them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> PackFour(Vector256<int> a, Vector256<int> b, Vector256<int> c, Vector256<int> d)
        => Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(a, b), Avx2.PackSignedSaturate(c, d));

    /// <summary>Bytes in <see cref="PackFour"/>'s order put in order (a0–7, b0–7, c0–7, d0–7) by one VPERMD.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> InOrder(Vector256<sbyte> packed)
        => Avx2.PermuteVar8x32(packed.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFloat(Vector256<int> q, int zeroPoint, float scale, ref float destination, nuint offset)
        => (Vector256.ConvertToSingle(q - Vector256.Create(zeroPoint)) * Vector256.Create(scale)).StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Quantize(ref float source, nuint offset, float inverse, int zeroPoint)
    {
        // NaN → 0 (an AND with the ordered mask), the ±65,536 clamp; VCVTPS2DQ rounds half to even (the default MXCSR
        // mode .NET keeps); the −128..127 clamp is the saturating StoreInt8.
        Vector256<float> t = Vector256.LoadUnsafe(ref source, offset) * Vector256.Create(inverse);
        t &= Vector256.Equals(t, t);
        t = Vector256.Min(Vector256.Max(t, Vector256.Create(-65536f)), Vector256.Create(65536f));
        return Avx.ConvertToVector256Int32(t) + Vector256.Create(zeroPoint);
    }
}

/// <summary>128-bit rung with AVX-VNNI (VEX VPDPBUSD on xmm).</summary>
internal readonly struct Int8x128Vnni : IInt8Simd<Vector128<int>>
{
    public static bool IsSupported => AvxVnni.IsSupported && Vector128.IsHardwareAccelerated;

    public static int Count => 4;

    public static bool UnsignedInputs => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Load(ref int source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadQuads(ref byte source, nuint offset) => Vector128.LoadUnsafe(ref source, offset).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast(int quad, out Vector128<int> x0, out Vector128<int> x1)
    {
        x0 = Vector128.Create(quad) ^ Vector128.Create(unchecked((int)0x80808080));
        x1 = x0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> x0, Vector128<int> x1, Vector128<int> w)
        => AvxVnni.MultiplyWideningAndAdd(acc, x0.AsByte(), w.AsSByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Requantize(Vector128<int> acc, Vector128<int> multiplier, in Requantization r) => Int8x128.Requantize(acc, multiplier, r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Lookup(Vector128<int> z, ref byte table) => Int8x128.Lookup(z, ref table);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8(Vector128<int> q, ref sbyte destination, nuint offset) => Int8x128.StoreInt8(q, ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFloat(Vector128<int> q, int zeroPoint, float scale, ref float destination, nuint offset) => Int8x128.StoreFloat(q, zeroPoint, scale, ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Quantize(ref float source, nuint offset, float inverse, int zeroPoint) => Int8x128.Quantize(ref source, offset, inverse, zeroPoint);
}

/// <summary>
/// 128-bit rung: PSIGNB, PMADDUBSW and PMADDWD (SSSE3, as <see cref="Int8x256.Dot"/>; x64), or SDOT (<see cref="Dp"/>, ARM64); the
/// requantisation's 64-bit products by PMULDQ (SSE4.1) or SMULL/SMULL2 (ARM64).
/// </summary>
internal readonly struct Int8x128 : IInt8Simd<Vector128<int>>
{
    public static bool IsSupported => Vector128.IsHardwareAccelerated && (Sse41.IsSupported || Dp.IsSupported);

    public static int Count => 4;

    public static bool UnsignedInputs => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Load(ref int source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadQuads(ref byte source, nuint offset) => Vector128.LoadUnsafe(ref source, offset).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast(int quad, out Vector128<int> x0, out Vector128<int> x1)
    {
        if (Dp.IsSupported)
        {
            x0 = Vector128.Create(quad);
            x1 = x0;
            return;
        }

        // As Int8x256: the magnitudes, and the codes for their signs.
        x1 = Vector128.Create(quad);
        x0 = Ssse3.Abs(x1.AsSByte()).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> x0, Vector128<int> x1, Vector128<int> w)
    {
        if (Dp.IsSupported)
        {
            return Dp.DotProduct(acc, x0.AsSByte(), w.AsSByte());
        }

        // PSIGNB, PMADDUBSW (pairs exact in int16, see Int8x256.Dot), PMADDWD by ones.
        Vector128<short> pairs = Ssse3.MultiplyAddAdjacent(x0.AsByte(), Ssse3.Sign(w.AsSByte(), x1.AsSByte()));
        return acc + Sse2.MultiplyAddAdjacent(pairs, Vector128<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Requantize(Vector128<int> acc, Vector128<int> multiplier, in Requantization r)
    {
        Vector128<long> round = Vector128.Create(r.Round);
        Vector128<int> q;
        if (AdvSimd.IsSupported)
        {
            // SMULL/SMULL2 give lanes 0–1 and 2–3 as 64-bit products; XTN/XTN2 keep their low halves in order.
            Vector128<long> lower = AdvSimd.MultiplyWideningLower(acc.GetLower(), multiplier.GetLower()) + round;
            Vector128<long> upper = AdvSimd.MultiplyWideningUpper(acc, multiplier) + round;
            Vector64<int> low = AdvSimd.ExtractNarrowingLower(Vector128.ShiftRightLogical(lower, r.Shift));
            q = AdvSimd.ExtractNarrowingUpper(low, Vector128.ShiftRightLogical(upper, r.Shift));
        }
        else
        {
            Vector128<long> even = Sse41.Multiply(acc, multiplier).AsInt64() + round;
            Vector128<long> odd = Sse41.Multiply(Vector128.ShiftRightLogical(acc.AsInt64(), 32).AsInt32(), Vector128.ShiftRightLogical(multiplier.AsInt64(), 32).AsInt32()).AsInt64() + round;
            Vector128<long> low = Vector128.ShiftRightLogical(even, r.Shift) & Vector128.Create(0xFFFFFFFFL);
            Vector128<long> high = Vector128.ShiftLeft(Vector128.ShiftRightLogical(odd, r.Shift), 32);
            q = (low | high).AsInt32();
        }

        q += Vector128.Create(r.Add);
        return Vector128.Min(Vector128.Max(q, Vector128.Create(r.Min)), Vector128.Create(r.Max));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Lookup(Vector128<int> z, ref byte table)
        => Avx512Vbmi.IsSupported && Avx512F.VL.IsSupported
            ? Sse41.ConvertToVector128Int32(Int8Lanes.LookupBytes(Avx512F.VL.ConvertToVector128SByte(z + Vector128.Create(128)).AsByte(), ref table))
            : Vector128.Create(
            Int8Lanes.Lookup(z.GetElement(0), ref table),
            Int8Lanes.Lookup(z.GetElement(1), ref table),
            Int8Lanes.Lookup(z.GetElement(2), ref table),
            Int8Lanes.Lookup(z.GetElement(3), ref table));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8(Vector128<int> q, ref sbyte destination, nuint offset)
    {
        Vector128<short> words = Vector128.Narrow(q, q);
        Vector128<sbyte> bytes = Vector128.Narrow(words, words);
        Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref destination, offset)), bytes.AsInt32().ToScalar());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFloat(Vector128<int> q, int zeroPoint, float scale, ref float destination, nuint offset)
        => (Vector128.ConvertToSingle(q - Vector128.Create(zeroPoint)) * Vector128.Create(scale)).StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Quantize(ref float source, nuint offset, float inverse, int zeroPoint)
    {
        Vector128<float> t = Vector128.LoadUnsafe(ref source, offset) * Vector128.Create(inverse);
        t = Vector128.ConditionalSelect(Vector128.Equals(t, t), t, Vector128<float>.Zero);
        t = Vector128.Round(Vector128.Min(Vector128.Max(t, Vector128.Create(-65536f)), Vector128.Create(65536f)));
        Vector128<int> q = Vector128.ConvertToInt32(t) + Vector128.Create(zeroPoint);
        return Vector128.Min(Vector128.Max(q, Vector128.Create(-128)), Vector128.Create(127));
    }
}

/// <summary>
/// 128-bit rung from cross-platform vector operations only (shifts and 32-bit multiplies): ARM64 without the dot
/// product extension. It runs on any machine with Vector128, so the tests check it on x64 too.
/// </summary>
internal readonly struct Int8x128Portable : IInt8Simd<Vector128<int>>
{
    public static bool IsSupported => Vector128.IsHardwareAccelerated;

    public static int Count => 4;

    public static bool UnsignedInputs => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Load(ref int source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadQuads(ref byte source, nuint offset) => Vector128.LoadUnsafe(ref source, offset).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast(int quad, out Vector128<int> x0, out Vector128<int> x1)
    {
        Int8Lanes.Pairs(quad, out int even, out int odd);
        x0 = Vector128.Create(even);
        x1 = Vector128.Create(odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> x0, Vector128<int> x1, Vector128<int> w)
    {
        // Each weight byte sign-extended to 32 bits by a left then an arithmetic right shift; inputs likewise from the pairs.
        Vector128<int> w0 = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(w, 24), 24);
        Vector128<int> w1 = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(w, 16), 24);
        Vector128<int> w2 = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(w, 8), 24);
        Vector128<int> w3 = Vector128.ShiftRightArithmetic(w, 24);
        Vector128<int> i0 = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(x0, 16), 16), i2 = Vector128.ShiftRightArithmetic(x0, 16);
        Vector128<int> i1 = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(x1, 16), 16), i3 = Vector128.ShiftRightArithmetic(x1, 16);
        return acc + (w0 * i0) + (w1 * i1) + (w2 * i2) + (w3 * i3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Requantize(Vector128<int> acc, Vector128<int> multiplier, in Requantization r)
    {
        Vector128<long> round = Vector128.Create(r.Round);
        Vector128<long> lower = (Vector128.WidenLower(acc) * Vector128.WidenLower(multiplier)) + round;
        Vector128<long> upper = (Vector128.WidenUpper(acc) * Vector128.WidenUpper(multiplier)) + round;
        Vector128<int> q = Vector128.Narrow(Vector128.ShiftRightLogical(lower, r.Shift), Vector128.ShiftRightLogical(upper, r.Shift)) + Vector128.Create(r.Add);
        return Vector128.Min(Vector128.Max(q, Vector128.Create(r.Min)), Vector128.Create(r.Max));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Lookup(Vector128<int> z, ref byte table) => Int8x128.Lookup(z, ref table);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8(Vector128<int> q, ref sbyte destination, nuint offset) => Int8x128.StoreInt8(q, ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFloat(Vector128<int> q, int zeroPoint, float scale, ref float destination, nuint offset) => Int8x128.StoreFloat(q, zeroPoint, scale, ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Quantize(ref float source, nuint offset, float inverse, int zeroPoint) => Int8x128.Quantize(ref source, offset, inverse, zeroPoint);
}

/// <summary>One output channel at a time (layers narrower than four outputs, machines without vectors).</summary>
internal readonly struct Int8x1 : IInt8Simd<int>
{
    public static int Count => 1;

    public static bool UnsignedInputs => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Load(ref int source, nuint offset) => Unsafe.Add(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LoadQuads(ref byte source, nuint offset) => Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref source, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Broadcast(int quad, out int x0, out int x1)
    {
        x0 = quad;
        x1 = quad;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(int acc, int x0, int x1, int w)
        => acc + ((sbyte)x0 * (sbyte)w) + ((sbyte)(x0 >> 8) * (sbyte)(w >> 8)) + ((sbyte)(x0 >> 16) * (sbyte)(w >> 16)) + ((x0 >> 24) * (w >> 24));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, int multiplier, in Requantization r) => Int8Lanes.Requantize(acc, multiplier, r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Lookup(int z, ref byte table) => Int8Lanes.Lookup(z, ref table);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInt8(int q, ref sbyte destination, nuint offset) => Unsafe.Add(ref destination, offset) = (sbyte)q;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFloat(int q, int zeroPoint, float scale, ref float destination, nuint offset) => Unsafe.Add(ref destination, offset) = scale * (q - zeroPoint);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Quantize(ref float source, nuint offset, float inverse, int zeroPoint) => Int8Lanes.Quantize(Unsafe.Add(ref source, offset), inverse, zeroPoint);
}
