using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeAe.Quantization;

/// <summary>
/// An int8 model: a generated model's <c>Int8</c> companion (e.g. <c>DigitsAe.Int8</c>) running
/// <see cref="QuantizedParameters"/> on the int8 kernels. It is an <see cref="IAutoencoder"/> for inference — Encode,
/// Decode, EncodeBatch, Reconstruct, Evaluate — and refuses everything that needs float parameters (training,
/// <see cref="IAutoencoder.InitializeParameters"/>) with a <see cref="NotSupportedException"/> that says so.
/// </summary>
public interface IQuantizedAutoencoder : IAutoencoder
{
    /// <summary>The int8 parameters the model runs, or null before <see cref="Load"/>.</summary>
    QuantizedParameters? Quantization { get; }

    /// <summary>Packs <paramref name="parameters"/> for the kernels and runs them from now on.</summary>
    /// <exception cref="ArgumentException">The parameters were made for another topology.</exception>
    void Load(QuantizedParameters parameters);
}

/// <summary>
/// What every generated <c>Int8</c> companion shares: the packed buffer, the int8 workspace, the checks, and the
/// refusals of float-only members. The generated class adds the layer structs and one kernel call per layer.
/// </summary>
public abstract class QuantizedAutoencoder : IQuantizedAutoencoder
{
    private readonly AlignedBuffer _packed;
    private readonly AlignedBuffer _codes;
    private readonly AlignedBuffer _floats;
    private readonly double[] _softplus = new double[Kernels.Int8Dense.TableEntries];
    private readonly int _packedBytes;
    private readonly float[] _reconstruction;

    /// <summary>Allocates the buffers; called by generated code with the model's constant sizes.</summary>
    /// <param name="topology">The float model's topology (the declaration).</param>
    /// <param name="packedBytes">Bytes of the packed parameters (<see cref="Kernels.Int8Layout"/>).</param>
    /// <param name="codeBytes">Bytes of int8 activation rows (every layer's, for the largest batch).</param>
    /// <param name="floatLength">Floats of scratch for the loss (pre-activations, deltas, an output row).</param>
    protected QuantizedAutoencoder(ModelTopology topology, int packedBytes, int codeBytes, int floatLength)
    {
        ArgumentNullException.ThrowIfNull(topology);
        Topology = topology;
        _packedBytes = packedBytes;
        _packed = new AlignedBuffer((packedBytes + 3) / 4);
        _codes = new AlignedBuffer((codeBytes + 3) / 4);
        _floats = new AlignedBuffer(floatLength);
        _reconstruction = new float[topology.InputSize];
    }

    /// <inheritdoc/>
    public ModelTopology Topology { get; }

    /// <inheritdoc/>
    public QuantizedParameters? Quantization { get; private set; }

    /// <summary>An int8 model has no float parameters: an empty span.</summary>
    public Span<float> Parameters => [];

    /// <summary>An int8 model has no gradients: an empty span.</summary>
    public Span<float> Gradients => [];

    /// <summary>Bytes the packed int8 parameters take in memory.</summary>
    public int PackedBytes => _packedBytes;

    /// <summary>The packed parameters, for the generated kernel calls.</summary>
    protected ref byte Packed
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (Quantization is null)
            {
                ThrowNotLoaded();
            }

            return ref Unsafe.As<float, byte>(ref _packed.Reference);
        }
    }

    /// <inheritdoc/>
    public void Load(QuantizedParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!parameters.Fits(Topology))
        {
            throw new ArgumentException($"These int8 parameters ({parameters}) were made for a different model than {Topology.Name} ({Topology}).", nameof(parameters));
        }

        Span<byte> packed = MemoryMarshal.AsBytes(_packed.Span)[.._packedBytes];
        Pack(parameters, packed);
        Kernels.Int8Dense.SoftplusTable(parameters.Layers[^1].PreActivation, _softplus);
        Quantization = parameters;
    }

    /// <inheritdoc/>
    public abstract void Encode(ReadOnlySpan<float> input, Span<float> code);

    /// <summary>The same as <see cref="Encode"/>: integer arithmetic gives every machine and the device the same code.</summary>
    public void EncodePortable(ReadOnlySpan<float> input, Span<float> code) => Encode(input, code);

    /// <inheritdoc/>
    public abstract void Decode(ReadOnlySpan<float> code, Span<float> output);

    /// <inheritdoc/>
    public abstract void EncodeBatch(ReadOnlySpan<float> inputs, Span<float> codes);

    /// <inheritdoc/>
    public abstract float Reconstruct(ReadOnlySpan<float> input, Span<float> output);

    /// <inheritdoc/>
    public abstract float Evaluate(ReadOnlySpan<float> input, ReadOnlySpan<float> target);

    /// <summary>
    /// The anomaly score (docs/anomaly.md): the loss of the int8 reconstruction, mean per element — binary cross-entropy,
    /// or the mean squared error of a squared-error model. Allocates nothing.
    /// </summary>
    public float Score(ReadOnlySpan<float> input) => Anomaly.AnomalyScore.FromLoss(Topology.Loss, Evaluate(input, input), Topology.InputSize);

    /// <summary>
    /// The anomaly score summed in the order and precision of the int8 firmware flavour's loss (one double sum over the
    /// dequantised codes, element by element, with the firmware's math functions): the integer codes are identical
    /// everywhere, and so is this score. Allocates nothing.
    /// </summary>
    public float ScorePortable(ReadOnlySpan<float> input) => PortableScore(input, default);

    /// <summary>
    /// Writes each input's term of the score into <paramref name="perFeature"/> (binary cross-entropy, or the squared
    /// error) and returns the score, bit-identical to <see cref="ScorePortable"/>. Allocates nothing.
    /// </summary>
    public float ScoreFeatures(ReadOnlySpan<float> input, Span<float> perFeature)
    {
        Kernels.Shape.Check(perFeature, Topology.InputSize, nameof(perFeature));
        return PortableScore(input, perFeature);
    }

    private float PortableScore(ReadOnlySpan<float> input, Span<float> terms)
    {
        Kernels.Shape.Check(input, Topology.InputSize, nameof(input));

        // Reconstruct leaves the dequantised output in _reconstruction and, for binary cross-entropy, the output
        // layer's dequantised pre-activations z in Floats(0): the values the firmware's loss reads.
        Reconstruct(input, _reconstruction);
        bool crossEntropy = Topology.Loss == LossKind.BinaryCrossEntropy;
        ReadOnlySpan<float> values = crossEntropy ? MemoryMarshal.CreateReadOnlySpan(ref Floats(0), input.Length) : _reconstruction;
        double loss = 0.0;
        for (int j = 0; j < input.Length; j++)
        {
            // The firmware's loss term: softplus(z) − t·z, or ½(x̂ − t)²; the per-feature term of the score is the
            // BCE term, or the squared error itself.
            float v = values[j];
            float d = v - input[j];
            double term = crossEntropy ? Kernels.PortableMath.Softplus(v) - (double)(input[j] * v) : 0.5 * (double)(d * d);
            loss += term;
            if (!terms.IsEmpty)
            {
                terms[j] = (float)(crossEntropy ? term : 2 * term);
            }
        }

        return Anomaly.AnomalyScore.FromLoss(Topology.Loss, (float)loss, Topology.InputSize);
    }

    /// <summary>Not available: an int8 model is inference-only (train the float model, or use quantisation-aware training, then quantise).</summary>
    public void InitializeParameters(int seed) => throw InferenceOnly(nameof(InitializeParameters));

    /// <inheritdoc cref="InitializeParameters"/>
    public float AccumulateGradients(ReadOnlySpan<float> input, ReadOnlySpan<float> target) => throw InferenceOnly(nameof(AccumulateGradients));

    /// <inheritdoc cref="InitializeParameters"/>
    public float AccumulateBatchGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets) => throw InferenceOnly(nameof(AccumulateBatchGradients));

    /// <inheritdoc cref="InitializeParameters"/>
    public float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, float learningRate) => throw InferenceOnly(nameof(TrainBatch));

    /// <inheritdoc cref="InitializeParameters"/>
    public void PrepareBatch() => throw InferenceOnly(nameof(PrepareBatch));

    /// <summary>Not available: an int8 model is inference-only.</summary>
    public void PrepareBatch(int firstParameter, int endParameter) => throw InferenceOnly(nameof(PrepareBatch));

    /// <inheritdoc cref="InitializeParameters"/>
    public TrainingWorker CreateWorker() => throw InferenceOnly(nameof(CreateWorker));

    /// <inheritdoc cref="InitializeParameters"/>
    public float AccumulateShardGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, TrainingWorker worker) => throw InferenceOnly(nameof(AccumulateShardGradients));

    /// <inheritdoc cref="InitializeParameters"/>
    public void ZeroGradients() => throw InferenceOnly(nameof(ZeroGradients));

    /// <inheritdoc cref="InitializeParameters"/>
    public float TrainStep(ReadOnlySpan<float> input, float learningRate) => throw InferenceOnly(nameof(TrainStep));

    /// <inheritdoc cref="InitializeParameters"/>
    public float TrainStep(ReadOnlySpan<float> input, ReadOnlySpan<float> target, float learningRate) => throw InferenceOnly(nameof(TrainStep));

    /// <summary>Writes every layer's block of the packed buffer (one <c>Int8Dense.Pack</c> call per layer).</summary>
    protected abstract void Pack(QuantizedParameters parameters, Span<byte> packed);

    /// <summary>Int8 activation rows at byte <paramref name="offset"/> of the workspace.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected ref sbyte Codes(int offset) => ref Unsafe.Add(ref Unsafe.As<float, sbyte>(ref _codes.Reference), offset);

    /// <summary>softplus of the output layer's 256 pre-activation codes (binary cross-entropy by lookups).</summary>
    protected ref double Softplus => ref MemoryMarshal.GetArrayDataReference(_softplus);

    /// <summary>Float scratch at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected ref float Floats(int offset) => ref Unsafe.Add(ref _floats.Reference, offset);

    /// <summary>A reference to the first element of a read-only span (the kernels take references).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static ref float In(ReadOnlySpan<float> span) => ref MemoryMarshal.GetReference(span);

    /// <summary>A reference to the first element of a span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static ref float Out(Span<float> span) => ref MemoryMarshal.GetReference(span);

    private NotSupportedException InferenceOnly(string member)
        => new($"{GetType().FullName} is an int8 model: inference only, so {member} is not available. Train the float model {Topology.Name} (train --qat for quantisation-aware training) and quantise it (edgeae quantize).");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNotLoaded()
        => throw new InvalidOperationException($"{GetType().FullName} has no int8 parameters yet: load a quantised weight file (WeightFile.Load) or QuantizedParameters first.");
}
