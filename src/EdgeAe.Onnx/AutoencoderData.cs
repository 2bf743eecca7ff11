using System.Globalization;
using EdgeAe.Data;
using EdgeAe.IO.Format;

namespace EdgeAe.Onnx;

/// <summary>One dense layer of an <see cref="AutoencoderData"/>.</summary>
/// <param name="Role">Where it sits.</param>
/// <param name="InputWidth">Inputs.</param>
/// <param name="Width">Outputs.</param>
/// <param name="Activation">Its activation.</param>
/// <param name="Weights">W input-major (W[i, j] at i·Width + j); for a tied layer the transpose of its mirror's W, as it is used.</param>
/// <param name="Biases">b.</param>
/// <param name="TiedTo">For a tied decoder layer, the index of the encoder layer whose W it reads transposed; otherwise −1.</param>
internal sealed record DenseLayer(LayerRole Role, int InputWidth, int Width, ActivationKind Activation, float[] Weights, float[] Biases, int TiedTo = -1);

/// <summary>A PCA baseline as a weight file's <c>pcab</c> section holds it (docs/weight-file-format.md).</summary>
/// <param name="Samples">Samples it was fitted on.</param>
/// <param name="TotalVariance">Total variance of those samples.</param>
/// <param name="Mean">Mean per input.</param>
/// <param name="Variances">Variance along each component, largest first (one per component).</param>
/// <param name="Basis">The components, row-major: components × inputs.</param>
internal sealed record BaselineData(int Samples, float TotalVariance, float[] Mean, float[] Variances, float[] Basis);

/// <summary>
/// An autoencoder as plain data: what a weight file holds (topology, parameters, normalisation, code ranges, anomaly
/// threshold, PCA baseline) without a compiled model type. Import builds one from an ONNX graph and writes it as a weight
/// file through the runtime's own format code (WeightFileFormat.cs, linked); export builds one from a weight file or a
/// live model.
/// </summary>
internal sealed record AutoencoderData
{
    public required int InputSize { get; init; }

    public required LossKind Loss { get; init; }

    public required bool TiedWeights { get; init; }

    public required IReadOnlyList<DenseLayer> Layers { get; init; }

    public Normalization Normalization { get; init; } = Normalization.None;

    /// <summary>Bits per code value of the packet codec (8 or 16), 0 without a code range.</summary>
    public int CodecBits { get; init; }

    public float[] CodecMin { get; init; } = [];

    public float[] CodecMax { get; init; } = [];

    /// <summary>The anomaly threshold (<c>anom</c> section), or null.</summary>
    public Anomaly.AnomalyThreshold? Threshold { get; init; }

    /// <summary>The PCA baseline (<c>pcab</c> section), or null.</summary>
    public BaselineData? Baseline { get; init; }

    /// <summary>The CRC-32 of the weight file this was read from (null when it was not read from one).</summary>
    public uint? SourceChecksum { get; init; }

    public int CodeLayerIndex => Layers.Select((l, i) => (l, i)).Single(p => p.l.Role == LayerRole.Code).i;

    public int CodeSize => Layers[CodeLayerIndex].Width;

    /// <summary>The topology in ModelTopology's style, e.g. <c>64→16→64 (Sigmoid, Sigmoid), BinaryCrossEntropy</c>.</summary>
    public string Describe()
        => $"{InputSize}→{string.Join("→", Layers.Select(l => l.Width))} ({string.Join(", ", Layers.Select(l => l.Activation))}), {Loss}{(TiedWeights ? ", tied weights" : "")}";

    /// <summary>The CRC-32 of <see cref="ToWeightFile"/> (the packet model id is folded from it, docs/packet-format.md).</summary>
    public uint Checksum() => ChecksumOf(ToWeightFile());

    /// <summary>
    /// The fingerprint of the model alone: the CRC-32 of the weight file holding only the topology (loss, tied weights, every
    /// layer's role, widths and activation) and the parameters — no normalisation, no optional section. Metadata
    /// <c>edgeae.parameters_crc32</c> carries it, so that an import can tell whether a graph is still the model exported.
    /// </summary>
    public uint ParametersChecksum()
        => ChecksumOf(new AutoencoderData { InputSize = InputSize, Loss = Loss, TiedWeights = TiedWeights, Layers = Layers }.ToWeightFile());

    /// <summary>The CRC-32 a weight file stores in its last four bytes.</summary>
    public static uint ChecksumOf(byte[] weightFile) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(weightFile.AsSpan(weightFile.Length - 4));

    /// <summary>The weight file (.eaw) bytes, tensors in the generated parameter buffer's order: per layer W (unless tied), then b.</summary>
    public byte[] ToWeightFile()
    {
        var tensors = new List<TensorEntry>();
        var parameters = new List<float>();
        for (int l = 0; l < Layers.Count; l++)
        {
            DenseLayer layer = Layers[l];
            if (layer.TiedTo < 0)
            {
                tensors.Add(new TensorEntry(l, TensorEntry.WeightKind, layer.Weights.Length));
                parameters.AddRange(layer.Weights);
            }

            tensors.Add(new TensorEntry(l, TensorEntry.BiasKind, layer.Biases.Length));
            parameters.AddRange(layer.Biases);
        }

        var data = new WeightFileData
        {
            InputWidth = InputSize,
            Loss = (byte)Loss,
            TiedWeights = TiedWeights,
            Layers = Layers.Select(l => new LayerFingerprint((byte)l.Role, l.InputWidth, l.Width, (byte)l.Activation)).ToArray(),
            NormalizationKind = (byte)Normalization.Kind,
            NormalizationOffset = Normalization.Offset.ToArray(),
            NormalizationScale = Normalization.Scale.ToArray(),
            Tensors = tensors.ToArray(),
            Parameters = parameters.ToArray(),
            CodecBits = CodecBits,
            CodecMin = CodecMin,
            CodecMax = CodecMax,
        };
        if (Threshold is { } threshold)
        {
            data.HasAnomalyThreshold = true;
            data.AnomalyThreshold = threshold.Threshold;
            data.AnomalyMethod = (byte)threshold.Method.Kind;
            data.AnomalyParameter = threshold.Method.Parameter;
            data.AnomalySamples = threshold.SampleCount;
        }

        if (Baseline is { } baseline)
        {
            data.BaselineComponents = baseline.Variances.Length;
            data.BaselineSamples = baseline.Samples;
            data.BaselineTotalVariance = baseline.TotalVariance;
            data.BaselineMean = baseline.Mean;
            data.BaselineVariances = baseline.Variances;
            data.BaselineBasis = baseline.Basis;
        }

        return WeightFileFormat.Write(data);
    }

    /// <summary>Reads a weight file's bytes (every check of the format applies).</summary>
    /// <exception cref="IO.WeightFileException">The bytes are not a valid float32 weight file (reason <see cref="IO.WeightFileErrorReason.Malformed"/>).</exception>
    public static AutoencoderData FromWeightFile(byte[] bytes, string source)
    {
        // Callers with a path validate it with WeightFile.Read first, which reports every failure with its reason.
        if (!WeightFileFormat.TryParse(bytes, out WeightFileData? data, out string error) || data is null)
        {
            throw new IO.WeightFileException(IO.WeightFileErrorReason.Malformed, $"Cannot read weights from '{source}': {error}.");
        }

        int code = Array.FindIndex(data.Layers, l => l.Role == (byte)LayerRole.Code);
        var layers = new DenseLayer[data.Layers.Length];
        int k = 0;
        var weights = new float[data.Layers.Length][];
        var biases = new float[data.Layers.Length][];
        foreach (TensorEntry tensor in data.Tensors)
        {
            float[] values = data.Parameters.AsSpan(k, tensor.Count).ToArray();
            k += tensor.Count;
            (tensor.Kind == TensorEntry.WeightKind ? weights : biases)[tensor.LayerIndex] = values;
        }

        for (int l = 0; l < data.Layers.Length; l++)
        {
            LayerFingerprint f = data.Layers[l];
            int tiedTo = -1;
            float[]? w = weights[l];
            if (w is null)
            {
                // A tied decoder layer (t steps after the code) reads layer code − t transposed.
                tiedTo = code - (l - code - 1);
                if (!data.TiedWeights || tiedTo < 0 || tiedTo >= l || weights[tiedTo] is null)
                {
                    throw new IO.WeightFileException(IO.WeightFileErrorReason.Malformed, $"Cannot read weights from '{source}': layer {l} has no W.");
                }

                w = Transpose(weights[tiedTo]!, data.Layers[tiedTo].InputWidth, data.Layers[tiedTo].Width);
            }

            layers[l] = new DenseLayer((LayerRole)f.Role, f.InputWidth, f.Width, (ActivationKind)f.Activation, w,
                biases[l] ?? throw new IO.WeightFileException(IO.WeightFileErrorReason.Malformed, $"Cannot read weights from '{source}': layer {l} has no b."), tiedTo);
        }

        return new AutoencoderData
        {
            InputSize = data.InputWidth,
            Loss = (LossKind)data.Loss,
            TiedWeights = data.TiedWeights,
            Layers = layers,
            Normalization = data.NormalizationKind == 0
                ? Normalization.None
                : new Normalization((NormalizationKind)data.NormalizationKind, data.NormalizationOffset, data.NormalizationScale),
            CodecBits = data.CodecBits,
            CodecMin = data.CodecMin,
            CodecMax = data.CodecMax,
            Threshold = data.HasAnomalyThreshold
                ? new Anomaly.AnomalyThreshold(data.AnomalyThreshold, new Anomaly.CalibrationMethod((Anomaly.CalibrationKind)data.AnomalyMethod, data.AnomalyParameter), data.AnomalySamples)
                : null,
            Baseline = data.BaselineComponents == 0
                ? null
                : new BaselineData(data.BaselineSamples, data.BaselineTotalVariance, data.BaselineMean, data.BaselineVariances, data.BaselineBasis),
            SourceChecksum = data.Checksum,
        };
    }

    /// <summary>A live model's parameters (copied), read through its topology's offsets.</summary>
    public static AutoencoderData FromModel(IAutoencoder model, Normalization? normalization)
    {
        ModelTopology topology = model.Topology;
        ReadOnlySpan<float> p = model.Parameters;
        var layers = new DenseLayer[topology.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            LayerInfo info = topology.Layers[l];
            float[] w = info.IsTied
                ? Transpose(p.Slice(info.WeightOffset, info.WeightCount).ToArray(), info.Width, info.InputWidth)
                : p.Slice(info.WeightOffset, info.WeightCount).ToArray();
            layers[l] = new DenseLayer(info.Role, info.InputWidth, info.Width, info.Activation, w, p.Slice(info.BiasOffset, info.Width).ToArray(), info.TiedTo);
        }

        return new AutoencoderData
        {
            InputSize = topology.InputSize,
            Loss = topology.Loss,
            TiedWeights = topology.TiedWeights,
            Layers = layers,
            Normalization = normalization ?? Normalization.None,
        };
    }

    /// <summary>The transpose of a rows × columns row-major matrix.</summary>
    public static float[] Transpose(float[] m, int rows, int columns)
    {
        var t = new float[m.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                t[(j * rows) + i] = m[(i * columns) + j];
            }
        }

        return t;
    }

    /// <summary>Floats as a comma-separated, round-trip text (metadata values).</summary>
    public static string FormatFloats(IEnumerable<float> values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
