using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeAe.Kernels;

/// <summary>
/// An integer known when the JIT compiles a generic kernel: kernels take it as a type argument (a struct) so that
/// loop bounds and register-tile shapes become constants in the machine code, as if the kernel were written for them.
/// The struct's size is the value too: guards read it with <see cref="Unsafe.SizeOf{T}"/>, which the JIT turns into a
/// constant while it imports the method, so the code of branches a shape does not take is never imported (a call to
/// <see cref="Value"/> is only known after inlining, too late: the dead branches would use up the inlining budget).
/// </summary>
internal interface IConstant
{
    static abstract int Value { get; }
}

[StructLayout(LayoutKind.Sequential, Size = 1)]
internal readonly struct N1 : IConstant { public static int Value => 1; }
[StructLayout(LayoutKind.Sequential, Size = 2)]
internal readonly struct N2 : IConstant { public static int Value => 2; }
[StructLayout(LayoutKind.Sequential, Size = 3)]
internal readonly struct N3 : IConstant { public static int Value => 3; }
[StructLayout(LayoutKind.Sequential, Size = 4)]
internal readonly struct N4 : IConstant { public static int Value => 4; }
[StructLayout(LayoutKind.Sequential, Size = 5)]
internal readonly struct N5 : IConstant { public static int Value => 5; }
[StructLayout(LayoutKind.Sequential, Size = 6)]
internal readonly struct N6 : IConstant { public static int Value => 6; }
[StructLayout(LayoutKind.Sequential, Size = 7)]
internal readonly struct N7 : IConstant { public static int Value => 7; }
[StructLayout(LayoutKind.Sequential, Size = 8)]
internal readonly struct N8 : IConstant { public static int Value => 8; }
[StructLayout(LayoutKind.Sequential, Size = 12)]
internal readonly struct N12 : IConstant { public static int Value => 12; }
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal readonly struct N16 : IConstant { public static int Value => 16; }

/// <summary>How the products cut a row of output segments into blocks of register accumulators.</summary>
internal static class RowBlocks
{
    /// <summary>
    /// Segments per block when a row of <paramref name="segments"/> is cut into as few blocks of at most
    /// <paramref name="most"/> as possible, as even as possible (the batch tiles, the int8 kernels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int EvenSplit(int segments, int most)
    {
        int blocks = (segments + most - 1) / most;
        return (segments + blocks - 1) / blocks;
    }

    /// <summary>
    /// Segments per block for the float batch-1 product's row of <paramref name="segments"/> with at most <paramref name="most"/>
    /// per block: <see cref="EvenSplit"/>, unless that leaves a last block of fewer than half of
    /// <paramref name="most"/>: then the widest block size above half that divides the row or leaves a last block of at
    /// least half. A last block of a few segments has too few independent chains to hide their latency and takes about
    /// as long as a full one: 98 segments (784 outputs in 8-lane vectors) run as 14 blocks of 7, not 12 of 8 and one of 2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SegmentsPerBlock(int segments, int most)
    {
        int even = EvenSplit(segments, most);
        if (segments <= most || segments % even == 0 || segments % even >= most / 2)
        {
            return even;
        }

        for (int k = most; k > most / 2; k--)
        {
            if (segments % k == 0 || segments % k >= most / 2)
            {
                return k;
            }
        }

        return even;
    }
}

// What a product does with each finished vector of z, as a type argument (compared with typeof, folded by the JIT).

/// <summary>a = f(z), written over z.</summary>
internal readonly struct ActivateInPlace;

/// <summary>a = σ(z) written to the output, and the binary cross-entropy terms softplus(z) − t·z summed.</summary>
internal readonly struct BinaryCrossEntropyTerms;

/// <summary>a = f(z) written to the output, and the squared-error terms ½(a − t)² summed.</summary>
internal readonly struct SquaredErrorTerms;
