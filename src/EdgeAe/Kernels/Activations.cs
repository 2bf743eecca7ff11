using System.ComponentModel;

namespace EdgeAe.Kernels;

// The activation of a layer as a type argument of the kernels (Dense.Forward<TLayer, Sigmoid>). The kernels compare
// it with typeof(...), which the JIT folds while it imports the code, so each instantiation contains only the math of
// its own activation. Docs/math.md states each function's algorithm and error.

/// <summary>f(z) = z.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Linear;

/// <summary>f(z) = max(0, z); NaN propagates.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Relu;

/// <summary>f(z) = 1 / (1 + e^−z).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Sigmoid;

/// <summary>f(z) = tanh z.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Tanh;

/// <summary>
/// The sigmoid of a binary cross-entropy model's output layer: σ(z) = (z ≥ 0 ? 1 : e)/(1 + e) with e = e^−|z|, the
/// form the loss shares its exp with; outputs of exactly 0 and 1 stay finite in the loss.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct StableSigmoid;
