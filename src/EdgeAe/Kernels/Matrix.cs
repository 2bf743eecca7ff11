using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAe.Kernels;

/// <summary>Matrix helpers for generated desktop models.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Matrix
{
    private const int Tile = 16;

    /// <summary>
    /// Writes the transpose of the row-major <paramref name="rows"/> × <paramref name="columns"/> matrix at
    /// <paramref name="source"/> to <paramref name="destination"/> (<paramref name="columns"/> × <paramref name="rows"/>, row-major):
    /// 8 × 8 blocks transposed in AVX registers where AVX is available (unpack, shuffle, lane permute: 24 shuffles
    /// per 64 floats), the edges and other machines element by element in 16 × 16 tiles so both sides stay in cache.
    /// A copy: the result is the same on every path.
    /// </summary>
    public static void Transpose(ref float source, int rows, int columns, ref float destination)
        => TransposeRows(ref source, rows, columns, ref destination, 0, rows);

    /// <summary>
    /// The part of <see cref="Transpose(ref float, int, int, ref float)"/> that comes from parameters
    /// [<paramref name="firstParameter"/>, <paramref name="endParameter"/>) of a buffer in which the matrix starts at
    /// <paramref name="sourceOffset"/>: the rows whose first element lies there, the boundaries rounded up to a multiple
    /// of 8 rows. Parts of consecutive ranges that cover the buffer write every column of the result exactly once, so
    /// threads that each updated a range of the parameters can transpose what they updated, at once.
    /// </summary>
    public static void Transpose(ref float source, int rows, int columns, ref float destination, int sourceOffset, int firstParameter, int endParameter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstParameter);
        ArgumentOutOfRangeException.ThrowIfLessThan(endParameter, firstParameter);
        TransposeRows(ref source, rows, columns, ref destination, RowOf(firstParameter), RowOf(endParameter));

        // The first row starting at or after parameter i, rounded up to a multiple of 8 (at most rows).
        int RowOf(int i)
        {
            long row = i <= sourceOffset ? 0 : ((long)i - sourceOffset + columns - 1) / columns;
            return (int)Math.Min(rows, (row + 7) & ~7L);
        }
    }

    /// <summary>Rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of the transpose (firstRow a multiple of 8).</summary>
    private static void TransposeRows(ref float source, int rows, int columns, ref float destination, int firstRow, int endRow)
    {
        int blockEnd = firstRow;
        int blockColumns = 0;
        if (Avx.IsSupported)
        {
            blockEnd = firstRow + ((endRow - firstRow) & ~7);
            blockColumns = columns & ~7;
            for (int r = firstRow; r < blockEnd; r += 8)
            {
                ref float s = ref Unsafe.Add(ref source, r * columns);
                for (int c = 0; c < blockColumns; c += 8)
                {
                    Transpose8x8(ref Unsafe.Add(ref s, c), columns, ref Unsafe.Add(ref destination, c * rows + r), rows);
                }
            }
        }

        // Whatever the blocks left: columns [blockColumns, columns) of the block rows, then rows [blockEnd, endRow).
        TransposeScalar(ref source, firstRow, blockEnd, blockColumns, columns, rows, columns, ref destination);
        TransposeScalar(ref source, blockEnd, endRow, 0, columns, rows, columns, ref destination);
    }

    private static void TransposeScalar(ref float source, int rowStart, int rowEnd, int columnStart, int columnEnd, int rows, int columns, ref float destination)
    {
        for (int r0 = rowStart; r0 < rowEnd; r0 += Tile)
        {
            int r1 = Math.Min(r0 + Tile, rowEnd);
            for (int c0 = columnStart; c0 < columnEnd; c0 += Tile)
            {
                int c1 = Math.Min(c0 + Tile, columnEnd);
                for (int r = r0; r < r1; r++)
                {
                    ref float row = ref Unsafe.Add(ref source, r * columns);
                    for (int c = c0; c < c1; c++)
                    {
                        Unsafe.Add(ref destination, c * rows + r) = Unsafe.Add(ref row, c);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        Vector256<float> r0 = Vector256.LoadUnsafe(ref source);
        Vector256<float> r1 = Vector256.LoadUnsafe(ref source, (nuint)sourceStride);
        Vector256<float> r2 = Vector256.LoadUnsafe(ref source, (nuint)(2 * sourceStride));
        Vector256<float> r3 = Vector256.LoadUnsafe(ref source, (nuint)(3 * sourceStride));
        Vector256<float> r4 = Vector256.LoadUnsafe(ref source, (nuint)(4 * sourceStride));
        Vector256<float> r5 = Vector256.LoadUnsafe(ref source, (nuint)(5 * sourceStride));
        Vector256<float> r6 = Vector256.LoadUnsafe(ref source, (nuint)(6 * sourceStride));
        Vector256<float> r7 = Vector256.LoadUnsafe(ref source, (nuint)(7 * sourceStride));

        Vector256<float> t0 = Avx.UnpackLow(r0, r1);
        Vector256<float> t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3);
        Vector256<float> t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5);
        Vector256<float> t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7);
        Vector256<float> t7 = Avx.UnpackHigh(r6, r7);

        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44);
        Vector256<float> u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44);
        Vector256<float> u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44);
        Vector256<float> u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44);
        Vector256<float> u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref destination);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref destination, (nuint)destinationStride);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref destination, (nuint)(2 * destinationStride));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref destination, (nuint)(3 * destinationStride));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref destination, (nuint)(4 * destinationStride));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref destination, (nuint)(5 * destinationStride));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref destination, (nuint)(6 * destinationStride));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref destination, (nuint)(7 * destinationStride));
    }
}
