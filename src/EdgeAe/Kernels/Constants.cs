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

// What a product does with each finished vector of z, as a type argument (compared with typeof, folded by the JIT).

/// <summary>a = f(z), written over z.</summary>
internal readonly struct ActivateInPlace;

/// <summary>a = σ(z) written to the output, and the binary cross-entropy terms softplus(z) − t·z summed.</summary>
internal readonly struct BinaryCrossEntropyTerms;

/// <summary>a = f(z) written to the output, and the squared-error terms ½(a − t)² summed.</summary>
internal readonly struct SquaredErrorTerms;
