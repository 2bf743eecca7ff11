using System.Collections.Generic;
using EdgeAe.Generators.Model;

namespace EdgeAe.Generators.Planning;

/// <summary>
/// Where the desktop flavour's batch code keeps each layer's rows: layer-major, <c>[region][sample][unit]</c>, every
/// sample's row padded to 16 floats (64 bytes), so rows start on cache lines and vector tails stay inside their row.
/// The regions: every layer's activations, the output pre-activations (binary cross-entropy: the loss pass applies
/// σ), then every layer's deltas — the same total as <see cref="ModelPlan.WorkspaceLength"/> × MaxBatchSize, in the same
/// buffer as the single-sample offsets (one model instance runs one pass at a time). Layers whose backward or forward
/// product reads W transposed get a slot in a separate buffer, filled at the start of each batch.
/// </summary>
internal sealed class BatchPlan
{
    private BatchPlan(int[] activations, int preActivations, int[] deltas, int[] transposed, int transposedLength)
    {
        Activations = activations;
        PreActivations = preActivations;
        Deltas = deltas;
        Transposed = transposed;
        TransposedLength = transposedLength;
    }

    /// <summary>Start of each layer's activation rows.</summary>
    public IReadOnlyList<int> Activations { get; }

    /// <summary>Start of the output layer's pre-activation rows (binary cross-entropy), else −1.</summary>
    public int PreActivations { get; }

    /// <summary>Start of each layer's delta rows.</summary>
    public IReadOnlyList<int> Deltas { get; }

    /// <summary>
    /// Start of each layer's transposed weights in the transposed buffer, or −1: an untied layer after the first
    /// needs Wᵀ for its backward data product; a tied layer needs its mirror's W input-major for its forward product.
    /// </summary>
    public IReadOnlyList<int> Transposed { get; }

    /// <summary>Floats of the transposed buffer (at least 16).</summary>
    public int TransposedLength { get; }

    /// <summary><paramref name="width"/> floats rounded up to 16: one sample's row.</summary>
    public static int Row(int width) => (width + ModelPlan.AlignmentFloats - 1) / ModelPlan.AlignmentFloats * ModelPlan.AlignmentFloats;

    public static BatchPlan Of(ModelPlan plan)
    {
        int batch = plan.Topology.MaxBatchSize;
        int n = plan.Layers.Count;
        var activations = new int[n];
        var deltas = new int[n];
        var transposed = new int[n];
        int offset = 0;
        for (int l = 0; l < n; l++)
        {
            activations[l] = offset;
            offset += Row(plan.Layers[l].Layer.Width) * batch;
        }

        int preActivations = -1;
        if (plan.OutputLayer.PreActivationOffset >= 0)
        {
            preActivations = offset;
            offset += Row(plan.Topology.InputSize) * batch;
        }

        for (int l = 0; l < n; l++)
        {
            deltas[l] = offset;
            offset += Row(plan.Layers[l].Layer.Width) * batch;
        }

        int length = 0;
        for (int l = 0; l < n; l++)
        {
            LayerPlan layer = plan.Layers[l];
            transposed[l] = -1;
            if (layer.IsTied || l > 0)
            {
                transposed[l] = length;
                length += Row(layer.WeightCount);
            }
        }

        return new BatchPlan(activations, preActivations, deltas, transposed, System.Math.Max(length, ModelPlan.AlignmentFloats));
    }
}
