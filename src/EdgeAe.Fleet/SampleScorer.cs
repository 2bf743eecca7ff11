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

    /// <summary>
    /// The scores of <paramref name="samples"/> (count × InputSize floats) into <paramref name="scores"/> (count floats):
    /// each what <see cref="Score"/> gives it. Allocates nothing.
    /// </summary>
    void ScoreBatch(ReadOnlySpan<float> samples, Span<float> scores)
    {
        int width = samples.Length / Math.Max(1, scores.Length);
        if (scores.Length == 0 || samples.Length != scores.Length * width)
        {
            throw new ArgumentException($"Expected whole samples in 'samples', one per score, but found {samples.Length} floats for {scores.Length} scores.", nameof(samples));
        }

        for (int s = 0; s < scores.Length; s++)
        {
            scores[s] = Score(samples.Slice(s * width, width));
        }
    }
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

    /// <summary>The scores of many samples with the model's batch path (<see cref="Anomaly.AnomalyScore.ScoreBatch"/>): bit for bit <see cref="Score"/>'s.</summary>
    public void ScoreBatch(ReadOnlySpan<float> samples, Span<float> scores) => Anomaly.AnomalyScore.ScoreBatch(_model, samples, scores);
}
