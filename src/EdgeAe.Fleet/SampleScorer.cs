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
/// The model's anomaly score (<see cref="IAutoencoder.Score"/>, docs/anomaly.md): the reconstruction loss as a mean per
/// element — the same number the device's <c>Score</c> and <c>edgeae eval</c> give for the same sample. Not thread-safe
/// (one model workspace).
/// </summary>
public sealed class ModelScorer : ISampleScorer
{
    private readonly IAutoencoder _model;

    /// <summary>A scorer over <paramref name="model"/> (its current parameters).</summary>
    public ModelScorer(IAutoencoder model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <inheritdoc/>
    public float Score(ReadOnlySpan<float> sample) => _model.Score(sample);
}
