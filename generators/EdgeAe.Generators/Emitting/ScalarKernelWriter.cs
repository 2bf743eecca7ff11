using System;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// A buffer the kernels read or write: a local or parameter name, an optional run-time base (the
/// start of a sample's slot in batch code, e.g. <c>slot</c>) and a constant offset into it.
/// </summary>
internal readonly struct Operand
{
    public Operand(string name, int offset, string? baseExpression = null)
    {
        Name = name;
        Offset = offset;
        Base = baseExpression;
    }

    public string Name { get; }

    public int Offset { get; }

    public string? Base { get; }

    /// <summary>The element expression at <paramref name="index"/>, e.g. <c>ws[128 + j]</c> or <c>ws[slot + 128 + j]</c>.</summary>
    public string At(string index)
    {
        string start = Base is null ? string.Empty : Base + " + ";
        return Offset == 0 ? $"{Name}[{start}{index}]" : $"{Name}[{start}{Invariant.Int(Offset)} + {index}]";
    }

    public static Operand Workspace(int offset, string? slot = null) => new("ws", offset, slot);
}

/// <summary>
/// Writes the scalar forward, loss and backprop loops of dense layers. Every bound and offset is a
/// constant. The loops use only indexers and float arithmetic, so the same text compiles as span
/// code on the desktop and as array code for nanoFramework. Operation order is fixed here, so the
/// scalar path gives the same floats on every target that rounds each operation (no contraction).
/// Locals used: <c>p</c> (parameters), <c>g</c> (gradients), <c>ws</c> (workspace).
/// </summary>
internal static class ScalarKernelWriter
{
    /// <summary>z = b + Σᵢ xᵢ·W[i, ·], then the activation, into the layer's activations.</summary>
    public static void WriteDenseForward(SourceWriter w, LayerPlan plan, Operand source, string? slot = null)
    {
        LayerSpec layer = plan.Layer;
        string outWidth = Invariant.Int(layer.Width);
        string inWidth = Invariant.Int(layer.InputWidth);
        var output = Operand.Workspace(plan.ActivationOffset, slot);

        w.WriteComment($"Layer {layer.Index} ({Describe.Role(layer.Role)}): dense {layer.InputWidth} → {layer.Width}, {layer.Activation}.");
        if (plan.IsTied)
        {
            w.WriteComment($"Tied: z[j] = b[j] + Σᵢ x[i]·W{layer.TiedTo}[j, i], layer {layer.TiedTo}'s W read transposed at p[{plan.WeightOffset}..{plan.WeightOffset + plan.WeightCount}), b at p[{plan.BiasOffset}..{plan.BiasOffset + layer.Width}).");
            w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
            w.WriteLine($"float z = p[{Invariant.Int(plan.BiasOffset)} + j];");
            w.WriteLine($"int row = {RowStart(plan.WeightOffset, "j", inWidth)};");
            w.OpenBlock($"for (int i = 0; i < {inWidth}; i++)");
            w.WriteLine($"z += {source.At("i")} * p[row + i];");
            w.CloseBlock();
            w.WriteLine();
            w.WriteLine($"{output.At("j")} = z;");
            w.CloseBlock();
        }
        else
        {
            w.WriteComment($"z = b + Σᵢ x[i]·W[i, ·] with W input-major at p[{plan.WeightOffset}..{plan.WeightOffset + plan.WeightCount}), b at p[{plan.BiasOffset}..{plan.BiasOffset + layer.Width}).");
            w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
            w.WriteLine($"{output.At("j")} = p[{Invariant.Int(plan.BiasOffset)} + j];");
            w.CloseBlock();
            w.WriteLine();
            w.OpenBlock($"for (int i = 0; i < {inWidth}; i++)");
            w.WriteLine($"float xi = {source.At("i")};");
            w.WriteLine($"int row = {RowStart(plan.WeightOffset, "i", outWidth)};");
            w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
            w.WriteLine($"{output.At("j")} += xi * p[row + j];");
            w.CloseBlock();
            w.CloseBlock();
        }

        w.WriteLine();

        if (plan.PreActivationOffset >= 0)
        {
            var preActivation = Operand.Workspace(plan.PreActivationOffset, slot);
            w.WriteComment("Keep z: the binary cross-entropy is computed from it, so outputs of exactly 0 or 1 never give log(0).");
            w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
            w.WriteLine($"float z = {output.At("j")};");
            w.WriteLine($"{preActivation.At("j")} = z;");
            w.WriteLine($"{output.At("j")} = {ActivationCall(layer.Activation, "z")};");
            w.CloseBlock();
        }
        else if (layer.Activation != ActivationKind.Linear)
        {
            w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
            w.WriteLine($"{output.At("j")} = {ActivationCall(layer.Activation, output.At("j"))};");
            w.CloseBlock();
        }
        else
        {
            w.WriteComment("Linear activation: z is the output.");
        }
    }

    /// <summary>
    /// Declares <c>double loss</c> and sums the lecture's per-sample objective against <paramref name="target"/>:
    /// Σ BCE computed from the pre-activation, or ½Σ(x̂ − x)².
    /// </summary>
    public static void WriteLoss(SourceWriter w, ModelPlan plan, Operand target, string? slot = null, bool declare = true)
    {
        LayerPlan output = plan.OutputLayer;
        string width = Invariant.Int(output.Layer.Width);
        var activation = Operand.Workspace(output.ActivationOffset, slot);
        if (declare)
        {
            w.WriteLine("double loss = 0.0;");
        }

        if (plan.Topology.Loss == LossKind.BinaryCrossEntropy)
        {
            var preActivation = Operand.Workspace(output.PreActivationOffset, slot);
            w.WriteComment("Binary cross-entropy from z: −[t·log σ(z) + (1 − t)·log(1 − σ(z))] = softplus(z) − t·z.");
            w.OpenBlock($"for (int j = 0; j < {width}; j++)");
            w.WriteLine($"float z = {preActivation.At("j")};");
            w.WriteLine($"loss += EdgeAeMath.Softplus(z) - (double)({target.At("j")} * z);");
            w.CloseBlock();
        }
        else
        {
            w.WriteComment("Squared error ½Σ(x̂ − t)².");
            w.OpenBlock($"for (int j = 0; j < {width}; j++)");
            w.WriteLine($"float d = {activation.At("j")} - {target.At("j")};");
            w.WriteLine("loss += 0.5 * (double)(d * d);");
            w.CloseBlock();
        }
    }

    /// <summary>∂loss/∂z of the output layer into its delta buffer.</summary>
    public static void WriteOutputDelta(SourceWriter w, ModelPlan plan, Operand target, string? slot = null)
    {
        LayerPlan output = plan.OutputLayer;
        var activation = Operand.Workspace(output.ActivationOffset, slot);
        var delta = Operand.Workspace(output.DeltaOffset, slot);
        string error = $"{activation.At("j")} - {target.At("j")}";
        if (plan.Topology.Loss == LossKind.BinaryCrossEntropy)
        {
            w.WriteComment("Output delta for sigmoid + binary cross-entropy: ∂loss/∂z = σ(z) − t.");
            w.OpenBlock($"for (int j = 0; j < {Invariant.Int(output.Layer.Width)}; j++)");
            w.WriteLine($"{delta.At("j")} = {error};");
        }
        else
        {
            w.WriteComment($"Output delta for squared error: ∂loss/∂z = (x̂ − t)·f'(z), f = {output.Layer.Activation}.");
            w.OpenBlock($"for (int j = 0; j < {Invariant.Int(output.Layer.Width)}; j++)");
            w.WriteLine($"float a = {activation.At("j")};");
            w.WriteLine($"{delta.At("j")} = {Derivative(output.Layer.Activation, "a", $"(a - {target.At("j")})")};");
        }

        w.CloseBlock();
    }

    /// <summary>
    /// Accumulates layer <paramref name="plan"/>'s gradients (g += ∂loss/∂W, ∂loss/∂b) from its delta
    /// and, when <paramref name="previous"/> is given, back-propagates the delta to the previous layer.
    /// </summary>
    public static void WriteDenseBackward(SourceWriter w, LayerPlan plan, Operand source, LayerPlan? previous, string? slot = null)
    {
        if (plan.IsTied)
        {
            WriteTiedBackward(w, plan, source, previous, slot);
            return;
        }

        LayerSpec layer = plan.Layer;
        string outWidth = Invariant.Int(layer.Width);
        var delta = Operand.Workspace(plan.DeltaOffset, slot);

        w.WriteComment($"Layer {layer.Index} ({Describe.Role(layer.Role)}) backward: g_b += δ, g_W[i, j] += x[i]·δ[j]"
            + (previous is null ? "." : $", δ_prev[i] = f'(x[i])·Σⱼ W[i, j]·δ[j] with f = {previous.Layer.Activation}."));
        w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
        w.WriteLine($"g[{Invariant.Int(plan.BiasOffset)} + j] += {delta.At("j")};");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock($"for (int i = 0; i < {Invariant.Int(layer.InputWidth)}; i++)");
        w.WriteLine($"float xi = {source.At("i")};");
        w.WriteLine($"int row = {RowStart(plan.WeightOffset, "i", outWidth)};");
        if (previous is not null)
        {
            w.WriteLine("float back = 0f;");
        }

        w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
        w.WriteLine($"float dj = {delta.At("j")};");
        w.WriteLine("g[row + j] += xi * dj;");
        if (previous is not null)
        {
            w.WriteLine("back += p[row + j] * dj;");
        }

        w.CloseBlock();
        if (previous is not null)
        {
            w.WriteLine($"{Operand.Workspace(previous.DeltaOffset, slot).At("i")} = {Derivative(previous.Layer.Activation, "xi", "back")};");
        }

        w.CloseBlock();
    }

    /// <summary>
    /// Backward of a tied decoder layer: its W is the mirror encoder layer's, read transposed, so the
    /// weight gradient adds into that shared tensor (the encoder's own backward adds its part later).
    /// </summary>
    private static void WriteTiedBackward(SourceWriter w, LayerPlan plan, Operand source, LayerPlan? previous, string? slot)
    {
        LayerSpec layer = plan.Layer;
        string outWidth = Invariant.Int(layer.Width);
        string inWidth = Invariant.Int(layer.InputWidth);
        var delta = Operand.Workspace(plan.DeltaOffset, slot);
        Operand? back = previous is null ? null : Operand.Workspace(previous.DeltaOffset, slot);

        w.WriteComment($"Layer {layer.Index} ({Describe.Role(layer.Role)}) backward, tied to layer {layer.TiedTo}: g_b += δ, g_W{layer.TiedTo}[j, i] += x[i]·δ[j] (summed with layer {layer.TiedTo}'s own use)"
            + (previous is null ? "." : $", δ_prev[i] = f'(x[i])·Σⱼ W{layer.TiedTo}[j, i]·δ[j] with f = {previous.Layer.Activation}."));
        w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
        w.WriteLine($"g[{Invariant.Int(plan.BiasOffset)} + j] += {delta.At("j")};");
        w.CloseBlock();
        w.WriteLine();
        if (back is { } b)
        {
            w.OpenBlock($"for (int i = 0; i < {inWidth}; i++)");
            w.WriteLine($"{b.At("i")} = 0f;");
            w.CloseBlock();
            w.WriteLine();
        }

        w.OpenBlock($"for (int j = 0; j < {outWidth}; j++)");
        w.WriteLine($"float dj = {delta.At("j")};");
        w.WriteLine($"int row = {RowStart(plan.WeightOffset, "j", inWidth)};");
        w.OpenBlock($"for (int i = 0; i < {inWidth}; i++)");
        w.WriteLine($"g[row + i] += {source.At("i")} * dj;");
        if (back is { } b2)
        {
            w.WriteLine($"{b2.At("i")} += p[row + i] * dj;");
        }

        w.CloseBlock();
        w.CloseBlock();
        if (back is { } b3)
        {
            w.WriteLine();
            w.OpenBlock($"for (int i = 0; i < {inWidth}; i++)");
            w.WriteLine($"float xi = {source.At("i")};");
            w.WriteLine($"{b3.At("i")} = {Derivative(previous!.Layer.Activation, "xi", b3.At("i"))};");
            w.CloseBlock();
        }
    }

    private static string RowStart(int weightOffset, string index, string stride)
        => (weightOffset == 0 ? string.Empty : Invariant.Int(weightOffset) + " + ") + index + " * " + stride;

    /// <summary>Weights drawn uniformly in ±limit from the seeded generator, biases zero.</summary>
    public static void WriteInitialization(SourceWriter w, LayerPlan plan, InitializationKind initialization)
    {
        LayerSpec layer = plan.Layer;
        Initialization init = Initialization.Of(plan, initialization);
        w.WriteComment($"Layer {layer.Index}: {init.Description}");
        if (init.WeightLimit is float weightLimit)
        {
            w.OpenBlock($"for (int k = 0; k < {Invariant.Int(plan.WeightCount)}; k++)");
            w.WriteLine($"p[{(plan.WeightOffset == 0 ? string.Empty : Invariant.Int(plan.WeightOffset) + " + ")}k] = {Invariant.Float(weightLimit)} * EdgeAeMath.NextSymmetric(ref state);");
            w.CloseBlock();
        }

        if (init.BiasLimit is float biasLimit)
        {
            if (init.WeightLimit is not null)
            {
                w.WriteLine();
            }

            w.OpenBlock($"for (int k = 0; k < {Invariant.Int(layer.Width)}; k++)");
            w.WriteLine($"p[{Invariant.Int(plan.BiasOffset)} + k] = {Invariant.Float(biasLimit)} * EdgeAeMath.NextSymmetric(ref state);");
            w.CloseBlock();
        }
    }

    /// <summary>The activation applied to <paramref name="z"/>.</summary>
    public static string ActivationCall(ActivationKind activation, string z) => activation switch
    {
        ActivationKind.Sigmoid => $"EdgeAeMath.Sigmoid({z})",
        ActivationKind.Tanh => $"EdgeAeMath.Tanh({z})",
        ActivationKind.Relu => $"EdgeAeMath.Relu({z})",
        ActivationKind.Linear => z,
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary><paramref name="upstream"/>·f'(z), with f' written in terms of the output a = f(z).</summary>
    public static string Derivative(ActivationKind activation, string a, string upstream) => activation switch
    {
        ActivationKind.Sigmoid => $"{upstream} * {a} * (1f - {a})",
        ActivationKind.Tanh => $"{upstream} * (1f - {a} * {a})",
        ActivationKind.Relu => $"{a} > 0f ? {upstream} : 0f",
        ActivationKind.Linear => upstream,
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
