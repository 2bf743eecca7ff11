using System.ComponentModel;

namespace EdgeAe.Kernels;

/// <summary>
/// The constant shape of one dense layer of a generated model. Generated code declares one struct per layer
/// implementing this interface and passes it, with the layer's activation, as type arguments to the kernels
/// (<see cref="Dense"/>): the JIT
/// compiles each kernel for that struct, so every size and offset below is a constant in the machine code —
/// bounds fold, tails are known, no size travels as an argument.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IDenseLayer
{
    /// <summary>Inputs of the layer (the width of x).</summary>
    static abstract int Inputs { get; }

    /// <summary>Outputs of the layer (the width of z = b + x·W).</summary>
    static abstract int Outputs { get; }

    /// <summary>
    /// Offset of W in the parameter buffer. An untied layer stores W input-major (W[i, j], input i, output j, at
    /// <c>Weights + i·Outputs + j</c>); a tied layer reads its mirror encoder layer's W, which is output-major for it
    /// (W[i, j] at <c>Weights + j·Inputs + i</c>).
    /// </summary>
    static abstract int Weights { get; }

    /// <summary>Offset of the <see cref="Outputs"/> biases in the parameter buffer.</summary>
    static abstract int Biases { get; }
}
