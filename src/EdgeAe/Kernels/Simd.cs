using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeAe.Kernels;

/// <summary>
/// The operations of one SIMD width on float vectors. Kernels are written once as generic methods over an
/// implementation of this interface (<see cref="Simd512"/>, <see cref="Simd256"/>, <see cref="Simd128"/>); every
/// implementation is a struct, so the JIT compiles each kernel separately for each width and inlines these calls:
/// the generic source costs nothing at run time (System.Numerics.Tensors' TensorPrimitives works the same way with
/// its own internal interface).
/// </summary>
/// <typeparam name="TVec">The vector type, e.g. <see cref="Vector512{T}"/> of float.</typeparam>
internal interface ISimd<TVec>
    where TVec : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TVec Zero { get; }

    /// <summary><paramref name="value"/> in every lane.</summary>
    static abstract TVec Create(float value);

    /// <summary>Count floats from <paramref name="source"/> + <paramref name="offset"/> elements (no alignment needed).</summary>
    static abstract TVec Load(ref float source, nuint offset);

    /// <summary>Writes Count floats to <paramref name="destination"/> + <paramref name="offset"/> elements.</summary>
    static abstract void Store(TVec value, ref float destination, nuint offset);

    /// <summary>a + b.</summary>
    static abstract TVec Add(TVec a, TVec b);

    /// <summary>a − b.</summary>
    static abstract TVec Subtract(TVec a, TVec b);

    /// <summary>a · b.</summary>
    static abstract TVec Multiply(TVec a, TVec b);

    /// <summary>a / b.</summary>
    static abstract TVec Divide(TVec a, TVec b);

    /// <summary>
    /// a·b + c: fused where the machine fuses (FMA3 on x64, AdvSimd on ARM64), else a multiply then an add — the same
    /// choice in every width, also where a width runs in software (so that the activations built on it agree bit for bit).
    /// </summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    /// <summary>The larger of each pair (the platform's behaviour for NaN and signed zeros).</summary>
    static abstract TVec MaxNative(TVec a, TVec b);

    /// <summary>The smaller of each pair (the platform's behaviour for NaN and signed zeros).</summary>
    static abstract TVec MinNative(TVec a, TVec b);

    /// <summary>|a|.</summary>
    static abstract TVec Abs(TVec a);

    /// <summary>−a.</summary>
    static abstract TVec Negate(TVec a);

    /// <summary>⌊a⌋.</summary>
    static abstract TVec Floor(TVec a);

    /// <summary>√a.</summary>
    static abstract TVec Sqrt(TVec a);

    /// <summary>All bits set in lanes where a &gt; b.</summary>
    static abstract TVec GreaterThan(TVec a, TVec b);

    /// <summary>All bits set in lanes where a ≥ b.</summary>
    static abstract TVec GreaterThanOrEqual(TVec a, TVec b);

    /// <summary>All bits set in lanes where a &lt; b.</summary>
    static abstract TVec LessThan(TVec a, TVec b);

    /// <summary>All bits set in lanes that are not NaN.</summary>
    static abstract TVec IsNotNaN(TVec a);

    /// <summary>Lanes of <paramref name="ifTrue"/> where <paramref name="mask"/> is set, else of <paramref name="ifFalse"/>.</summary>
    static abstract TVec Select(TVec mask, TVec ifTrue, TVec ifFalse);

    /// <summary>Bitwise a AND b.</summary>
    static abstract TVec And(TVec a, TVec b);

    /// <summary>Bitwise a OR b.</summary>
    static abstract TVec Or(TVec a, TVec b);

    /// <summary>
    /// x·2ⁿ for lanes of <paramref name="n"/> holding integers in [−150, 128], as x·2^(n>>1)·2^(n−(n>>1)): both
    /// factors are normal floats built from exponent bits (Cephes' ldexp step of expf).
    /// </summary>
    static abstract TVec ScaleByPowerOfTwo(TVec x, TVec n);

    /// <summary>The sum of the lanes (the platform's pairwise order).</summary>
    static abstract float Sum(TVec v);

    /// <summary>Adds each lane, widened to double, to <paramref name="sums"/>[0..Count).</summary>
    static abstract void AddWidened(TVec v, ref double sums);

    /// <summary>Lane <paramref name="index"/>.</summary>
    static abstract float GetElement(TVec v, int index);

    /// <summary>All bits set in lanes <paramref name="first"/>..Count−1, clear below (the new lanes of an overlapped tail vector).</summary>
    static abstract TVec LanesFrom(int first);
}

/// <summary>512-bit vectors (AVX-512).</summary>
internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    /// <summary>True when the JIT compiles Vector512 to hardware instructions.</summary>
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated;

    public static int Count => Vector512<float>.Count;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c)
        => Fma.IsSupported || AdvSimd.IsSupported ? Vector512.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MaxNative(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MinNative(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> a) => Vector512.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Negate(Vector512<float> a) => -a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Floor(Vector512<float> a) => Vector512.Floor(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThanOrEqual(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThanOrEqual(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LessThan(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> IsNotNaN(Vector512<float> a) => Vector512.Equals(a, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifTrue, Vector512<float> ifFalse) => Vector512.ConditionalSelect(mask, ifTrue, ifFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Or(Vector512<float> a, Vector512<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ScaleByPowerOfTwo(Vector512<float> x, Vector512<float> n)
    {
        Vector512<int> ni = Vector512.ConvertToInt32Native(n);
        Vector512<int> half = Vector512.ShiftRightArithmetic(ni, 1);
        Vector512<float> scale1 = Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle();
        Vector512<float> scale2 = Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
        return x * scale1 * scale2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Vector512.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidened(Vector512<float> v, ref double sums)
    {
        (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(v);
        (Vector512.LoadUnsafe(ref sums) + lower).StoreUnsafe(ref sums);
        (Vector512.LoadUnsafe(ref sums, 8) + upper).StoreUnsafe(ref sums, 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GetElement(Vector512<float> v, int index) => v.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LanesFrom(int first) => Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(first)).AsSingle();
}

/// <summary>256-bit vectors (AVX, with FMA3 where the CPU has it).</summary>
internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    /// <summary>True when the JIT compiles Vector256 to hardware instructions.</summary>
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    public static int Count => Vector256<float>.Count;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : AdvSimd.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MaxNative(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MinNative(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> a) => Vector256.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Negate(Vector256<float> a) => -a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Floor(Vector256<float> a) => Vector256.Floor(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThanOrEqual(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThanOrEqual(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> IsNotNaN(Vector256<float> a) => Vector256.Equals(a, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) => Vector256.ConditionalSelect(mask, ifTrue, ifFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Or(Vector256<float> a, Vector256<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ScaleByPowerOfTwo(Vector256<float> x, Vector256<float> n)
    {
        Vector256<int> ni = Vector256.ConvertToInt32Native(n);
        Vector256<int> half = Vector256.ShiftRightArithmetic(ni, 1);
        Vector256<float> scale1 = Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle();
        Vector256<float> scale2 = Vector256.ShiftLeft(ni - half + Vector256.Create(127), 23).AsSingle();
        return x * scale1 * scale2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Vector256.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidened(Vector256<float> v, ref double sums)
    {
        (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(v);
        (Vector256.LoadUnsafe(ref sums) + lower).StoreUnsafe(ref sums);
        (Vector256.LoadUnsafe(ref sums, 4) + upper).StoreUnsafe(ref sums, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GetElement(Vector256<float> v, int index) => v.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LanesFrom(int first) => Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(first)).AsSingle();
}

/// <summary>128-bit vectors (SSE/AVX on x64, with FMA3 where the CPU has it; AdvSimd/NEON on ARM64).</summary>
internal readonly struct Simd128 : ISimd<Vector128<float>>
{
    /// <summary>True when the JIT compiles Vector128 to hardware instructions.</summary>
    public static bool IsAccelerated => Vector128.IsHardwareAccelerated;

    public static int Count => Vector128<float>.Count;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Create(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c)
            : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(c, a, b)
            : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MaxNative(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MinNative(Vector128<float> a, Vector128<float> b) => Vector128.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Abs(Vector128<float> a) => Vector128.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Negate(Vector128<float> a) => -a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Floor(Vector128<float> a) => Vector128.Floor(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sqrt(Vector128<float> a) => Vector128.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThanOrEqual(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThanOrEqual(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LessThan(Vector128<float> a, Vector128<float> b) => Vector128.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> IsNotNaN(Vector128<float> a) => Vector128.Equals(a, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifTrue, Vector128<float> ifFalse) => Vector128.ConditionalSelect(mask, ifTrue, ifFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Or(Vector128<float> a, Vector128<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ScaleByPowerOfTwo(Vector128<float> x, Vector128<float> n)
    {
        Vector128<int> ni = Vector128.ConvertToInt32Native(n);
        Vector128<int> half = Vector128.ShiftRightArithmetic(ni, 1);
        Vector128<float> scale1 = Vector128.ShiftLeft(half + Vector128.Create(127), 23).AsSingle();
        Vector128<float> scale2 = Vector128.ShiftLeft(ni - half + Vector128.Create(127), 23).AsSingle();
        return x * scale1 * scale2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> v) => Vector128.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidened(Vector128<float> v, ref double sums)
    {
        (Vector128<double> lower, Vector128<double> upper) = Vector128.Widen(v);
        (Vector128.LoadUnsafe(ref sums) + lower).StoreUnsafe(ref sums);
        (Vector128.LoadUnsafe(ref sums, 2) + upper).StoreUnsafe(ref sums, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GetElement(Vector128<float> v, int index) => v.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LanesFrom(int first) => Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(first)).AsSingle();
}

/// <summary>
/// One float as a "vector" of one lane: the generic kernels run on it for layers narrower than the narrowest
/// vector (fewer than 4 outputs). Comparisons give all bits set or clear, as the vector forms do.
/// </summary>
internal readonly struct Simd1 : ISimd<float>
{
    public static int Count => 1;

    public static float Zero => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Create(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(ref float source, nuint offset) => Unsafe.Add(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, ref float destination, nuint offset) => Unsafe.Add(ref destination, offset) = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Divide(float a, float b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => Fma.IsSupported || AdvSimd.IsSupported ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxNative(float a, float b) => a > b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MinNative(float a, float b) => a < b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Abs(float a) => MathF.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Negate(float a) => -a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Floor(float a) => MathF.Floor(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sqrt(float a) => MathF.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GreaterThan(float a, float b) => Mask(a > b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GreaterThanOrEqual(float a, float b) => Mask(a >= b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LessThan(float a, float b) => Mask(a < b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float IsNotNaN(float a) => Mask(!float.IsNaN(a));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Select(float mask, float ifTrue, float ifFalse) => BitConverter.SingleToInt32Bits(mask) != 0 ? ifTrue : ifFalse;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float And(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & BitConverter.SingleToInt32Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Or(float a, float b) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) | BitConverter.SingleToInt32Bits(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ScaleByPowerOfTwo(float x, float n)
    {
        int ni = (int)n;
        int half = ni >> 1;
        return x * BitConverter.Int32BitsToSingle((half + 127) << 23) * BitConverter.Int32BitsToSingle((ni - half + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float v) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddWidened(float v, ref double sums) => sums += v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GetElement(float v, int index) => v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LanesFrom(int first) => Mask(first <= 0);

    private static float Mask(bool condition) => BitConverter.Int32BitsToSingle(condition ? -1 : 0);
}
