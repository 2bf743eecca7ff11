namespace EdgeAe;

/// <summary>
/// What every generated desktop model offers. Sizes are fixed by the declaration; every method
/// checks span lengths (an <see cref="ArgumentException"/> names the parameter, the expected and
/// the actual length) and allocates nothing. A model instance is not thread-safe: it owns one workspace
/// (<see cref="AccumulateShardGradients"/> with one <see cref="TrainingWorker"/> per thread is the exception).
/// </summary>
public interface IAutoencoder
{
    /// <summary>The static description of the model.</summary>
    ModelTopology Topology { get; }

    /// <summary>All parameters, contiguous, in the layout <see cref="Topology"/> describes.</summary>
    Span<float> Parameters { get; }

    /// <summary>Accumulated gradients, laid out like <see cref="Parameters"/>.</summary>
    Span<float> Gradients { get; }

    /// <summary>Re-initialises every parameter deterministically from <paramref name="seed"/>.</summary>
    void InitializeParameters(int seed);

    /// <summary>Encodes an input into its code.</summary>
    void Encode(ReadOnlySpan<float> input, Span<float> code);

    /// <summary>
    /// Encodes with the firmware flavour's exact arithmetic (scalar, no fused multiply-add, the same math
    /// functions): bit-identical to the code a device computes for the same parameters. Slower than <see cref="Encode"/>.
    /// </summary>
    void EncodePortable(ReadOnlySpan<float> input, Span<float> code);

    /// <summary>Decodes a code into a reconstruction.</summary>
    void Decode(ReadOnlySpan<float> code, Span<float> output);

    /// <summary>
    /// Encodes a batch (count × input width floats, sample after sample, 1 ≤ count ≤ <see cref="ModelTopology.MaxBatchSize"/>)
    /// into count × code width floats.
    /// </summary>
    void EncodeBatch(ReadOnlySpan<float> inputs, Span<float> codes);

    /// <summary>
    /// Decodes a batch (count × code width floats, sample after sample, 1 ≤ count ≤ <see cref="ModelTopology.MaxBatchSize"/>)
    /// into count × input width floats: bit for bit what <see cref="Decode"/> gives each code. Generated float models run
    /// it as batch products (tied models, and models without a batch path, decode sample by sample).
    /// </summary>
    void DecodeBatch(ReadOnlySpan<float> codes, Span<float> outputs)
    {
        int code = Topology.CodeSize, width = Topology.InputSize;
        int count = Kernels.Shape.BatchCount(codes.Length, code, Topology.MaxBatchSize, nameof(codes));
        Kernels.Shape.Check(outputs, count * width, nameof(outputs));
        for (int s = 0; s < count; s++)
        {
            Decode(codes.Slice(s * code, code), outputs.Slice(s * width, width));
        }
    }

    /// <summary>Reconstructs an input and returns the per-sample loss against it (Σ BCE or ½Σ squared error).</summary>
    float Reconstruct(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Reconstructs <paramref name="input"/> and returns the per-sample loss against <paramref name="target"/>.</summary>
    float Evaluate(ReadOnlySpan<float> input, ReadOnlySpan<float> target);

    /// <summary>
    /// The anomaly score of <paramref name="input"/> (docs/anomaly.md): the reconstruction loss against the input as a
    /// mean per element, <c>(float)Metrics.MeanPerElement(loss, Reconstruct(input), InputSize)</c>, on the fast path.
    /// </summary>
    float Score(ReadOnlySpan<float> input);

    /// <summary>
    /// The anomaly scores of a batch (count × input width floats, sample after sample, 1 ≤ count ≤
    /// <see cref="ModelTopology.MaxBatchSize"/>) into <paramref name="scores"/> (count floats): bit for bit what
    /// <see cref="Score"/> gives each sample. Generated float models run it as batch products and the single-sample
    /// output epilogue per row (tied models, and models without a batch path, score sample by sample).
    /// </summary>
    void ScoreBatch(ReadOnlySpan<float> inputs, Span<float> scores)
    {
        int width = Topology.InputSize;
        int count = Kernels.Shape.BatchCount(inputs.Length, width, Topology.MaxBatchSize, nameof(inputs));
        Kernels.Shape.Check(scores, count, nameof(scores));
        for (int s = 0; s < count; s++)
        {
            scores[s] = Score(inputs.Slice(s * width, width));
        }
    }

    /// <summary>
    /// The anomaly score with the firmware flavour's exact arithmetic: bit-identical to the device's <c>Score</c> for the
    /// same parameters. Slower than <see cref="Score"/>, which agrees with it within the tolerance docs/anomaly.md states.
    /// </summary>
    float ScorePortable(ReadOnlySpan<float> input);

    /// <summary>
    /// Writes each input's term of the score into <paramref name="perFeature"/> (input width floats: the BCE term, or the
    /// squared error (x̂ − x)²), so their mean is the score, and returns <see cref="ScorePortable"/>'s value.
    /// </summary>
    float ScoreFeatures(ReadOnlySpan<float> input, Span<float> perFeature);

    /// <summary>Forward and backward pass; adds the gradients to <see cref="Gradients"/> and returns the loss.</summary>
    float AccumulateGradients(ReadOnlySpan<float> input, ReadOnlySpan<float> target);

    /// <summary>
    /// Forward and backward over a batch (count × input width floats, sample after sample, count ≤
    /// <see cref="ModelTopology.MaxBatchSize"/>); adds the gradients summed over the batch and returns the summed loss.
    /// </summary>
    float AccumulateBatchGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets);

    /// <summary>
    /// Makes what <see cref="AccumulateShardGradients"/> reads besides the parameters (the transposed copies of the
    /// weights). Call it on one thread after the parameters last changed, before the shards of a batch.
    /// </summary>
    void PrepareBatch();

    /// <summary>
    /// The part of <see cref="PrepareBatch()"/> made from parameters [<paramref name="firstParameter"/>,
    /// <paramref name="endParameter"/>): threads that each updated one range of the parameters (ranges that together
    /// cover them) may call it at once, each for its range, and together make what <see cref="PrepareBatch()"/> makes.
    /// </summary>
    void PrepareBatch(int firstParameter, int endParameter);

    /// <summary>A workspace and a gradient buffer of this model's sizes for <see cref="AccumulateShardGradients"/>: one per thread.</summary>
    TrainingWorker CreateWorker();

    /// <summary>
    /// Forward and backward over one shard of a batch (as <see cref="AccumulateBatchGradients"/>) in
    /// <paramref name="worker"/>'s workspace: adds the shard's summed gradients to the worker's gradient buffer and
    /// returns the summed loss. It reads the parameters and what <see cref="PrepareBatch()"/> made and writes nothing of
    /// the model's, so threads with their own workers may run it at once on one model.
    /// </summary>
    float AccumulateShardGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, TrainingWorker worker);

    /// <summary>One plain SGD step on a batch with the mean gradient; returns the mean per-sample loss before the step.</summary>
    float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, float learningRate);

    /// <summary>Sets all gradients to zero.</summary>
    void ZeroGradients();

    /// <summary>One plain SGD step on one sample; returns the loss before the step.</summary>
    float TrainStep(ReadOnlySpan<float> input, float learningRate);

    /// <summary>One plain SGD step reconstructing <paramref name="target"/> from <paramref name="input"/>; returns the loss before the step.</summary>
    float TrainStep(ReadOnlySpan<float> input, ReadOnlySpan<float> target, float learningRate);
}
