using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace EdgeAe.Kernels;

/// <summary>Matrix helpers for generated desktop models.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Matrix
{
    private const int Tile = 16;

    /// <summary>
    /// Writes the transpose of the row-major <paramref name="rows"/> × <paramref name="columns"/> matrix at
    /// <paramref name="source"/> to <paramref name="destination"/> (<paramref name="columns"/> × <paramref name="rows"/>, row-major),
    /// in 16 × 16 tiles so both sides stay in cache.
    /// </summary>
    public static void Transpose(ref float source, int rows, int columns, ref float destination)
    {
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(r0 + Tile, rows);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(c0 + Tile, columns);
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

    /// <summary>
    /// The first 64-byte aligned element of a pinned array (allocated with <c>GC.AllocateArray(…, pinned: true)</c>
    /// and 16 floats of slack), so SIMD loads and stores of its rows never straddle cache lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe ref float Aligned(float[] pinned)
    {
        ref float start = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned);
        nint address = (nint)Unsafe.AsPointer(ref start);
        return ref Unsafe.Add(ref start, (int)((64 - (address & 63)) & 63) / sizeof(float));
    }
}
