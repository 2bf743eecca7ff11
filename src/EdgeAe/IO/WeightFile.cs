using System.Globalization;
using System.Text;
using EdgeAe.Data;
using EdgeAe.IO.Format;

namespace EdgeAe.IO;

/// <summary>
/// Saves and loads trained parameters with their normalisation as <c>.eaw</c> weight files
/// (docs/weight-file-format.md). Saving is atomic; loading validates everything before it touches
/// the model, so a failed load leaves the model's parameters as they were.
/// </summary>
public static partial class WeightFile
{
    /// <summary>The usual file extension, with its dot.</summary>
    public const string Extension = ".eaw";

    /// <summary>
    /// Writes the parameters of <paramref name="model"/> and <paramref name="normalization"/> to
    /// <paramref name="path"/> atomically: a temporary file in the same folder is written, flushed to
    /// disk and then moved over <paramref name="path"/>. On failure the previous file is left intact
    /// and the temporary file is removed.
    /// </summary>
    /// <exception cref="WeightFileException">The folder is missing or writing failed (<see cref="WeightFileErrorReason.Io"/>), or a parameter is not finite (<see cref="WeightFileErrorReason.NonFiniteWeight"/>).</exception>
    public static void Save(string path, IAutoencoder model, Normalization normalization)
        => Save(path, model, normalization, OpenTemporaryFile);

    /// <summary>
    /// Like <see cref="Save(string, IAutoencoder, Normalization)"/>, and stores <paramref name="codec"/> (bits per code
    /// value and each code value's range) in the optional <c>qant</c> section, so a server and a baked firmware model
    /// quantise codes the same way (docs/packet-format.md).
    /// </summary>
    public static void Save(string path, IAutoencoder model, Normalization normalization, Compression.CodeQuantizer? codec)
        => Save(path, model, normalization, OpenTemporaryFile, new WeightFileExtras { Codec = codec });

    /// <summary>
    /// Like <see cref="Save(string, IAutoencoder, Normalization)"/>, with the optional sections in <paramref name="extras"/>
    /// (a code quantiser in <c>qant</c>, a PCA baseline in <c>pcab</c>, an anomaly threshold in <c>anom</c>).
    /// </summary>
    /// <exception cref="WeightFileException">The folder is missing or writing failed, or a parameter is not finite.</exception>
    /// <exception cref="ArgumentException">An optional section does not fit the model (code width, input width).</exception>
    public static void Save(string path, IAutoencoder model, Normalization normalization, WeightFileExtras extras)
        => Save(path, model, normalization, OpenTemporaryFile, extras);

    /// <summary>
    /// Like <see cref="Save(string, IAutoencoder, Normalization, Compression.CodeQuantizer?)"/>, and stores the anomaly
    /// <paramref name="threshold"/> (with its calibration method) in the optional <c>anom</c> section (docs/anomaly.md).
    /// </summary>
    public static void Save(string path, IAutoencoder model, Normalization normalization, Compression.CodeQuantizer? codec, Anomaly.AnomalyThreshold? threshold)
        => Save(path, model, normalization, OpenTemporaryFile, new WeightFileExtras { Codec = codec, Threshold = threshold });

    /// <summary>
    /// Copies the weight file <paramref name="source"/> to <paramref name="destination"/> with <paramref name="threshold"/> in
    /// its <c>anom</c> section (replacing one that was there); every other known section is kept as it was. Written
    /// atomically; <paramref name="destination"/> must not be <paramref name="source"/> (the input is never overwritten).
    /// </summary>
    /// <exception cref="WeightFileException">The source cannot be read or is invalid, or the destination cannot be written.</exception>
    /// <exception cref="ArgumentException">The destination is the source.</exception>
    public static void SaveWithThreshold(string source, string destination, Anomaly.AnomalyThreshold threshold)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(threshold);
        if (FileIdentity.SameFile(source, destination))
        {
            throw new ArgumentException($"The destination '{destination}' is the source weight file '{source}'; write the calibrated weights to another file.", nameof(destination));
        }

        WeightFileData data = Parse(ReadBytes(source), source);
        SetThreshold(data, threshold);
        byte[] bytes = WeightFileFormat.Write(data);
        try
        {
            AtomicFile.Write(Path.GetFullPath(destination), stream => stream.Write(bytes));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException(WeightFileErrorReason.Io, $"Cannot save weights to '{destination}': {exception.Message}", exception);
        }
    }

    /// <summary>The anomaly threshold stored in the weight file at <paramref name="path"/>, or null when it has none.</summary>
    /// <exception cref="WeightFileException">The file cannot be read or is invalid.</exception>
    public static Anomaly.AnomalyThreshold? ReadThreshold(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ToThreshold(Parse(ReadBytes(path), path));
    }

    /// <summary>
    /// Reads the weight file at <paramref name="path"/>, checks that it was saved for a model of the
    /// same topology as <paramref name="model"/>, copies its parameters into the model and returns
    /// the stored normalisation. Nothing is changed when any check fails.
    /// </summary>
    /// <exception cref="WeightFileException">The file cannot be read, is invalid, or does not fit the model.</exception>
    public static Normalization Load(string path, IAutoencoder model)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        return Load(ReadBytes(path), model, path);
    }

    /// <summary>Reads and validates the weight file at <paramref name="path"/> without a model, for inspection.</summary>
    /// <exception cref="WeightFileException">The file cannot be read or is invalid.</exception>
    public static WeightFileInfo Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = ReadBytes(path);
        WeightFileData data = Parse(bytes, path);
        WeightFileLayer[] layers = data.Layers
            .Select(l => new WeightFileLayer((LayerRole)l.Role, l.InputWidth, l.Width, (ActivationKind)l.Activation))
            .ToArray();
        return new WeightFileInfo(path, bytes.Length, data.FormatVersion, data.Checksum, data.InputWidth, (LossKind)data.Loss, data.TiedWeights, layers, ToNormalization(data), data.ElementType, data.Tensors.Length, data.Tensors.Sum(t => t.Count))
        {
            Quantization = data.Int8 is null ? null : ToQuantized(data),
            AnomalyThreshold = ToThreshold(data),
            CodeBits = data.CodecBits == 0 ? null : data.CodecBits,
            Baseline = ToBaseline(data),
        };
    }

    /// <summary>Save with an injectable way of opening the temporary file (tests make it fail part-way).</summary>
    internal static void Save(string path, IAutoencoder model, Normalization normalization, Func<string, Stream> openTemporary, Compression.CodeQuantizer? codec = null, Anomaly.AnomalyThreshold? threshold = null)
        => Save(path, model, normalization, openTemporary, new WeightFileExtras { Codec = codec, Threshold = threshold });

    private static void Save(string path, IAutoencoder model, Normalization normalization, Func<string, Stream> openTemporary, WeightFileExtras extras)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentNullException.ThrowIfNull(openTemporary);
        string fullPath = FolderMustExist(path);
        ArgumentNullException.ThrowIfNull(extras);
        byte[] bytes = model is Quantization.IQuantizedAutoencoder quantized ? ToBytes(quantized, normalization, extras) : ToBytes(model, normalization, extras);
        WriteAtomically(path, fullPath, bytes, openTemporary);
    }

    /// <summary>The full path of <paramref name="path"/>, whose folder must exist (else an <see cref="WeightFileErrorReason.Io"/> error).</summary>
    private static string FolderMustExist(string path)
    {
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? throw new WeightFileException(WeightFileErrorReason.Io, $"Cannot save weights to '{path}': it names no file.");
        if (!Directory.Exists(folder))
        {
            throw new WeightFileException(WeightFileErrorReason.Io, $"Cannot save weights to '{path}': the folder '{folder}' does not exist.");
        }

        return fullPath;
    }

    /// <summary>Writes <paramref name="bytes"/> over <paramref name="fullPath"/> atomically; a failure leaves the previous file.</summary>
    private static void WriteAtomically(string path, string fullPath, byte[] bytes, Func<string, Stream> openTemporary)
    {
        try
        {
            AtomicFile.Write(fullPath, stream => stream.Write(bytes), openTemporary);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException(WeightFileErrorReason.Io, $"Cannot save weights to '{path}': {exception.Message}", exception);
        }
    }

    /// <summary>The bytes of a weight file for <paramref name="model"/>'s parameters and <paramref name="normalization"/>.</summary>
    internal static byte[] ToBytes(IAutoencoder model, Normalization normalization, Compression.CodeQuantizer? codec = null, Anomaly.AnomalyThreshold? threshold = null)
        => ToBytes(model, normalization, new WeightFileExtras { Codec = codec, Threshold = threshold });

    /// <summary>The bytes of a weight file for <paramref name="model"/>'s parameters, <paramref name="normalization"/> and the optional sections.</summary>
    internal static byte[] ToBytes(IAutoencoder model, Normalization normalization, WeightFileExtras extras)
    {
        Compression.CodeQuantizer? codec = extras.Codec;
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(normalization);
        ModelTopology topology = model.Topology;
        if (normalization.Kind != NormalizationKind.None && normalization.Width != topology.InputSize)
        {
            throw new ArgumentException($"The normalisation describes {normalization.Width} features but the model takes {topology.InputSize} inputs.", nameof(normalization));
        }

        ReadOnlySpan<float> buffer = model.Parameters;
        (int Offset, TensorEntry Entry)[] tensors = Tensors(topology, buffer.Length);
        var parameters = new float[tensors.Sum(t => t.Entry.Count)];
        int k = 0;
        foreach ((int offset, TensorEntry entry) in tensors)
        {
            ReadOnlySpan<float> values = buffer.Slice(offset, entry.Count);
            for (int j = 0; j < values.Length; j++)
            {
                if (!float.IsFinite(values[j]))
                {
                    throw new WeightFileException(WeightFileErrorReason.NonFiniteWeight, $"Cannot save weights: weight {values[j].ToString(CultureInfo.InvariantCulture)} in layer {entry.LayerIndex} ({WeightFileFormat.RoleName((byte)topology.Layers[entry.LayerIndex].Role)}) {(entry.Kind == TensorEntry.WeightKind ? "W" : "b")}[{j}].");
                }
            }

            values.CopyTo(parameters.AsSpan(k));
            k += values.Length;
        }

        var data = new WeightFileData
        {
            InputWidth = topology.InputSize,
            Loss = (byte)topology.Loss,
            TiedWeights = topology.TiedWeights,
            Layers = topology.Layers.Select(l => new LayerFingerprint((byte)l.Role, l.InputWidth, l.Width, (byte)l.Activation)).ToArray(),
            NormalizationKind = (byte)normalization.Kind,
            NormalizationOffset = normalization.Offset.ToArray(),
            NormalizationScale = normalization.Scale.ToArray(),
            Tensors = tensors.Select(t => t.Entry).ToArray(),
            Parameters = parameters,
        };
        if (codec is not null)
        {
            if (codec.CodeSize != topology.CodeSize)
            {
                throw new ArgumentException($"The code quantiser describes {codec.CodeSize} code values but the model's code is {topology.CodeSize} wide.", nameof(codec));
            }

            data.CodecBits = codec.Bits;
            data.CodecMin = codec.Min.ToArray();
            data.CodecMax = codec.Max.ToArray();
        }

        SetExtras(data, extras, topology.InputSize);
        return WeightFileFormat.Write(data);
    }

    /// <summary>The optional sections every precision shares: the anomaly threshold and the PCA baseline.</summary>
    private static void SetExtras(WeightFileData data, WeightFileExtras extras, int inputSize)
    {
        if (extras.Threshold is { } threshold)
        {
            SetThreshold(data, threshold);
        }

        if (extras.Baseline is { } baseline)
        {
            if (baseline.Width != inputSize)
            {
                throw new ArgumentException($"The baseline describes {baseline.Width} inputs but the model takes {inputSize}.", nameof(extras));
            }

            data.BaselineComponents = baseline.Components;
            data.BaselineSamples = baseline.Samples;
            data.BaselineTotalVariance = (float)baseline.TotalVariance;
            data.BaselineMean = baseline.Mean.ToArray();
            data.BaselineVariances = baseline.Variances.ToArray().Select(v => (float)v).ToArray();
            data.BaselineBasis = baseline.Basis.ToArray();
        }

    }

    private static void SetThreshold(WeightFileData data, Anomaly.AnomalyThreshold threshold)
    {
        if (!float.IsFinite(threshold.Threshold) || !double.IsFinite(threshold.Method.Parameter) || threshold.SampleCount < 0)
        {
            throw new ArgumentException($"An anomaly threshold needs a finite value and parameter and a sample count of at least 0, not {threshold}.", nameof(threshold));
        }

        data.HasAnomalyThreshold = true;
        data.AnomalyThreshold = threshold.Threshold;
        data.AnomalyMethod = (byte)threshold.Method.Kind;
        data.AnomalyParameter = threshold.Method.Parameter;
        data.AnomalySamples = threshold.SampleCount;
    }

    private static Anomaly.AnomalyThreshold? ToThreshold(WeightFileData data)
        => data.HasAnomalyThreshold
            ? new Anomaly.AnomalyThreshold(data.AnomalyThreshold, new Anomaly.CalibrationMethod((Anomaly.CalibrationKind)data.AnomalyMethod, data.AnomalyParameter), data.AnomalySamples)
            : null;

    /// <summary>Validates <paramref name="bytes"/> against <paramref name="model"/>, then copies the parameters in.</summary>
    internal static Normalization Load(byte[] bytes, IAutoencoder model, string source)
    {
        ModelTopology topology = model.Topology;
        WeightFileData data = Parse(bytes, source);
        CheckPrecision(data, model, source);
        if (data.Int8 is not null)
        {
            CheckTopology(data, topology, [], source);
            return LoadInt8(data, (Quantization.IQuantizedAutoencoder)model);
        }

        Span<float> buffer = model.Parameters;
        (int Offset, TensorEntry Entry)[] tensors = Tensors(topology, buffer.Length);
        CheckTopology(data, topology, tensors, source);
        Normalization normalization = ToNormalization(data);

        // Every check has passed: only now is the model changed.
        int k = 0;
        foreach ((int offset, TensorEntry entry) in tensors)
        {
            data.Parameters.AsSpan(k, entry.Count).CopyTo(buffer.Slice(offset, entry.Count));
            k += entry.Count;
        }

        return normalization;
    }

    /// <summary>A topology description such as <c>64→16→64 (Sigmoid, Sigmoid), BinaryCrossEntropy</c>.</summary>
    internal static string Describe(int inputSize, IEnumerable<WeightFileLayer> layers, LossKind loss, bool tiedWeights)
        => $"{inputSize}→{string.Join("→", layers.Select(l => l.Width))} ({string.Join(", ", layers.Select(l => l.Activation))}), {loss}{(tiedWeights ? ", tied weights" : string.Empty)}";

    /// <summary>
    /// The unique tensors of the parameter buffer ordered by offset: every layer's W and b, where a W
    /// shared by tied layers counts once (for the layer that comes first).
    /// </summary>
    internal static (int Offset, TensorEntry Entry)[] Tensors(ModelTopology topology, int bufferLength)
    {
        var byOffset = new SortedDictionary<int, TensorEntry>();
        for (int i = 0; i < topology.Layers.Count; i++)
        {
            LayerInfo layer = topology.Layers[i];
            byOffset.TryAdd(layer.WeightOffset, new TensorEntry(i, TensorEntry.WeightKind, layer.WeightCount));
            if (!byOffset.TryAdd(layer.BiasOffset, new TensorEntry(i, TensorEntry.BiasKind, layer.Width)))
            {
                throw new InvalidOperationException($"The bias of layer {i} of {topology.Name} shares offset {layer.BiasOffset} with another tensor.");
            }
        }

        (int Offset, TensorEntry Entry)[] tensors = byOffset.Select(p => (p.Key, p.Value)).ToArray();
        for (int t = 0; t < tensors.Length; t++)
        {
            int end = tensors[t].Offset + tensors[t].Entry.Count;
            int limit = t + 1 < tensors.Length ? tensors[t + 1].Offset : bufferLength;
            if (tensors[t].Offset < 0 || end > limit)
            {
                throw new InvalidOperationException($"Tensor {t} of {topology.Name} (offset {tensors[t].Offset}, {tensors[t].Entry.Count} values) overlaps the next tensor or runs past the parameter buffer ({bufferLength} floats).");
            }
        }

        return tensors;
    }

    private static Stream OpenTemporaryFile(string path)
        => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 4096);

    private static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new WeightFileException(WeightFileErrorReason.Io, $"Cannot read weights from '{path}': {exception.Message}", exception);
        }
    }

    internal static byte[] ReadAllBytes(string path) => ReadBytes(path);

    internal static WeightFileData Parse(byte[] bytes, string source)
    {
        if (WeightFileFormat.TryParse(bytes, out WeightFileData? data, out WeightFileFormatErrorKind kind, out string error) && data is not null)
        {
            return data;
        }

        WeightFileErrorReason reason = kind switch
        {
            WeightFileFormatErrorKind.NotAnEdgeAeFile => WeightFileErrorReason.NotAnEdgeAeFile,
            WeightFileFormatErrorKind.UnsupportedVersion => WeightFileErrorReason.UnsupportedVersion,
            WeightFileFormatErrorKind.Truncated => WeightFileErrorReason.Truncated,
            WeightFileFormatErrorKind.ChecksumMismatch => WeightFileErrorReason.ChecksumMismatch,
            WeightFileFormatErrorKind.NonFiniteValue => WeightFileErrorReason.NonFiniteWeight,
            _ => WeightFileErrorReason.Malformed,
        };
        throw new WeightFileException(reason, $"Cannot read weights from '{source}': {error}.");
    }

    private static Baselines.Pca? ToBaseline(WeightFileData data)
        => data.BaselineComponents == 0 ? null
            : new Baselines.Pca(data.BaselineMean, data.BaselineBasis, data.BaselineVariances.Select(v => (double)v).ToArray(), data.BaselineTotalVariance, data.BaselineSamples);

    private static Normalization ToNormalization(WeightFileData data)
        => data.NormalizationKind == (byte)NormalizationKind.None
            ? Normalization.None
            : new Normalization((NormalizationKind)data.NormalizationKind, data.NormalizationOffset, data.NormalizationScale);

    private static void CheckTopology(WeightFileData data, ModelTopology topology, (int Offset, TensorEntry Entry)[] tensors, string source)
    {
        WeightFileLayer[] expected = topology.Layers.Select(l => new WeightFileLayer(l.Role, l.InputWidth, l.Width, l.Activation)).ToArray();
        WeightFileLayer[] found = data.Layers.Select(l => new WeightFileLayer((LayerRole)l.Role, l.InputWidth, l.Width, (ActivationKind)l.Activation)).ToArray();
        bool same = data.InputWidth == topology.InputSize
            && data.Loss == (byte)topology.Loss
            && data.TiedWeights == topology.TiedWeights
            && expected.SequenceEqual(found);
        bool sameLayout = same && (data.Int8 is not null
            || data.Tensors.Length == tensors.Length
            && data.Tensors.Zip(tensors, (f, e) => f.LayerIndex == e.Entry.LayerIndex && f.Kind == e.Entry.Kind && f.Count == e.Entry.Count).All(b => b));
        if (sameLayout)
        {
            return;
        }

        var message = new StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"Weight file '{source}' was saved for a different model.");
        message.Append(CultureInfo.InvariantCulture, $"\n  expected (model {topology.Name}): {Describe(topology.InputSize, expected, topology.Loss, topology.TiedWeights)}");
        message.Append(CultureInfo.InvariantCulture, $"\n  found (file): {Describe(data.InputWidth, found, (LossKind)data.Loss, data.TiedWeights)}");
        if (data.InputWidth != topology.InputSize)
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  input width: expected {topology.InputSize}, found {data.InputWidth}");
        }

        if (data.Loss != (byte)topology.Loss)
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  loss: expected {topology.Loss}, found {(LossKind)data.Loss}");
        }

        if (data.TiedWeights != topology.TiedWeights)
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  tied weights: expected {topology.TiedWeights}, found {data.TiedWeights}");
        }

        for (int i = 0; i < Math.Max(expected.Length, found.Length); i++)
        {
            string e = i < expected.Length ? expected[i].ToString() : "(no layer)";
            string f = i < found.Length ? found[i].ToString() : "(no layer)";
            message.Append(CultureInfo.InvariantCulture, $"\n  layer {i}: expected {e}, found {f}{(e == f ? string.Empty : "  <- differs")}");
        }

        if (same)
        {
            message.Append(CultureInfo.InvariantCulture, $"\n  parameter layout: expected tensors [{string.Join(", ", tensors.Select(t => DescribeTensor(t.Entry)))}], found [{string.Join(", ", data.Tensors.Select(DescribeTensor))}]");
        }

        throw new WeightFileException(WeightFileErrorReason.TopologyMismatch, message.ToString());
    }

    private static string DescribeTensor(TensorEntry entry)
        => $"{(entry.Kind == TensorEntry.WeightKind ? "W" : "b")}{entry.LayerIndex}({entry.Count})";
}
