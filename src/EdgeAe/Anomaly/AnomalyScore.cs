using EdgeAe.Data;

namespace EdgeAe.Anomaly;

/// <summary>
/// The anomaly score, defined once (docs/anomaly.md): the per-sample reconstruction error in the model's own
/// loss, as a mean per element — <c>Metrics.MeanPerElement(loss, Reconstruct(x), width)</c>, i.e. the mean binary
/// cross-entropy per element for a BCE model and the mean squared error for a squared-error model, rounded to
/// float. Generated models compute it as <c>Score</c> (SIMD) and <c>ScorePortable</c> (the firmware's arithmetic,
/// bit for bit); this class computes it for many samples, for servers.
/// </summary>
public static class AnomalyScore
{
    /// <summary>The score of a per-sample objective as <c>Reconstruct</c> returns it: <c>(float)MeanPerElement(loss, objective, width)</c>.</summary>
    public static float FromLoss(LossKind loss, float objective, int width)
        => (float)Metrics.MeanPerElement(loss, objective, width);

    /// <summary>
    /// Scores <paramref name="inputs"/> (count × input width floats, sample after sample) into <paramref name="scores"/>
    /// (count floats) with the model's fast path, in blocks of its largest batch (<see cref="IAutoencoder.ScoreBatch"/>:
    /// each score is <see cref="IAutoencoder.Score"/>'s bit for bit). Allocates nothing.
    /// </summary>
    /// <exception cref="AnomalyException">The lengths do not fit the model's input width.</exception>
    public static void ScoreBatch(IAutoencoder model, ReadOnlySpan<float> inputs, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(model);
        int width = model.Topology.InputSize;
        if (inputs.Length % width != 0)
        {
            throw new AnomalyException($"Expected whole samples of {width} floats in 'inputs' but found {inputs.Length} floats ({inputs.Length / width} samples and {inputs.Length % width} left over).");
        }

        int count = inputs.Length / width;
        if (scores.Length != count)
        {
            throw new AnomalyException($"Expected {count} floats in 'scores' (one per sample) but found {scores.Length}.");
        }

        // Blocks of the model's largest batch: its ScoreBatch gives each sample's Score bit for bit, faster.
        int block = model.Topology.MaxBatchSize;
        for (int start = 0; start < count; start += block)
        {
            int n = Math.Min(block, count - start);
            model.ScoreBatch(inputs.Slice(start * width, n * width), scores.Slice(start, n));
        }
    }

    /// <summary>
    /// The score of every sample of <paramref name="data"/>: an in-memory <see cref="Dataset"/>, or a source read a sample at
    /// a time such as a <see cref="DataCache"/> (copied into one model batch at a time, so memory does not grow with the
    /// data beyond the scores). Each score is <see cref="IAutoencoder.Score"/>'s bit for bit.
    /// </summary>
    /// <exception cref="AnomalyException">The data's width is not the model's input width.</exception>
    public static float[] ScoreAll(IAutoencoder model, ISampleSource data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        int width = model.Topology.InputSize;
        if (data.Width != width)
        {
            throw new AnomalyException($"The data has {data.Width} values per sample but the model takes {width} inputs.");
        }

        var scores = new float[data.Count];
        if (data is Dataset dataset)
        {
            ScoreBatch(model, dataset.Values, scores);
            return scores;
        }

        int block = model.Topology.MaxBatchSize;
        var inputs = new float[block * width];
        for (int start = 0; start < scores.Length; start += block)
        {
            int n = Math.Min(block, scores.Length - start);
            for (int k = 0; k < n; k++)
            {
                data[start + k].CopyTo(inputs.AsSpan(k * width, width));
            }

            model.ScoreBatch(inputs.AsSpan(0, n * width), scores.AsSpan(start, n));
        }

        return scores;
    }
}
