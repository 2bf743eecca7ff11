using System.Collections.Generic;
using EdgeAe.Generators.Model;

namespace EdgeAe.Generators.Planning;

/// <summary>Where one layer's tensors and buffers live.</summary>
/// <param name="Layer">The layer.</param>
/// <param name="WeightOffset">Start of W in the parameter buffer. W is stored input-major: W[i, j] at WeightOffset + i·Width + j.</param>
/// <param name="BiasOffset">Start of b (Width floats) in the parameter buffer.</param>
/// <param name="ActivationOffset">Start of this layer's outputs (Width floats) in the workspace.</param>
/// <param name="PreActivationOffset">Start of the output layer's pre-activations in the workspace (binary cross-entropy only), else -1.</param>
/// <param name="DeltaOffset">Start of ∂loss/∂z for this layer (Width floats) in the workspace.</param>
internal sealed record LayerPlan(
    LayerSpec Layer,
    int WeightOffset,
    int BiasOffset,
    int ActivationOffset,
    int PreActivationOffset,
    int DeltaOffset)
{
    /// <summary>Weights this layer uses (for a tied layer: the shared tensor, read transposed).</summary>
    public int WeightCount => Layer.InputWidth * Layer.Width;

    /// <summary>True when W belongs to the mirror encoder layer and is read transposed.</summary>
    public bool IsTied => Layer.IsTied;
}

/// <summary>
/// The memory plan of a model: one contiguous parameter buffer (every W and b at a fixed offset,
/// each tensor starting on a 64-byte boundary) and one workspace (activations, then deltas).
/// A pure function of the topology; the emitters and the runtime topology both read it.
/// </summary>
internal sealed class ModelPlan
{
    /// <summary>Tensors start on multiples of this many floats (64 bytes), so SIMD loads stay aligned.</summary>
    public const int AlignmentFloats = 16;

    /// <summary>Largest parameter count accepted (1 GiB of float32 parameters).</summary>
    public const long MaxParameters = 1L << 28;

    private ModelPlan(TopologySpec topology, IReadOnlyList<LayerPlan> layers, int parameterCount, int parameterBufferLength, int inferenceWorkspaceLength, int workspaceLength)
    {
        Topology = topology;
        Layers = layers;
        ParameterCount = parameterCount;
        ParameterBufferLength = parameterBufferLength;
        InferenceWorkspaceLength = inferenceWorkspaceLength;
        WorkspaceLength = workspaceLength;
    }

    public TopologySpec Topology { get; }

    public IReadOnlyList<LayerPlan> Layers { get; }

    /// <summary>Number of trainable parameters (weights and biases, without alignment padding).</summary>
    public int ParameterCount { get; }

    /// <summary>Length of the parameter buffer in floats, padding included.</summary>
    public int ParameterBufferLength { get; }

    /// <summary>Workspace floats Encode, Decode and Reconstruct use (activations, output pre-activations).</summary>
    public int InferenceWorkspaceLength { get; }

    /// <summary>Workspace floats of one sample, deltas for training included: one slot of the batch workspace.</summary>
    public int WorkspaceLength { get; }

    /// <summary>Floats of the whole workspace: one <see cref="WorkspaceLength"/> slot per sample of the largest batch.</summary>
    public long BatchWorkspaceLength => (long)WorkspaceLength * Topology.MaxBatchSize;

    public LayerPlan CodeLayer => Layers[Topology.CodeLayerIndex];

    /// <summary>The desktop flavour's batch layout (computed on first use).</summary>
    public BatchPlan Batch => _batch ??= BatchPlan.Of(this);

    private BatchPlan? _batch;

    /// <summary>The int8 companion's packed layout and rows (computed on first use; the layer structs and the companion read it).</summary>
    public Int8Plan Int8 => _int8 ??= Int8Plan.Of(this);

    private Int8Plan? _int8;

    public LayerPlan OutputLayer => Layers[Layers.Count - 1];

    public static ModelPlan Create(TopologySpec topology)
    {
        int parameter = 0;
        int parameterCount = 0;
        var offsets = new List<(int W, int B)>();
        foreach (LayerSpec layer in topology.Layers)
        {
            int w;
            if (layer.IsTied)
            {
                // A tied decoder layer reads its mirror encoder layer's W (transposed); it owns only b.
                w = offsets[layer.TiedTo].W;
                parameterCount += layer.Width;
            }
            else
            {
                w = parameter;
                parameter = Align(parameter + layer.InputWidth * layer.Width);
                parameterCount += (layer.InputWidth + 1) * layer.Width;
            }

            int b = parameter;
            parameter = Align(parameter + layer.Width);
            offsets.Add((w, b));
        }

        // Workspace: every layer's activations, then the output pre-activations (BCE needs them
        // for a loss that never sees log(0)), then the deltas used only by training.
        int workspace = 0;
        var activationOffsets = new int[topology.Layers.Count];
        for (int l = 0; l < topology.Layers.Count; l++)
        {
            activationOffsets[l] = workspace;
            workspace = Align(workspace + topology.Layers[l].Width);
        }

        int preActivationOffset = -1;
        if (topology.Loss == LossKind.BinaryCrossEntropy)
        {
            preActivationOffset = workspace;
            workspace = Align(workspace + topology.InputSize);
        }

        int inferenceLength = workspace;
        var deltaOffsets = new int[topology.Layers.Count];
        for (int l = 0; l < topology.Layers.Count; l++)
        {
            deltaOffsets[l] = workspace;
            workspace = Align(workspace + topology.Layers[l].Width);
        }

        var layers = new List<LayerPlan>();
        for (int l = 0; l < topology.Layers.Count; l++)
        {
            bool isOutput = l == topology.Layers.Count - 1;
            layers.Add(new LayerPlan(
                topology.Layers[l],
                offsets[l].W,
                offsets[l].B,
                activationOffsets[l],
                isOutput ? preActivationOffset : -1,
                deltaOffsets[l]));
        }

        return new ModelPlan(topology, layers, parameterCount, parameter, inferenceLength, workspace);
    }

    /// <summary>
    /// The float counts a declaration would need, computed exactly as <see cref="Create"/> lays them out but without
    /// overflow (each product is below 2⁶², but their sum can overflow a long): the parameters (without padding), and one
    /// sample's workspace for inference (<see cref="InferenceWorkspaceLength"/>) and with training's deltas
    /// (<see cref="WorkspaceLength"/>). Models above <see cref="MaxParameters"/> are refused (EAE0012) before any plan is made.
    /// </summary>
    public static (decimal Parameters, decimal InferenceWorkspace, decimal Workspace) Size(TopologySpec topology)
    {
        decimal parameters = 0m;
        decimal activations = 0m;
        foreach (LayerSpec layer in topology.Layers)
        {
            parameters += (layer.IsTied ? 0m : (decimal)layer.InputWidth * layer.Width) + layer.Width;
            activations += Align((decimal)layer.Width);
        }

        decimal inference = activations + (topology.Loss == LossKind.BinaryCrossEntropy ? Align((decimal)topology.InputSize) : 0m);
        return (parameters, inference, inference + activations);
    }

    private static decimal Align(decimal floats) => decimal.Ceiling(floats / AlignmentFloats) * AlignmentFloats;

    private static int Align(int floats) => (floats + AlignmentFloats - 1) / AlignmentFloats * AlignmentFloats;
}
