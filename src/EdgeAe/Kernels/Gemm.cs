using System.Runtime.CompilerServices;

namespace EdgeAe.Kernels;

/// <summary>
/// The strides and width of one matrix product C = A·B over a batch, as constants (see <see cref="IConstant"/>):
/// A(r, t) = A[r·ARow + t·ACol] (a scalar, broadcast), B[t, c] = B[t·BStride + c] (vectors), C[r, c] at r·CStride + c.
/// </summary>
internal interface IProductShape
{
    /// <summary>Columns of C (and of B).</summary>
    static abstract int Columns { get; }

    static abstract int ARow { get; }

    static abstract int ACol { get; }

    static abstract int BStride { get; }

    static abstract int CStride { get; }
}

// What a product does with each finished accumulator, as a type argument (compared with typeof, folded by the JIT).

/// <summary>C = f(acc), acc starting at the biases (the forward product); sigmoid and tanh are applied row by row after the tile.</summary>
internal readonly struct StoreActivated;

/// <summary>C += acc (weight gradients).</summary>
internal readonly struct AddInto;

/// <summary>C = acc·f′(a) with a read from the previous layer's activations at the same place (the backward data product).</summary>
internal readonly struct TimesDerivative;

/// <summary>
/// C = A·B for one vector width, by register tiles: the columns are cut into vector segments (a row whose width is not
/// a multiple of the vector width ends with a vector that overlaps the one before it; only its new lanes are stored or
/// added), up to <see cref="TileVectors"/> segments form a column block, and each block runs over the rows in tiles of
/// as many rows as the width's accumulator budget allows (a narrow block gets taller tiles: 16 independent FMA chains
/// on Vector512 whatever the block's width), then 4-row tiles, then single rows. Written once; the JIT compiles it per
/// width, product shape, activation and epilogue (XNNPACK's register-blocked microkernels, in one generic source).
/// </summary>
internal static class Gemm<V, TVec>
    where V : struct, ISimd<TVec>
    where TVec : struct
{
    /// <summary>Rows of the default tile: 4 × 4 vectors on Vector512 (16 of 32 registers), 6 × 2 on narrower vectors (12 of 16).</summary>
    private static int TileRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => V.Count == 16 ? 4 : 6;
    }

    /// <summary>Vector segments of a full column block.</summary>
    private static int TileVectors
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => V.Count == 16 ? 4 : 2;
    }

    /// <summary>
    /// C[r, c] (epilogue <typeparamref name="E"/>, activation <typeparamref name="A"/>) Σₜ A(r, t)·B[t, c] for r &lt; <paramref name="rows"/>,
    /// c &lt; P.Columns, t &lt; <paramref name="inner"/>. <paramref name="bias"/> is read by <see cref="StoreActivated"/>,
    /// <paramref name="previous"/> (laid out like C) by <see cref="TimesDerivative"/>.
    /// </summary>
    public static void Run<P, A, E>(ref float a, ref float b, ref float c, ref float bias, ref float previous, int rows, int inner)
        where P : struct, IProductShape
        where A : struct
        where E : struct
    {
        int segments = (P.Columns + V.Count - 1) / V.Count;
        int perBlock = RowBlocks.EvenSplit(segments, TileVectors);
        int full = segments / perBlock;
        int rest = segments - full * perBlock;
        for (int block = 0; block < full; block++)
        {
            Block<P, A, E>(perBlock, block * perBlock, ref a, ref b, ref c, ref bias, ref previous, rows, inner);
        }

        if (rest > 0)
        {
            Block<P, A, E>(rest, full * perBlock, ref a, ref b, ref c, ref bias, ref previous, rows, inner);
        }
    }

    /// <summary>One column block of <paramref name="k"/> segments from segment <paramref name="segment"/>: tall tiles, then default, 4-row and single-row tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<P, A, E>(int k, int segment, ref float a, ref float b, ref float c, ref float bias, ref float previous, int rows, int inner)
        where P : struct, IProductShape
        where A : struct
        where E : struct
    {
        switch (k)
        {
            case 1: Rows<P, A, E, N1>(segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 2: Rows<P, A, E, N2>(segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 3: Rows<P, A, E, N3>(segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            default: Rows<P, A, E, N4>(segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
        }
    }

    private static void Rows<P, A, E, K>(int segment, ref float a, ref float b, ref float c, ref float bias, ref float previous, int rows, int inner)
        where P : struct, IProductShape
        where A : struct
        where E : struct
        where K : struct, IConstant
    {
        int tall = Math.Max(TileRows, TileRows * TileVectors / K.Value);
        int r = 0;
        switch (tall)
        {
            case 16: r = Tiles<P, A, E, N16, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 12: r = Tiles<P, A, E, N12, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 8: r = Tiles<P, A, E, N8, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 6: r = Tiles<P, A, E, N6, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            case 5: r = Tiles<P, A, E, N5, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
            default: r = Tiles<P, A, E, N4, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner); break;
        }

        if (tall != TileRows)
        {
            r = TileRows == 6
                ? Tiles<P, A, E, N6, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner)
                : Tiles<P, A, E, N4, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner);
        }

        if (TileRows > 4)
        {
            r = Tiles<P, A, E, N4, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner);
        }

        Tiles<P, A, E, N1, K>(r, segment, ref a, ref b, ref c, ref bias, ref previous, rows, inner);
    }

    /// <summary>Tiles of <typeparamref name="R"/> rows from row <paramref name="r"/> while they fit; returns the first row left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Tiles<P, A, E, R, K>(int r, int segment, ref float a, ref float b, ref float c, ref float bias, ref float previous, int rows, int inner)
        where P : struct, IProductShape
        where A : struct
        where E : struct
        where R : struct, IConstant
        where K : struct, IConstant
    {
        int column = segment * V.Count;
        int end = End(r, rows, R.Value);
        for (; r < end; r += R.Value)
        {
            Tile<P, A, E, R, K>(
                ref Unsafe.Add(ref a, r * P.ARow),
                ref Unsafe.Add(ref b, column),
                ref Unsafe.Add(ref c, r * P.CStride + column),
                ref Unsafe.Add(ref bias, column),
                ref Unsafe.Add(ref previous, r * P.CStride + column),
                column,
                inner);
        }

        return r;
    }

    /// <summary>
    /// The end of the tiles of <paramref name="height"/> rows from row <paramref name="r"/>: as many as fit, but on the
    /// 6-row widths one fewer when they would leave 2 or 3 rows. Those rows would go to single-row tiles, whose one or
    /// two FMA chains run at a quarter of the rate; one tile fewer leaves 8 or 9 rows for two 4-row tiles instead (a
    /// shard of 32 rows: 6·4 + 4·2 rather than 6·5 + 1·2). Which tile a row falls in does not change its results.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int End(int r, int rows, int height)
    {
        int count = (rows - r) / height;
        int left = rows - r - count * height;
        if (TileRows == 6 && height >= 6 && count > 0 && left is 2 or 3)
        {
            count--;
        }

        return r + count * height;
    }

    /// <summary>One tile: <typeparamref name="R"/> rows × <typeparamref name="K"/> segments from <paramref name="column"/>; every reference already points at the tile.</summary>
    private static void Tile<P, A, E, R, K>(ref float ap, ref float bp, ref float c, ref float bias, ref float previous, int column, int inner)
        where P : struct, IProductShape
        where A : struct
        where E : struct
        where R : struct, IConstant
        where K : struct, IConstant
    {
        int rows = R.Value, k = K.Value, lanes = V.Count;
        int aRow = P.ARow, aCol = P.ACol, bStride = P.BStride, cStride = P.CStride, columns = P.Columns;

        // Segment offsets from the tile's first column: only a row's last segment is pulled back to overlap the one before.
        int last = columns - lanes - column;
        int s0 = Math.Min(0, last), s1 = Math.Min(lanes, last), s2 = Math.Min(2 * lanes, last), s3 = Math.Min(3 * lanes, last);
        int fresh0 = -s0, fresh1 = lanes - s1, fresh2 = 2 * lanes - s2, fresh3 = 3 * lanes - s3;
        nuint o0 = (nuint)s0, o1 = (nuint)s1, o2 = (nuint)s2, o3 = (nuint)s3;

        TVec init0 = typeof(E) == typeof(StoreActivated) ? V.Load(ref bias, o0) : V.Zero;
        TVec init1 = typeof(E) == typeof(StoreActivated) && Unsafe.SizeOf<K>() > 1 ? V.Load(ref bias, o1) : V.Zero;
        TVec init2 = typeof(E) == typeof(StoreActivated) && Unsafe.SizeOf<K>() > 2 ? V.Load(ref bias, o2) : V.Zero;
        TVec init3 = typeof(E) == typeof(StoreActivated) && Unsafe.SizeOf<K>() > 3 ? V.Load(ref bias, o3) : V.Zero;

        // The accumulator grid: c{row}_{segment}. Only those of this tile's shape exist after compilation.
        TVec c0_0 = init0;
        TVec c0_1 = Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c0_2 = Unsafe.SizeOf<K>() > 2 ? init2 : V.Zero;
        TVec c0_3 = Unsafe.SizeOf<K>() > 3 ? init3 : V.Zero;
        TVec c1_0 = Unsafe.SizeOf<R>() > 1 ? init0 : V.Zero;
        TVec c1_1 = Unsafe.SizeOf<R>() > 1 && Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c1_2 = Unsafe.SizeOf<R>() > 1 && Unsafe.SizeOf<K>() > 2 ? init2 : V.Zero;
        TVec c1_3 = Unsafe.SizeOf<R>() > 1 && Unsafe.SizeOf<K>() > 3 ? init3 : V.Zero;
        TVec c2_0 = Unsafe.SizeOf<R>() > 2 ? init0 : V.Zero;
        TVec c2_1 = Unsafe.SizeOf<R>() > 2 && Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c2_2 = Unsafe.SizeOf<R>() > 2 && Unsafe.SizeOf<K>() > 2 ? init2 : V.Zero;
        TVec c2_3 = Unsafe.SizeOf<R>() > 2 && Unsafe.SizeOf<K>() > 3 ? init3 : V.Zero;
        TVec c3_0 = Unsafe.SizeOf<R>() > 3 ? init0 : V.Zero;
        TVec c3_1 = Unsafe.SizeOf<R>() > 3 && Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c3_2 = Unsafe.SizeOf<R>() > 3 && Unsafe.SizeOf<K>() > 2 ? init2 : V.Zero;
        TVec c3_3 = Unsafe.SizeOf<R>() > 3 && Unsafe.SizeOf<K>() > 3 ? init3 : V.Zero;
        TVec c4_0 = Unsafe.SizeOf<R>() > 4 ? init0 : V.Zero;
        TVec c4_1 = Unsafe.SizeOf<R>() > 4 && Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c4_2 = Unsafe.SizeOf<R>() > 4 && Unsafe.SizeOf<K>() > 2 ? init2 : V.Zero;
        TVec c5_0 = Unsafe.SizeOf<R>() > 5 ? init0 : V.Zero;
        TVec c5_1 = Unsafe.SizeOf<R>() > 5 && Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c6_0 = Unsafe.SizeOf<R>() > 6 ? init0 : V.Zero;
        TVec c6_1 = Unsafe.SizeOf<R>() > 6 && Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c7_0 = Unsafe.SizeOf<R>() > 7 ? init0 : V.Zero;
        TVec c7_1 = Unsafe.SizeOf<R>() > 7 && Unsafe.SizeOf<K>() > 1 ? init1 : V.Zero;
        TVec c8_0 = Unsafe.SizeOf<R>() > 8 ? init0 : V.Zero;
        TVec c9_0 = Unsafe.SizeOf<R>() > 9 ? init0 : V.Zero;
        TVec c10_0 = Unsafe.SizeOf<R>() > 10 ? init0 : V.Zero;
        TVec c11_0 = Unsafe.SizeOf<R>() > 11 ? init0 : V.Zero;
        TVec c12_0 = Unsafe.SizeOf<R>() > 12 ? init0 : V.Zero;
        TVec c13_0 = Unsafe.SizeOf<R>() > 13 ? init0 : V.Zero;
        TVec c14_0 = Unsafe.SizeOf<R>() > 14 ? init0 : V.Zero;
        TVec c15_0 = Unsafe.SizeOf<R>() > 15 ? init0 : V.Zero;

        for (int t = 0; t < inner; t++)
        {
            TVec b0 = V.Load(ref bp, o0);
            TVec b1 = Unsafe.SizeOf<K>() > 1 ? V.Load(ref bp, o1) : V.Zero;
            TVec b2 = Unsafe.SizeOf<K>() > 2 ? V.Load(ref bp, o2) : V.Zero;
            TVec b3 = Unsafe.SizeOf<K>() > 3 ? V.Load(ref bp, o3) : V.Zero;
            TVec x0 = V.Create(Unsafe.Add(ref ap, 0 * aRow));
            c0_0 = V.MultiplyAdd(x0, b0, c0_0);
            if (Unsafe.SizeOf<K>() > 1) c0_1 = V.MultiplyAdd(x0, b1, c0_1);
            if (Unsafe.SizeOf<K>() > 2) c0_2 = V.MultiplyAdd(x0, b2, c0_2);
            if (Unsafe.SizeOf<K>() > 3) c0_3 = V.MultiplyAdd(x0, b3, c0_3);

            if (Unsafe.SizeOf<R>() > 1)
            {
                TVec x1 = V.Create(Unsafe.Add(ref ap, 1 * aRow));
                c1_0 = V.MultiplyAdd(x1, b0, c1_0);
                if (Unsafe.SizeOf<K>() > 1) c1_1 = V.MultiplyAdd(x1, b1, c1_1);
                if (Unsafe.SizeOf<K>() > 2) c1_2 = V.MultiplyAdd(x1, b2, c1_2);
                if (Unsafe.SizeOf<K>() > 3) c1_3 = V.MultiplyAdd(x1, b3, c1_3);
            }

            if (Unsafe.SizeOf<R>() > 2)
            {
                TVec x2 = V.Create(Unsafe.Add(ref ap, 2 * aRow));
                c2_0 = V.MultiplyAdd(x2, b0, c2_0);
                if (Unsafe.SizeOf<K>() > 1) c2_1 = V.MultiplyAdd(x2, b1, c2_1);
                if (Unsafe.SizeOf<K>() > 2) c2_2 = V.MultiplyAdd(x2, b2, c2_2);
                if (Unsafe.SizeOf<K>() > 3) c2_3 = V.MultiplyAdd(x2, b3, c2_3);
            }

            if (Unsafe.SizeOf<R>() > 3)
            {
                TVec x3 = V.Create(Unsafe.Add(ref ap, 3 * aRow));
                c3_0 = V.MultiplyAdd(x3, b0, c3_0);
                if (Unsafe.SizeOf<K>() > 1) c3_1 = V.MultiplyAdd(x3, b1, c3_1);
                if (Unsafe.SizeOf<K>() > 2) c3_2 = V.MultiplyAdd(x3, b2, c3_2);
                if (Unsafe.SizeOf<K>() > 3) c3_3 = V.MultiplyAdd(x3, b3, c3_3);
            }

            if (Unsafe.SizeOf<R>() > 4)
            {
                TVec x4 = V.Create(Unsafe.Add(ref ap, 4 * aRow));
                c4_0 = V.MultiplyAdd(x4, b0, c4_0);
                if (Unsafe.SizeOf<K>() > 1) c4_1 = V.MultiplyAdd(x4, b1, c4_1);
                if (Unsafe.SizeOf<K>() > 2) c4_2 = V.MultiplyAdd(x4, b2, c4_2);
            }

            if (Unsafe.SizeOf<R>() > 5)
            {
                TVec x5 = V.Create(Unsafe.Add(ref ap, 5 * aRow));
                c5_0 = V.MultiplyAdd(x5, b0, c5_0);
                if (Unsafe.SizeOf<K>() > 1) c5_1 = V.MultiplyAdd(x5, b1, c5_1);
            }

            if (Unsafe.SizeOf<R>() > 6)
            {
                TVec x6 = V.Create(Unsafe.Add(ref ap, 6 * aRow));
                c6_0 = V.MultiplyAdd(x6, b0, c6_0);
                if (Unsafe.SizeOf<K>() > 1) c6_1 = V.MultiplyAdd(x6, b1, c6_1);
            }

            if (Unsafe.SizeOf<R>() > 7)
            {
                TVec x7 = V.Create(Unsafe.Add(ref ap, 7 * aRow));
                c7_0 = V.MultiplyAdd(x7, b0, c7_0);
                if (Unsafe.SizeOf<K>() > 1) c7_1 = V.MultiplyAdd(x7, b1, c7_1);
            }

            if (Unsafe.SizeOf<R>() > 8)
            {
                TVec x8 = V.Create(Unsafe.Add(ref ap, 8 * aRow));
                c8_0 = V.MultiplyAdd(x8, b0, c8_0);
            }

            if (Unsafe.SizeOf<R>() > 9)
            {
                TVec x9 = V.Create(Unsafe.Add(ref ap, 9 * aRow));
                c9_0 = V.MultiplyAdd(x9, b0, c9_0);
            }

            if (Unsafe.SizeOf<R>() > 10)
            {
                TVec x10 = V.Create(Unsafe.Add(ref ap, 10 * aRow));
                c10_0 = V.MultiplyAdd(x10, b0, c10_0);
            }

            if (Unsafe.SizeOf<R>() > 11)
            {
                TVec x11 = V.Create(Unsafe.Add(ref ap, 11 * aRow));
                c11_0 = V.MultiplyAdd(x11, b0, c11_0);
            }

            if (Unsafe.SizeOf<R>() > 12)
            {
                TVec x12 = V.Create(Unsafe.Add(ref ap, 12 * aRow));
                c12_0 = V.MultiplyAdd(x12, b0, c12_0);
            }

            if (Unsafe.SizeOf<R>() > 13)
            {
                TVec x13 = V.Create(Unsafe.Add(ref ap, 13 * aRow));
                c13_0 = V.MultiplyAdd(x13, b0, c13_0);
            }

            if (Unsafe.SizeOf<R>() > 14)
            {
                TVec x14 = V.Create(Unsafe.Add(ref ap, 14 * aRow));
                c14_0 = V.MultiplyAdd(x14, b0, c14_0);
            }

            if (Unsafe.SizeOf<R>() > 15)
            {
                TVec x15 = V.Create(Unsafe.Add(ref ap, 15 * aRow));
                c15_0 = V.MultiplyAdd(x15, b0, c15_0);
            }

            ap = ref Unsafe.Add(ref ap, aCol);
            bp = ref Unsafe.Add(ref bp, bStride);
        }

        Finish<A, E>(c0_0, ref Unsafe.Add(ref c, 0 * cStride), ref Unsafe.Add(ref previous, 0 * cStride), o0, fresh0);
        if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c0_1, ref Unsafe.Add(ref c, 0 * cStride), ref Unsafe.Add(ref previous, 0 * cStride), o1, fresh1);
        if (Unsafe.SizeOf<K>() > 2) Finish<A, E>(c0_2, ref Unsafe.Add(ref c, 0 * cStride), ref Unsafe.Add(ref previous, 0 * cStride), o2, fresh2);
        if (Unsafe.SizeOf<K>() > 3) Finish<A, E>(c0_3, ref Unsafe.Add(ref c, 0 * cStride), ref Unsafe.Add(ref previous, 0 * cStride), o3, fresh3);

        if (Unsafe.SizeOf<R>() > 1)
        {
            Finish<A, E>(c1_0, ref Unsafe.Add(ref c, 1 * cStride), ref Unsafe.Add(ref previous, 1 * cStride), o0, fresh0);
            if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c1_1, ref Unsafe.Add(ref c, 1 * cStride), ref Unsafe.Add(ref previous, 1 * cStride), o1, fresh1);
            if (Unsafe.SizeOf<K>() > 2) Finish<A, E>(c1_2, ref Unsafe.Add(ref c, 1 * cStride), ref Unsafe.Add(ref previous, 1 * cStride), o2, fresh2);
            if (Unsafe.SizeOf<K>() > 3) Finish<A, E>(c1_3, ref Unsafe.Add(ref c, 1 * cStride), ref Unsafe.Add(ref previous, 1 * cStride), o3, fresh3);
        }

        if (Unsafe.SizeOf<R>() > 2)
        {
            Finish<A, E>(c2_0, ref Unsafe.Add(ref c, 2 * cStride), ref Unsafe.Add(ref previous, 2 * cStride), o0, fresh0);
            if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c2_1, ref Unsafe.Add(ref c, 2 * cStride), ref Unsafe.Add(ref previous, 2 * cStride), o1, fresh1);
            if (Unsafe.SizeOf<K>() > 2) Finish<A, E>(c2_2, ref Unsafe.Add(ref c, 2 * cStride), ref Unsafe.Add(ref previous, 2 * cStride), o2, fresh2);
            if (Unsafe.SizeOf<K>() > 3) Finish<A, E>(c2_3, ref Unsafe.Add(ref c, 2 * cStride), ref Unsafe.Add(ref previous, 2 * cStride), o3, fresh3);
        }

        if (Unsafe.SizeOf<R>() > 3)
        {
            Finish<A, E>(c3_0, ref Unsafe.Add(ref c, 3 * cStride), ref Unsafe.Add(ref previous, 3 * cStride), o0, fresh0);
            if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c3_1, ref Unsafe.Add(ref c, 3 * cStride), ref Unsafe.Add(ref previous, 3 * cStride), o1, fresh1);
            if (Unsafe.SizeOf<K>() > 2) Finish<A, E>(c3_2, ref Unsafe.Add(ref c, 3 * cStride), ref Unsafe.Add(ref previous, 3 * cStride), o2, fresh2);
            if (Unsafe.SizeOf<K>() > 3) Finish<A, E>(c3_3, ref Unsafe.Add(ref c, 3 * cStride), ref Unsafe.Add(ref previous, 3 * cStride), o3, fresh3);
        }

        if (Unsafe.SizeOf<R>() > 4)
        {
            Finish<A, E>(c4_0, ref Unsafe.Add(ref c, 4 * cStride), ref Unsafe.Add(ref previous, 4 * cStride), o0, fresh0);
            if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c4_1, ref Unsafe.Add(ref c, 4 * cStride), ref Unsafe.Add(ref previous, 4 * cStride), o1, fresh1);
            if (Unsafe.SizeOf<K>() > 2) Finish<A, E>(c4_2, ref Unsafe.Add(ref c, 4 * cStride), ref Unsafe.Add(ref previous, 4 * cStride), o2, fresh2);
        }

        if (Unsafe.SizeOf<R>() > 5)
        {
            Finish<A, E>(c5_0, ref Unsafe.Add(ref c, 5 * cStride), ref Unsafe.Add(ref previous, 5 * cStride), o0, fresh0);
            if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c5_1, ref Unsafe.Add(ref c, 5 * cStride), ref Unsafe.Add(ref previous, 5 * cStride), o1, fresh1);
        }

        if (Unsafe.SizeOf<R>() > 6)
        {
            Finish<A, E>(c6_0, ref Unsafe.Add(ref c, 6 * cStride), ref Unsafe.Add(ref previous, 6 * cStride), o0, fresh0);
            if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c6_1, ref Unsafe.Add(ref c, 6 * cStride), ref Unsafe.Add(ref previous, 6 * cStride), o1, fresh1);
        }

        if (Unsafe.SizeOf<R>() > 7)
        {
            Finish<A, E>(c7_0, ref Unsafe.Add(ref c, 7 * cStride), ref Unsafe.Add(ref previous, 7 * cStride), o0, fresh0);
            if (Unsafe.SizeOf<K>() > 1) Finish<A, E>(c7_1, ref Unsafe.Add(ref c, 7 * cStride), ref Unsafe.Add(ref previous, 7 * cStride), o1, fresh1);
        }

        if (Unsafe.SizeOf<R>() > 8)
        {
            Finish<A, E>(c8_0, ref Unsafe.Add(ref c, 8 * cStride), ref Unsafe.Add(ref previous, 8 * cStride), o0, fresh0);
        }

        if (Unsafe.SizeOf<R>() > 9)
        {
            Finish<A, E>(c9_0, ref Unsafe.Add(ref c, 9 * cStride), ref Unsafe.Add(ref previous, 9 * cStride), o0, fresh0);
        }

        if (Unsafe.SizeOf<R>() > 10)
        {
            Finish<A, E>(c10_0, ref Unsafe.Add(ref c, 10 * cStride), ref Unsafe.Add(ref previous, 10 * cStride), o0, fresh0);
        }

        if (Unsafe.SizeOf<R>() > 11)
        {
            Finish<A, E>(c11_0, ref Unsafe.Add(ref c, 11 * cStride), ref Unsafe.Add(ref previous, 11 * cStride), o0, fresh0);
        }

        if (Unsafe.SizeOf<R>() > 12)
        {
            Finish<A, E>(c12_0, ref Unsafe.Add(ref c, 12 * cStride), ref Unsafe.Add(ref previous, 12 * cStride), o0, fresh0);
        }

        if (Unsafe.SizeOf<R>() > 13)
        {
            Finish<A, E>(c13_0, ref Unsafe.Add(ref c, 13 * cStride), ref Unsafe.Add(ref previous, 13 * cStride), o0, fresh0);
        }

        if (Unsafe.SizeOf<R>() > 14)
        {
            Finish<A, E>(c14_0, ref Unsafe.Add(ref c, 14 * cStride), ref Unsafe.Add(ref previous, 14 * cStride), o0, fresh0);
        }

        if (Unsafe.SizeOf<R>() > 15)
        {
            Finish<A, E>(c15_0, ref Unsafe.Add(ref c, 15 * cStride), ref Unsafe.Add(ref previous, 15 * cStride), o0, fresh0);
        }

        if (typeof(E) == typeof(StoreActivated) && typeof(A) != typeof(Relu) && typeof(A) != typeof(Linear))
        {
            // Sigmoid and tanh after the tile, row by row: applied in place on all accumulators at once they would keep
            // every accumulator live through the activation's temporaries, and the JIT would spill.
            for (int r = 0; r < rows; r++)
            {
                ref float row = ref Unsafe.Add(ref c, r * cStride);
                for (int m = 0; m < k; m++)
                {
                    int offset = Math.Min(m * lanes, last);
                    int fresh = m * lanes - offset;
                    TVec z = V.Load(ref row, (nuint)offset);
                    TVec activated = SimdMath<V, TVec>.Activate<A>(z);
                    V.Store(fresh > 0 ? V.Select(V.LanesFrom(fresh), activated, z) : activated, ref row, (nuint)offset);
                }
            }
        }
    }

    /// <summary>
    /// The epilogue of one accumulator: its row of C at <paramref name="at"/> (and of the previous layer's activations at
    /// <paramref name="previous"/>), its segment at <paramref name="offset"/>; lanes below
    /// <paramref name="fresh"/> belong to the segment before and are left as they are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<A, E>(TVec acc, ref float at, ref float previous, nuint offset, int fresh)
        where A : struct
        where E : struct
    {
        TVec value;
        if (typeof(E) == typeof(AddInto))
        {
            value = V.Add(V.Load(ref at, offset), fresh > 0 ? V.And(acc, V.LanesFrom(fresh)) : acc);
            V.Store(value, ref at, offset);
            return;
        }

        if (typeof(E) == typeof(TimesDerivative))
        {
            value = SimdMath<V, TVec>.Derivative<A>(V.Load(ref previous, offset), acc);
        }
        else
        {
            value = typeof(A) == typeof(Relu) ? SimdMath<V, TVec>.Relu(acc) : acc;
        }

        V.Store(fresh > 0 ? V.Select(V.LanesFrom(fresh), value, V.Load(ref at, offset)) : value, ref at, offset);
    }
}
