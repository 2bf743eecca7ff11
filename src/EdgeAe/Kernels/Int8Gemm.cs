using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAe.Kernels;

// What an int8 product does with each requantised vector, as a type argument (compared with typeof, folded by the JIT).

/// <summary>Stores the output codes as int8 (a hidden layer: the next layer's input).</summary>
internal readonly struct Int8Out;

/// <summary>Stores the outputs dequantised to float (the code of Encode, the reconstruction of Decode).</summary>
internal readonly struct FloatOut;

/// <summary>As <see cref="FloatOut"/>, and the requantised pre-activation z too, dequantised and as codes (the loss of Reconstruct).</summary>
internal readonly struct FloatOutWithZ;

/// <summary>
/// One int8 dense layer over one or more rows (samples) for one rung: acc = B + Σ x·W in int32, requantised, the
/// activation (clamp or table), stored as int8 codes or dequantised floats. Written once over <see cref="IInt8Simd{TVec}"/>.
/// </summary>
/// <remarks>
/// The outputs are cut into segments of one vector (one output per int32 lane); a row whose width is not a multiple of
/// the vector ends with a segment overlapping the one before it: its lanes are computed again from scratch and give
/// the same codes, so storing them twice is harmless and no store leaves the row. A tile is <c>R</c> rows ×
/// <c>K</c> segments of accumulators; per quad of inputs it loads each segment's weights once and each row's four
/// input codes once (XNNPACK's qs8 GEMM microkernels, in one generic source).
/// </remarks>
internal static class Int8Gemm<Q, TVec>
    where Q : struct, IInt8Simd<TVec>
    where TVec : struct
{
    /// <summary>Segments of a single-row block: enough independent dot-product chains to hide their latency.</summary>
    private const int RowSegments = 8;

    /// <summary>
    /// Rows of a multi-row tile: three on the x86 rungs below 512 bits where only 16 registers can be named (VEX): 3 rows
    /// × 4 segments = 12 accumulators, the rows' codes (one broadcast per row for VPDPBUSD; magnitudes and codes for
    /// VPSIGNB/VPMADDUBSW, some read back from the stack) and one weight vector; else four. With AVX-512 the JIT encodes
    /// VPDPBUSD as EVEX, which names 32 registers, so the VNNI rungs take four rows there; VPSIGNB has no EVEX form, so
    /// the other rungs keep three.
    /// </summary>
    private static bool ThreeRowTiles
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Q.Count is 8 or 4 && Ssse3.IsSupported && !(Q.UnsignedInputs && Avx512F.VL.IsSupported);
    }

    /// <summary>
    /// Segments of a multi-row tile: four with 512-bit vectors (32 registers: 16 accumulators), in three-row tiles (12)
    /// and in the VNNI rungs' four-row tiles with AVX-512 (16 of 32 registers), else three (four rows × 3 = 12
    /// accumulators). Blocks of four split the usual power-of-two widths evenly, where blocks of three leave a block of
    /// one or two segments, too few dot-product chains to hide the multiplies' latency.
    /// </summary>
    private static int TileSegments
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Q.Count == 16 || ThreeRowTiles || (Q.UnsignedInputs && Avx512F.VL.IsSupported && Q.Count is 8 or 4) ? 4 : 3;
    }

    /// <summary>
    /// Layer <typeparamref name="L"/> (activation <typeparamref name="A"/>, epilogue <typeparamref name="E"/>) on
    /// <paramref name="rows"/> rows of int8 codes at <paramref name="x"/> (rows <see cref="Int8Layout.RowBytes"/> of the
    /// inputs apart). Outputs go to <paramref name="y"/>: int8 rows <see cref="Int8Layout.RowBytes"/> of the outputs apart,
    /// or floats <paramref name="yStride"/> apart; <see cref="FloatOutWithZ"/> also writes the dequantised z to <paramref name="z"/>
    /// and its codes to <paramref name="zCodes"/> (int8 rows).
    /// </summary>
    public static void Run<L, A, E>(ref byte packed, ref sbyte x, ref byte y, int yStride, ref float z, ref sbyte zCodes, int rows)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
    {
        int segments = (L.Outputs + Q.Count - 1) / Q.Count;
        int r = ThreeRowTiles ? Tiles<L, A, E, N3>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, rows, segments)
            : Tiles<L, A, E, N4>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, rows, segments);
        for (; r < rows; r++)
        {
            int perBlock = RowBlocks.EvenSplit(segments, RowSegments);
            for (int first = 0; first < segments; first += perBlock)
            {
                switch (Math.Min(perBlock, segments - first))
                {
                    case 1: Tile<L, A, E, N1, N1>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 2: Tile<L, A, E, N1, N2>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 3: Tile<L, A, E, N1, N3>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 4: Tile<L, A, E, N1, N4>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 5: Tile<L, A, E, N1, N5>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 6: Tile<L, A, E, N1, N6>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 7: Tile<L, A, E, N1, N7>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    default: Tile<L, A, E, N1, N8>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                }
            }
        }
    }

    /// <summary>The multi-row tiles of <typeparamref name="R"/> rows over all segments; returns the rows they covered.</summary>
    private static int Tiles<L, A, E, R>(ref byte packed, ref sbyte x, ref byte y, int yStride, ref float z, ref sbyte zCodes, int rows, int segments)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
        where R : struct, IConstant
    {
        int height = Unsafe.SizeOf<R>(), covered = rows / height * height;
        if (covered == 0)
        {
            return 0;
        }

        int perBlock = RowBlocks.EvenSplit(segments, TileSegments);
        for (int first = 0; first < segments; first += perBlock)
        {
            int k = Math.Min(perBlock, segments - first);
            for (int r = 0; r < covered; r += height)
            {
                switch (k)
                {
                    case 1: Tile<L, A, E, R, N1>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 2: Tile<L, A, E, R, N2>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    case 3: Tile<L, A, E, R, N3>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                    default: Tile<L, A, E, R, N4>(ref packed, ref x, ref y, yStride, ref z, ref zCodes, r, first); break;
                }
            }
        }

        return covered;
    }

    /// <summary>
    /// One tile: rows <paramref name="row"/>.. (<typeparamref name="R"/> of them: 1, 3 or 4) × <typeparamref name="K"/>
    /// segments from segment <paramref name="segment"/> (at most 8 with one row, 4 with more).
    /// </summary>
    private static void Tile<L, A, E, R, K>(ref byte packed, ref sbyte x, ref byte y, int yStride, ref float z, ref sbyte zCodes, int row, int segment)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
        where R : struct, IConstant
        where K : struct, IConstant
    {
        int n = L.Outputs, lanes = Q.Count;
        ref byte block = ref Unsafe.Add(ref packed, L.PackedOffset);

        // Segment offsets from the tile's first column; only a row's last segment is pulled back to overlap.
        int column = segment * lanes;
        int last = n - lanes - column;
        int s0 = Math.Min(0, last), s1 = Math.Min(lanes, last), s2 = Math.Min(2 * lanes, last), s3 = Math.Min(3 * lanes, last);
        int s4 = Math.Min(4 * lanes, last), s5 = Math.Min(5 * lanes, last), s6 = Math.Min(6 * lanes, last), s7 = Math.Min(7 * lanes, last);

        ref int bias = ref Unsafe.Add(ref Unsafe.As<byte, int>(ref Unsafe.Add(ref block, Q.UnsignedInputs ? Int8Layout.UnsignedBiases(n) : Int8Layout.SignedBiases(n))), column);
        TVec b0 = Q.Load(ref bias, (nuint)s0);
        TVec b1 = Unsafe.SizeOf<K>() > 1 ? Q.Load(ref bias, (nuint)s1) : default;
        TVec b2 = Unsafe.SizeOf<K>() > 2 ? Q.Load(ref bias, (nuint)s2) : default;
        TVec b3 = Unsafe.SizeOf<K>() > 3 ? Q.Load(ref bias, (nuint)s3) : default;
        TVec b4 = Unsafe.SizeOf<K>() > 4 ? Q.Load(ref bias, (nuint)s4) : default;
        TVec b5 = Unsafe.SizeOf<K>() > 5 ? Q.Load(ref bias, (nuint)s5) : default;
        TVec b6 = Unsafe.SizeOf<K>() > 6 ? Q.Load(ref bias, (nuint)s6) : default;
        TVec b7 = Unsafe.SizeOf<K>() > 7 ? Q.Load(ref bias, (nuint)s7) : default;

        // Accumulators a{row}{segment}: row 0 has up to 8 segments, rows 1–3 up to 4.
        TVec a00 = b0, a01 = b1, a02 = b2, a03 = b3, a04 = b4, a05 = b5, a06 = b6, a07 = b7;
        TVec a10 = b0, a11 = b1, a12 = b2, a13 = b3;
        TVec a20 = b0, a21 = b1, a22 = b2, a23 = b3;
        TVec a30 = b0, a31 = b1, a32 = b2, a33 = b3;

        int xStride = Int8Layout.RowBytes(L.Inputs);
        ref byte x0 = ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref x, row * xStride));
        ref byte x1 = ref Unsafe.Add(ref x0, Unsafe.SizeOf<R>() > 1 ? xStride : 0);
        ref byte x2 = ref Unsafe.Add(ref x0, Unsafe.SizeOf<R>() > 2 ? 2 * xStride : 0);
        ref byte x3 = ref Unsafe.Add(ref x0, Unsafe.SizeOf<R>() > 3 ? 3 * xStride : 0);
        ref byte w = ref Unsafe.Add(ref block, Int8Layout.Weights(n) + (4 * column));
        nuint o0 = (nuint)(4 * s0), o1 = (nuint)(4 * s1), o2 = (nuint)(4 * s2), o3 = (nuint)(4 * s3);
        nuint o4 = (nuint)(4 * s4), o5 = (nuint)(4 * s5), o6 = (nuint)(4 * s6), o7 = (nuint)(4 * s7);
        int quads = Int8Layout.Quads(L.Inputs), quadRow = 4 * n;
        for (int q = 0; q < quads; q++)
        {
            // Every row's four codes first, then one segment's weights at a time into every row's accumulator: at most
            // the accumulators, the rows' broadcasts and one weight vector are live (16 registers hold 3 × 4 or 4 × 3
            // tiles).
            Q.Broadcast(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x0, 4 * q)), out TVec p0, out TVec e0);
            TVec p1 = default, e1 = default, p2 = default, e2 = default, p3 = default, e3 = default;
            if (Unsafe.SizeOf<R>() > 1) Q.Broadcast(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x1, 4 * q)), out p1, out e1);
            if (Unsafe.SizeOf<R>() > 2) Q.Broadcast(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x2, 4 * q)), out p2, out e2);
            if (Unsafe.SizeOf<R>() > 3) Q.Broadcast(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x3, 4 * q)), out p3, out e3);

            TVec wk = Q.LoadQuads(ref w, o0);
            a00 = Q.Dot(a00, p0, e0, wk);
            if (Unsafe.SizeOf<R>() > 1) a10 = Q.Dot(a10, p1, e1, wk);
            if (Unsafe.SizeOf<R>() > 2) a20 = Q.Dot(a20, p2, e2, wk);
            if (Unsafe.SizeOf<R>() > 3) a30 = Q.Dot(a30, p3, e3, wk);

            if (Unsafe.SizeOf<K>() > 1)
            {
                wk = Q.LoadQuads(ref w, o1);
                a01 = Q.Dot(a01, p0, e0, wk);
                if (Unsafe.SizeOf<R>() > 1) a11 = Q.Dot(a11, p1, e1, wk);
                if (Unsafe.SizeOf<R>() > 2) a21 = Q.Dot(a21, p2, e2, wk);
                if (Unsafe.SizeOf<R>() > 3) a31 = Q.Dot(a31, p3, e3, wk);
            }

            if (Unsafe.SizeOf<K>() > 2)
            {
                wk = Q.LoadQuads(ref w, o2);
                a02 = Q.Dot(a02, p0, e0, wk);
                if (Unsafe.SizeOf<R>() > 1) a12 = Q.Dot(a12, p1, e1, wk);
                if (Unsafe.SizeOf<R>() > 2) a22 = Q.Dot(a22, p2, e2, wk);
                if (Unsafe.SizeOf<R>() > 3) a32 = Q.Dot(a32, p3, e3, wk);
            }

            if (Unsafe.SizeOf<K>() > 3)
            {
                wk = Q.LoadQuads(ref w, o3);
                a03 = Q.Dot(a03, p0, e0, wk);
                if (Unsafe.SizeOf<R>() > 1) a13 = Q.Dot(a13, p1, e1, wk);
                if (Unsafe.SizeOf<R>() > 2) a23 = Q.Dot(a23, p2, e2, wk);
                if (Unsafe.SizeOf<R>() > 3) a33 = Q.Dot(a33, p3, e3, wk);
            }

            if (Unsafe.SizeOf<K>() > 4) a04 = Q.Dot(a04, p0, e0, Q.LoadQuads(ref w, o4));
            if (Unsafe.SizeOf<K>() > 5) a05 = Q.Dot(a05, p0, e0, Q.LoadQuads(ref w, o5));
            if (Unsafe.SizeOf<K>() > 6) a06 = Q.Dot(a06, p0, e0, Q.LoadQuads(ref w, o6));
            if (Unsafe.SizeOf<K>() > 7) a07 = Q.Dot(a07, p0, e0, Q.LoadQuads(ref w, o7));
            w = ref Unsafe.Add(ref w, quadRow);
        }

        // A single row finishes inline (batch 1, and the rows a batch leaves over): a call per tile cost more than the
        // epilogue of small layers (the digits int8 encode took 1.3x as long with one) and a few hundred ns in M1's
        // encode. Multi-row tiles and Reconstruct's output row make calls: inlined here, their epilogues exceeded the
        // JIT's inlining budget for one method, calls were left in them (to Vector512 helpers among them), and every
        // accumulator live across a call was spilled to the stack and reloaded inside the loop above (all vector
        // registers are volatile in the System V ABI) — the M1 int8 batch encode took longer than float32's on an
        // Intel Xeon with AVX-512. So for them the accumulators go to memory first, rows 0..3 adjacent, and one call
        // finishes every row of a tile. The single-row branches call FinishFour and FinishPair directly: one more
        // inlining level (Finish4) used up the budget. DOTNET_JitDisasm shows no call in any tile of M1, digits or MLPerf.
        if (Unsafe.SizeOf<R>() == 1 && Unsafe.SizeOf<K>() <= 4)
        {
            Finish4<L, A, E, K>(ref block, ref y, yStride, ref z, ref zCodes, row, column, 0, last, a00, a01, a02, a03);
            return;
        }

        if (Unsafe.SizeOf<R>() == 1 && (typeof(E) != typeof(FloatOutWithZ) || !Q.Pairs))
        {
            var rq = Requantization.Of(ref Unsafe.As<byte, int>(ref block));
            if ((typeof(A) == typeof(Sigmoid) || typeof(A) == typeof(Tanh) || typeof(A) == typeof(StableSigmoid)) && Q.LooksUpFour)
            {
                FinishFour<L, A, E>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s0, a00, s1, a01, s2, a02, s3, a03);
                if (Unsafe.SizeOf<K>() == 8)
                {
                    FinishFour<L, A, E>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s4, a04, s5, a05, s6, a06, s7, a07);
                }
                else
                {
                    if (Unsafe.SizeOf<K>() > 4) FinishPair<L, A, E, K, N5>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s4, a04, s5, a05);
                    if (Unsafe.SizeOf<K>() > 6) FinishPair<L, A, E, K, N7>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s6, a06, s7, a07);
                }

                return;
            }

            FinishPair<L, A, E, K, N1>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s0, a00, s1, a01);
            FinishPair<L, A, E, K, N3>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s2, a02, s3, a03);
            FinishPair<L, A, E, K, N5>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s4, a04, s5, a05);
            if (Unsafe.SizeOf<K>() > 6) FinishPair<L, A, E, K, N7>(ref block, in rq, ref y, yStride, ref z, ref zCodes, row, column, s6, a06, s7, a07);
            return;
        }

        var tile = new TileAccumulators
        {
            Row0 = new Accumulators { A0 = a00, A1 = a01, A2 = a02, A3 = a03 },
            Row1 = new Accumulators { A0 = a10, A1 = a11, A2 = a12, A3 = a13 },
            Row2 = new Accumulators { A0 = a20, A1 = a21, A2 = a22, A3 = a23 },
            Row3 = new Accumulators { A0 = a30, A1 = a31, A2 = a32, A3 = a33 },
            Row0High = new Accumulators { A0 = a04, A1 = a05, A2 = a06, A3 = a07 },
        };
        if (Unsafe.SizeOf<R>() == 1 && typeof(E) == typeof(FloatOutWithZ))
        {
            // Reconstruct's output row stores three things per segment: where segments are finished in pairs as 512-bit
            // vectors (Pairs), eight of them in one method exceeded the inlining budget again (calls to Finish and the
            // stores were left in it), so two calls of four. Without pairs the row finishes inline above.
            Epilogue<L, A, E, K>(ref block, ref y, yStride, ref z, ref zCodes, row, 1, column, 0, last, in tile.Row0);
            if (Unsafe.SizeOf<K>() == 8) Epilogue<L, A, E, N4>(ref block, ref y, yStride, ref z, ref zCodes, row, 1, column, 4, last, in tile.Row0High);
            if (Unsafe.SizeOf<K>() == 7) Epilogue<L, A, E, N3>(ref block, ref y, yStride, ref z, ref zCodes, row, 1, column, 4, last, in tile.Row0High);
            if (Unsafe.SizeOf<K>() == 6) Epilogue<L, A, E, N2>(ref block, ref y, yStride, ref z, ref zCodes, row, 1, column, 4, last, in tile.Row0High);
            if (Unsafe.SizeOf<K>() == 5) Epilogue<L, A, E, N1>(ref block, ref y, yStride, ref z, ref zCodes, row, 1, column, 4, last, in tile.Row0High);
        }
        else
        {
            Epilogue<L, A, E, K>(ref block, ref y, yStride, ref z, ref zCodes, row, Unsafe.SizeOf<R>(), column, 0, last, in tile.Row0);
        }
    }

    /// <summary>A tile's accumulators, four segments of a row per field, rows in order (row 0 has up to eight).</summary>
    private struct TileAccumulators
    {
        public Accumulators Row0, Row1, Row2, Row3, Row0High;
    }

    /// <summary>Up to four segments' accumulators of one row of a tile, handed from its product loop to <see cref="Epilogue"/>.</summary>
    private struct Accumulators
    {
        public TVec A0, A1, A2, A3;
    }

    /// <summary>
    /// Requantises, activates and stores <paramref name="rows"/> rows of a tile (<see cref="Tile"/>) from row
    /// <paramref name="row"/>, whose accumulators follow <paramref name="acc"/> in memory: <typeparamref name="K"/>
    /// segments from segment <paramref name="first"/> (at most four; more are read as four) from
    /// <paramref name="column"/>, the row's last one pulled back to <paramref name="last"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Epilogue<L, A, E, K>(ref byte block, ref byte y, int yStride, ref float z, ref sbyte zCodes, int row, int rows, int column, int first, int last, ref readonly Accumulators acc)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
        where K : struct, IConstant
    {
        for (int r = 0; r < rows; r++)
        {
            ref readonly Accumulators a = ref Unsafe.Add(ref Unsafe.AsRef(in acc), r);
            Finish4<L, A, E, K>(ref block, ref y, yStride, ref z, ref zCodes, row + r, column, first, last, a.A0, a.A1, a.A2, a.A3);
        }
    }

    /// <summary>
    /// Requantises, activates and stores segments <paramref name="first"/>.. of row <paramref name="row"/>:
    /// <typeparamref name="K"/> of them (at most four; more are read as four) from <paramref name="column"/>, the row's
    /// last one pulled back to <paramref name="last"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish4<L, A, E, K>(ref byte block, ref byte y, int yStride, ref float z, ref sbyte zCodes, int row, int column, int first, int last, TVec a0, TVec a1, TVec a2, TVec a3)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
        where K : struct, IConstant
    {
        int lanes = Q.Count;
        int s0 = Math.Min(first * lanes, last), s1 = Math.Min((first + 1) * lanes, last);
        int s2 = Math.Min((first + 2) * lanes, last), s3 = Math.Min((first + 3) * lanes, last);
        var requantization = Requantization.Of(ref Unsafe.As<byte, int>(ref block));

        // Four segments at once when the activation is a table and the rung looks tables up four vectors at once. The
        // conditions the JIT knows while importing come first: for other rows it drops this block before inlining, so
        // the block never spends the inlining budget the row's own Finish calls need.
        if (Unsafe.SizeOf<K>() >= 4 && (typeof(A) == typeof(Sigmoid) || typeof(A) == typeof(Tanh) || typeof(A) == typeof(StableSigmoid)) && Q.LooksUpFour)
        {
            FinishFour<L, A, E>(ref block, in requantization, ref y, yStride, ref z, ref zCodes, row, column, s0, a0, s1, a1, s2, a2, s3, a3);
            return;
        }

        FinishPair<L, A, E, K, N1>(ref block, in requantization, ref y, yStride, ref z, ref zCodes, row, column, s0, a0, s1, a1);
        if (Unsafe.SizeOf<K>() > 2) FinishPair<L, A, E, K, N3>(ref block, in requantization, ref y, yStride, ref z, ref zCodes, row, column, s2, a2, s3, a3);
    }

    /// <summary>
    /// Finishes four segments (offsets <paramref name="o0"/>..<paramref name="o3"/> from <paramref name="column"/>) of a
    /// table activation with one <see cref="IInt8Simd{TVec}.LookupFour"/>: the same codes as four <see cref="Finish"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishFour<L, A, E>(ref byte block, in Requantization requantization, ref byte y, int yStride, ref float z, ref sbyte zCodes, int row, int column, int o0, TVec a0, int o1, TVec a1, int o2, TVec a2, int o3, TVec a3)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
    {
        int n = L.Outputs;
        ref int multipliers = ref Unsafe.As<byte, int>(ref Unsafe.Add(ref block, Int8Layout.Multipliers(n)));
        TVec z0 = Q.Requantize(a0, Q.Load(ref multipliers, (nuint)(column + o0)), requantization);
        TVec z1 = Q.Requantize(a1, Q.Load(ref multipliers, (nuint)(column + o1)), requantization);
        TVec z2 = Q.Requantize(a2, Q.Load(ref multipliers, (nuint)(column + o2)), requantization);
        TVec z3 = Q.Requantize(a3, Q.Load(ref multipliers, (nuint)(column + o3)), requantization);
        TVec q0 = z0, q1 = z1, q2 = z2, q3 = z3;
        Q.LookupFour(ref q0, ref q1, ref q2, ref q3, ref Unsafe.Add(ref block, Int8Layout.Table(n)));
        Store<L, E>(ref block, ref y, yStride, ref z, ref zCodes, row, column + o0, q0, z0);
        Store<L, E>(ref block, ref y, yStride, ref z, ref zCodes, row, column + o1, q1, z1);
        Store<L, E>(ref block, ref y, yStride, ref z, ref zCodes, row, column + o2, q2, z2);
        Store<L, E>(ref block, ref y, yStride, ref z, ref zCodes, row, column + o3, q3, z3);
    }

    /// <summary>
    /// Finishes segment <paramref name="offset"/> and, when the tile has more than <typeparamref name="I"/> segments, the
    /// next one (<paramref name="offset2"/>): as one 512-bit vector when the rung <see cref="IInt8Simd{TVec}.Pairs"/> and
    /// the two are adjacent (a row's last segment, pulled back to overlap, is finished on its own).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishPair<L, A, E, K, I>(ref byte block, in Requantization requantization, ref byte y, int yStride, ref float z, ref sbyte zCodes, int row, int column, int offset, TVec acc, int offset2, TVec acc2)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
        where K : struct, IConstant
        where I : struct, IConstant
    {
        if (Unsafe.SizeOf<K>() <= Unsafe.SizeOf<I>())
        {
            Finish<L, A, E>(ref block, in requantization, ref y, yStride, ref z, ref zCodes, row, column, offset, acc);
        }
        else if (Q.Pairs && offset2 == offset + Q.Count)
        {
            Int8Gemm<Int8x512, Vector512<int>>.Finish<L, A, E>(ref block, in requantization, ref y, yStride, ref z, ref zCodes, row, column, offset, Q.Join(acc, acc2));
        }
        else
        {
            Finish<L, A, E>(ref block, in requantization, ref y, yStride, ref z, ref zCodes, row, column, offset, acc);
            Finish<L, A, E>(ref block, in requantization, ref y, yStride, ref z, ref zCodes, row, column, offset2, acc2);
        }
    }

    /// <summary>Requantises one accumulator vector (outputs column + offset ..), applies the activation and stores it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Finish<L, A, E>(ref byte block, in Requantization requantization, ref byte y, int yStride, ref float z, ref sbyte zCodes, int row, int column, int offset, TVec acc)
        where L : struct, IInt8Layer
        where A : struct
        where E : struct
    {
        int n = L.Outputs;
        int at = column + offset;
        TVec multiplier = Q.Load(ref Unsafe.As<byte, int>(ref Unsafe.Add(ref block, Int8Layout.Multipliers(n))), (nuint)at);
        TVec zq = Q.Requantize(acc, multiplier, requantization);
        TVec q = typeof(A) == typeof(Sigmoid) || typeof(A) == typeof(Tanh) || typeof(A) == typeof(StableSigmoid)
            ? Q.Lookup(zq, ref Unsafe.Add(ref block, Int8Layout.Table(n)))
            : zq;
        Store<L, E>(ref block, ref y, yStride, ref z, ref zCodes, row, at, q, zq);
    }

    /// <summary>Stores one vector of output codes <paramref name="q"/> (and for <see cref="FloatOutWithZ"/> the pre-activation codes <paramref name="zq"/>) at output <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<L, E>(ref byte block, ref byte y, int yStride, ref float z, ref sbyte zCodes, int row, int at, TVec q, TVec zq)
        where L : struct, IInt8Layer
        where E : struct
    {
        int n = L.Outputs;
        ref int header = ref Unsafe.As<byte, int>(ref block);
        if (typeof(E) == typeof(Int8Out))
        {
            Q.StoreInt8(q, ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref y, row * Int8Layout.RowBytes(n))), (nuint)at);
        }
        else
        {
            float scale = BitConverter.Int32BitsToSingle(Unsafe.Add(ref header, Int8Header.OutputScale));
            Q.StoreFloat(q, Unsafe.Add(ref header, Int8Header.OutputZeroPoint), scale, ref Unsafe.Add(ref Unsafe.As<byte, float>(ref y), row * yStride), (nuint)at);
            if (typeof(E) == typeof(FloatOutWithZ))
            {
                float zScale = BitConverter.Int32BitsToSingle(Unsafe.Add(ref header, Int8Header.ZScale));
                Q.StoreFloat(zq, Unsafe.Add(ref header, Int8Header.ZZeroPoint), zScale, ref Unsafe.Add(ref z, row * yStride), (nuint)at);
                Q.StoreInt8(zq, ref Unsafe.Add(ref zCodes, row * Int8Layout.RowBytes(n)), (nuint)at);
            }
        }
    }

    /// <summary>
    /// Codes of <paramref name="rows"/> rows of <paramref name="width"/> floats (<paramref name="stride"/> apart) into int8
    /// rows <see cref="Int8Layout.RowBytes"/> apart (width ≥ the vector width; the last vector overlaps).
    /// </summary>
    public static void Quantize(ref float source, int width, int stride, float inverse, int zeroPoint, ref sbyte destination, int rows)
    {
        int lanes = Q.Count, rowBytes = Int8Layout.RowBytes(width);
        for (int r = 0; r < rows; r++)
        {
            ref float s = ref Unsafe.Add(ref source, r * stride);
            ref sbyte d = ref Unsafe.Add(ref destination, r * rowBytes);
            // Four vectors per step (the loop's own instructions were a third of the work), then one at a time.
            int i = 0;
            for (; i <= width - (4 * lanes); i += 4 * lanes)
            {
                nuint at = (nuint)i;
                if (Q.StoresFour)
                {
                    Q.StoreInt8Four(
                        Q.Quantize(ref s, at, inverse, zeroPoint),
                        Q.Quantize(ref s, at + (nuint)lanes, inverse, zeroPoint),
                        Q.Quantize(ref s, at + (nuint)(2 * lanes), inverse, zeroPoint),
                        Q.Quantize(ref s, at + (nuint)(3 * lanes), inverse, zeroPoint),
                        ref d,
                        at);
                    continue;
                }

                Q.StoreInt8(Q.Quantize(ref s, at, inverse, zeroPoint), ref d, at);
                Q.StoreInt8(Q.Quantize(ref s, at + (nuint)lanes, inverse, zeroPoint), ref d, at + (nuint)lanes);
                Q.StoreInt8(Q.Quantize(ref s, at + (nuint)(2 * lanes), inverse, zeroPoint), ref d, at + (nuint)(2 * lanes));
                Q.StoreInt8(Q.Quantize(ref s, at + (nuint)(3 * lanes), inverse, zeroPoint), ref d, at + (nuint)(3 * lanes));
            }

            for (; i < width; i += lanes)
            {
                nuint at = (nuint)Math.Min(i, width - lanes);
                Q.StoreInt8(Q.Quantize(ref s, at, inverse, zeroPoint), ref d, at);
            }
        }
    }
}

