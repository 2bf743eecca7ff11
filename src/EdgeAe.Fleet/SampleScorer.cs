namespace EdgeAe.Fleet;

/// <summary>
/// The anomaly score the server stores with each decoded sample — the one place where <c>serve</c> computes it.
/// A server receives the code, not the device's input, so it scores what it has: the decoded sample x̂ =
/// Decode(dequantised code), scored with the model's anomaly score (docs/fleet.md, "What the server's score means").
/// </summary>
public interface ISampleScorer
{
    /// <summary>The score of <paramref name="sample"/> (InputSize floats, normalised). Allocates nothing.</summary>
    float Score(ReadOnlySpan<float> sample);
}

/// <summary>
/// The model's anomaly score: the per-sample reconstruction loss of <see cref="IAutoencoder.Reconstruct"/> as a mean
/// per element (<see cref="Metrics.MeanPerElement"/>: mean BCE, or mean squared error). Not thread-safe (one model
/// workspace and one output buffer).
/// </summary>
public sealed class ReconstructionScorer : ISampleScorer
{
    private readonly IAutoencoder _model;
    private readonly float[] _reconstruction;

    /// <summary>A scorer over <paramref name="model"/> (its current parameters).</summary>
    public ReconstructionScorer(IAutoencoder model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _reconstruction = new float[model.Topology.InputSize];
    }

    /// <inheritdoc/>
    public float Score(ReadOnlySpan<float> sample)
    {
        float loss = _model.Reconstruct(sample, _reconstruction);
        return (float)Metrics.MeanPerElement(_model.Topology.Loss, loss, _reconstruction.Length);
    }
}
