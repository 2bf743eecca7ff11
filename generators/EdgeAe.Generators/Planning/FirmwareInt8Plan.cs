using System.Collections.Generic;
using EdgeAe.Generators.Model;

namespace EdgeAe.Generators.Planning;

/// <summary>
/// The firmware flavour's int8 layout: one <c>sbyte[]</c> of codes (every layer's W input-major, then its 256-entry
/// table for sigmoid and tanh), one <c>int[]</c> of constants (every layer's folded biases, then its Q31 multipliers),
/// and one <c>sbyte[]</c> workspace (the quantised input, every layer's output codes, the output layer's z codes for a
/// binary cross-entropy loss). Three arrays in all: each array costs a heap header on the device.
/// </summary>
internal sealed class FirmwareInt8Plan
{
    private FirmwareInt8Plan(int[] weights, int[] tables, int[] biases, int[] multipliers, int[] outputs, int preActivations, int codes, int constants, int workspace)
    {
        Weights = weights;
        Tables = tables;
        Biases = biases;
        Multipliers = multipliers;
        Outputs = outputs;
        PreActivations = preActivations;
        CodeLength = codes;
        ConstantLength = constants;
        WorkspaceLength = workspace;
    }

    /// <summary>Offset of each layer's W in the code array.</summary>
    public IReadOnlyList<int> Weights { get; }

    /// <summary>Offset of each layer's table in the code array, or −1 (ReLU, linear).</summary>
    public IReadOnlyList<int> Tables { get; }

    /// <summary>Offset of each layer's folded biases in the constant array.</summary>
    public IReadOnlyList<int> Biases { get; }

    /// <summary>Offset of each layer's multipliers in the constant array.</summary>
    public IReadOnlyList<int> Multipliers { get; }

    /// <summary>Offset of each layer's output codes in the workspace (the quantised input is at 0).</summary>
    public IReadOnlyList<int> Outputs { get; }

    /// <summary>Offset of the output layer's z codes in the workspace (binary cross-entropy), else −1.</summary>
    public int PreActivations { get; }

    /// <summary>Length of the code array (bytes).</summary>
    public int CodeLength { get; }

    /// <summary>Length of the constant array (int32 values).</summary>
    public int ConstantLength { get; }

    /// <summary>Length of the workspace (bytes).</summary>
    public int WorkspaceLength { get; }

    public static FirmwareInt8Plan Of(ModelPlan plan)
    {
        int n = plan.Layers.Count;
        var weights = new int[n];
        var tables = new int[n];
        var biases = new int[n];
        var multipliers = new int[n];
        var outputs = new int[n];
        int codes = 0, constants = 0, workspace = plan.Topology.InputSize;
        for (int l = 0; l < n; l++)
        {
            LayerSpec layer = plan.Layers[l].Layer;
            weights[l] = codes;
            codes += layer.InputWidth * layer.Width;
            bool table = layer.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh;
            tables[l] = table ? codes : -1;
            codes += table ? 256 : 0;
            biases[l] = constants;
            multipliers[l] = constants + layer.Width;
            constants += 2 * layer.Width;
            outputs[l] = workspace;
            workspace += layer.Width;
        }

        // Binary cross-entropy is computed from the output layer's pre-activations: their codes are kept.
        int preActivations = -1;
        if (plan.Topology.Loss == LossKind.BinaryCrossEntropy)
        {
            preActivations = workspace;
            workspace += plan.Topology.InputSize;
        }

        return new FirmwareInt8Plan(weights, tables, biases, multipliers, outputs, preActivations, codes, constants, workspace);
    }
}
