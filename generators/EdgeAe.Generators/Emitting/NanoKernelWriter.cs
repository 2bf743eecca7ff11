using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// Forward kernels for nanoFramework's IL interpreter, where cost is IL instructions executed.
/// Outputs are computed in blocks of <see cref="Block"/>, each accumulated in locals over all inputs:
/// one load of x[i] serves the whole block, weights are read with constant offsets from one running
/// index, and nothing is stored until the block is done. Each output still sums b + x₀w₀ + x₁w₁ + …
/// in ascending input order, so the results are bit-identical to the plain loops.
/// </summary>
internal static class NanoKernelWriter
{
    /// <summary>Outputs per block (accumulator locals s0…s7).</summary>
    public const int Block = 8;

    public static void WriteDenseForward(SourceWriter w, LayerPlan plan, Operand source)
    {
        LayerSpec layer = plan.Layer;
        if (plan.IsTied || layer.Width < 2)
        {
            // Tied layers read W transposed (a dot product per output); tiny layers gain nothing.
            ScalarKernelWriter.WriteDenseForward(w, plan, source);
            return;
        }

        w.WriteComment($"Layer {layer.Index} ({Describe.Role(layer.Role)}): dense {layer.InputWidth} → {layer.Width}, {layer.Activation}.");
        w.WriteComment($"z = b + Σᵢ x[i]·W[i, ·] with W input-major at p[{plan.WeightOffset}..{plan.WeightOffset + plan.WeightCount}), b at p[{plan.BiasOffset}..{plan.BiasOffset + layer.Width});");
        w.WriteComment($"outputs in blocks of up to {Block}, accumulated in locals.");
        int blocks = layer.Width / Block;
        int tail = layer.Width % Block;
        if (blocks > 0)
        {
            w.OpenBlock($"for (int j = 0; j < {Invariant.Int(blocks * Block)}; j += {Block})");
            WriteBlock(w, plan, source, "j", Block);
            w.CloseBlock();
        }

        if (tail > 0)
        {
            if (blocks > 0)
            {
                w.WriteLine();
            }

            w.OpenBlock(string.Empty);
            w.WriteLine($"const int j = {Invariant.Int(blocks * Block)};");
            WriteBlock(w, plan, source, "j", tail);
            w.CloseBlock();
        }
    }

    private static void WriteBlock(SourceWriter w, LayerPlan plan, Operand source, string j, int size)
    {
        LayerSpec layer = plan.Layer;
        string bias = Invariant.Int(plan.BiasOffset);
        for (int u = 0; u < size; u++)
        {
            w.WriteLine($"float s{u} = p[{bias} + {j}{Plus(u)}];");
        }

        w.WriteLine($"int k = {(plan.WeightOffset == 0 ? string.Empty : Invariant.Int(plan.WeightOffset) + " + ")}{j};");
        w.OpenBlock($"for (int i = 0; i < {Invariant.Int(layer.InputWidth)}; i++)");
        w.WriteLine($"float xi = {source.At("i")};");
        for (int u = 0; u < size; u++)
        {
            w.WriteLine($"s{u} += xi * p[k{Plus(u)}];");
        }

        w.WriteLine($"k += {Invariant.Int(layer.Width)};");
        w.CloseBlock();
        w.WriteLine();

        var output = Operand.Workspace(plan.ActivationOffset);
        var preActivation = plan.PreActivationOffset >= 0 ? Operand.Workspace(plan.PreActivationOffset) : (Operand?)null;
        for (int u = 0; u < size; u++)
        {
            string index = j + Plus(u);
            if (preActivation is { } z)
            {
                w.WriteLine($"{z.At(index)} = s{u};");
            }

            w.WriteLine($"{output.At(index)} = {ScalarKernelWriter.ActivationCall(layer.Activation, "s" + Invariant.Int(u))};");
        }
    }

    /// <summary>
    /// One int8 layer (docs/quantization.md) in blocks of <see cref="Block"/> outputs: int32 sums of int8 products in
    /// locals (c: codes, k: constants, q: workspace), each output requantised, then clamped (ReLU, linear) or looked up
    /// in the table (sigmoid, tanh). With <paramref name="preActivations"/> ≥ 0 the z codes are kept for the loss.
    /// </summary>
    public static void WriteInt8DenseForward(SourceWriter w, LayerSpec layer, FirmwareInt8Plan layout, BakedInt8Layer q, int input, int preActivations)
    {
        int l = layer.Index;
        w.WriteComment($"Layer {l} ({Describe.Role(layer.Role)}): dense {layer.InputWidth} → {layer.Width}, {layer.Activation}; acc = B + Σᵢ x[i]·W[i, ·] in int32, "
            + $"z = requantised (shift {Invariant.Int(q.Shift)}, zero point {Invariant.Int(q.ZZeroPoint)}, [{Invariant.Int(q.ZMin)}, {Invariant.Int(q.ZMax)}])"
            + (layout.Tables[l] >= 0 ? ", output = table[z + 128]." : ", output = z."));
        int blocks = layer.Width / Block;
        int tail = layer.Width % Block;
        if (blocks > 0)
        {
            w.OpenBlock($"for (int j = 0; j < {Invariant.Int(blocks * Block)}; j += {Block})");
            WriteInt8Block(w, layer, layout, q, input, preActivations, Block);
            w.CloseBlock();
        }

        if (tail > 0)
        {
            if (blocks > 0)
            {
                w.WriteLine();
            }

            w.OpenBlock(string.Empty);
            w.WriteLine($"const int j = {Invariant.Int(blocks * Block)};");
            WriteInt8Block(w, layer, layout, q, input, preActivations, tail);
            w.CloseBlock();
        }
    }

    private static void WriteInt8Block(SourceWriter w, LayerSpec layer, FirmwareInt8Plan layout, BakedInt8Layer q, int input, int preActivations, int size)
    {
        int l = layer.Index;
        string bias = Invariant.Int(layout.Biases[l]);
        for (int u = 0; u < size; u++)
        {
            w.WriteLine($"int s{u} = k[{bias} + j{Plus(u)}];");
        }

        w.WriteLine($"int w = {(layout.Weights[l] == 0 ? string.Empty : Invariant.Int(layout.Weights[l]) + " + ")}j;");
        w.OpenBlock($"for (int i = 0; i < {Invariant.Int(layer.InputWidth)}; i++)");
        w.WriteLine($"int xi = q[{(input == 0 ? string.Empty : Invariant.Int(input) + " + ")}i];");
        for (int u = 0; u < size; u++)
        {
            w.WriteLine($"s{u} += xi * c[w{Plus(u)}];");
        }

        w.WriteLine($"w += {Invariant.Int(layer.Width)};");
        w.CloseBlock();
        w.WriteLine();

        string multipliers = Invariant.Int(layout.Multipliers[l]);
        string output = Invariant.Int(layout.Outputs[l]);
        string constants = $"{Invariant.Int(q.Shift)}, {Invariant.Int(q.ZZeroPoint)}, {Invariant.Int(q.ZMin)}, {Invariant.Int(q.ZMax)}";
        for (int u = 0; u < size; u++)
        {
            string at = "j" + Plus(u);
            w.WriteLine($"int z{u} = Requantize(s{u}, k[{multipliers} + {at}], {constants});");
            if (preActivations >= 0)
            {
                w.WriteLine($"q[{Invariant.Int(preActivations)} + {at}] = (sbyte)z{u};");
            }

            w.WriteLine(layout.Tables[l] >= 0
                ? $"q[{output} + {at}] = c[{Invariant.Int(layout.Tables[l] + 128)} + z{u}];"
                : $"q[{output} + {at}] = (sbyte)z{u};");
        }
    }

    private static string Plus(int u) => u == 0 ? string.Empty : " + " + Invariant.Int(u);
}
