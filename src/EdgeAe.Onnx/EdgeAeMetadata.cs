using System.Buffers.Binary;
using System.Globalization;
using EdgeAe.Anomaly;
using EdgeAe.Compression;
using EdgeAe.Data;
using Onnx;

namespace EdgeAe.Onnx;

/// <summary>
/// EdgeAe's keys in an ONNX model's <c>metadata_props</c> (docs/onnx.md, "What a round trip keeps"): what a weight file
/// holds that ONNX has no place for. The exporter writes them; the importer validates them against the graph and puts
/// them back into the weight file — the values bound to the parameters (code range, anomaly threshold) only when the
/// graph is the model that was exported. Other ONNX tools ignore them.
/// </summary>
internal static class EdgeAeMetadata
{
    /// <summary>
    /// The version of the key set written. 1 (no version key): loss, code, part, precision, normalisation, code range.
    /// 2: adds the version, the two CRC-32 fingerprints, the anomaly threshold and the PCA baseline. Keys are only ever
    /// added; a reader applies the rules of the newest version it knows to a newer file.
    /// </summary>
    public const int Version = 2;

    public const string VersionKey = "edgeae.metadata_version";
    public const string LossKey = "edgeae.loss";
    public const string CodeKey = "edgeae.code";
    public const string PartKey = "edgeae.part";
    public const string PrecisionKey = "edgeae.precision";
    public const string NormalizationKey = "edgeae.normalization";
    public const string NormalizationOffsetKey = "edgeae.normalization.offset";
    public const string NormalizationScaleKey = "edgeae.normalization.scale";
    public const string CodeBitsKey = "edgeae.code_bits";
    public const string CodeMinKey = "edgeae.code_min";
    public const string CodeMaxKey = "edgeae.code_max";
    public const string WeightsCrcKey = "edgeae.weights_crc32";
    public const string ParametersCrcKey = "edgeae.parameters_crc32";
    public const string ThresholdKey = "edgeae.anomaly.threshold";
    public const string MethodKey = "edgeae.anomaly.method";
    public const string CalibrationSamplesKey = "edgeae.anomaly.samples";
    public const string BaselineComponentsKey = "edgeae.baseline.components";
    public const string BaselineSamplesKey = "edgeae.baseline.samples";
    public const string BaselineTotalVarianceKey = "edgeae.baseline.total_variance";
    public const string BaselineMeanKey = "edgeae.baseline.mean";
    public const string BaselineVariancesKey = "edgeae.baseline.variances";
    public const string BaselineBasisKey = "edgeae.baseline.basis";

    /// <summary>Every key of version 2 (the fuzz tests edit them).</summary>
    public static readonly string[] Keys =
    [
        VersionKey, LossKey, CodeKey, PartKey, PrecisionKey, NormalizationKey, NormalizationOffsetKey, NormalizationScaleKey,
        CodeBitsKey, CodeMinKey, CodeMaxKey, WeightsCrcKey, ParametersCrcKey, ThresholdKey, MethodKey, CalibrationSamplesKey,
        BaselineComponentsKey, BaselineSamplesKey, BaselineTotalVarianceKey, BaselineMeanKey, BaselineVariancesKey, BaselineBasisKey,
    ];

    private static readonly string[] MethodNames = ["manual", "percentile", "meanstd", "gamma", "fpr"];

    /// <summary>The keys of a float32 graph of <paramref name="data"/>; <paramref name="weightsChecksum"/> is the CRC-32 of the weight file exported.</summary>
    public static void Write(ModelProto model, AutoencoderData data, OnnxGraphPart part, uint weightsChecksum)
    {
        Add(model, VersionKey, Version.ToString(CultureInfo.InvariantCulture));
        Add(model, LossKey, data.Loss.ToString());
        Add(model, PartKey, part.ToString().ToLowerInvariant());
        if (part == OnnxGraphPart.Autoencoder)
        {
            Add(model, CodeKey, OnnxExporter.CodeName);
        }

        Add(model, WeightsCrcKey, Hex(weightsChecksum));
        Add(model, ParametersCrcKey, Hex(data.ParametersChecksum()));
        Common(model, (byte)data.Normalization.Kind, data.Normalization.Offset.ToArray(), data.Normalization.Scale.ToArray(), data.CodecBits, data.CodecMin, data.CodecMax, data.Threshold);

        // The baseline is what eval compares a model with, so it travels with the graph an import reads: the autoencoder.
        if (part == OnnxGraphPart.Autoencoder && data.Baseline is { } baseline)
        {
            Add(model, BaselineComponentsKey, baseline.Variances.Length.ToString(CultureInfo.InvariantCulture));
            Add(model, BaselineSamplesKey, baseline.Samples.ToString(CultureInfo.InvariantCulture));
            Add(model, BaselineTotalVarianceKey, baseline.TotalVariance.ToString("R", CultureInfo.InvariantCulture));
            Add(model, BaselineMeanKey, AutoencoderData.FormatFloats(baseline.Mean));
            Add(model, BaselineVariancesKey, AutoencoderData.FormatFloats(baseline.Variances));
            Add(model, BaselineBasisKey, Base64(baseline.Basis));
        }
    }

    /// <summary>The keys of an int8 (QDQ) graph, which the importer refuses: what a server running it needs.</summary>
    public static void WriteInt8(ModelProto model, IO.Format.WeightFileData data, OnnxGraphPart part)
    {
        Add(model, VersionKey, Version.ToString(CultureInfo.InvariantCulture));
        Add(model, LossKey, ((LossKind)data.Loss).ToString());
        Add(model, PartKey, part.ToString().ToLowerInvariant());
        Add(model, PrecisionKey, "int8");
        if (part == OnnxGraphPart.Autoencoder)
        {
            Add(model, CodeKey, OnnxExporter.CodeName);
        }

        Add(model, WeightsCrcKey, Hex(data.Checksum));
        AnomalyThreshold? threshold = data.HasAnomalyThreshold
            ? new AnomalyThreshold(data.AnomalyThreshold, new CalibrationMethod((CalibrationKind)data.AnomalyMethod, data.AnomalyParameter), data.AnomalySamples)
            : null;
        Common(model, data.NormalizationKind, data.NormalizationOffset, data.NormalizationScale, data.CodecBits, data.CodecMin, data.CodecMax, threshold);
    }

    /// <summary>
    /// <paramref name="model"/> (read from the graph) with what the metadata of <paramref name="network"/> restore; notes say
    /// what was restored, what was not and why, and whether the weight file is the one exported.
    /// </summary>
    /// <exception cref="OnnxImportException">A value is malformed or does not fit the graph (<see cref="OnnxImportError.Malformed"/>, naming the key).</exception>
    public static AutoencoderData Restore(DenseNetwork network, AutoencoderData model, List<string> notes)
    {
        var reader = new Reader(network);
        int version = reader.ReadVersion(notes);
        Normalization normalization = reader.ReadNormalization(model.InputSize);
        (int bits, float[] min, float[] max) = reader.ReadCodeRange(model.CodeSize);
        AnomalyThreshold? threshold = reader.ReadThreshold();
        BaselineData? baseline = reader.ReadBaseline(model.InputSize);
        uint? exportedFile = reader.ReadCrc(WeightsCrcKey, required: version >= 2);
        uint? exportedParameters = reader.ReadCrc(ParametersCrcKey, required: version >= 2);

        // The code range and the threshold were computed with the exported parameters: restored only onto them.
        uint parameters = model.ParametersChecksum();
        bool sameModel = exportedParameters is null || exportedParameters == parameters;
        if (normalization.Kind != NormalizationKind.None)
        {
            notes.Add($"normalisation: {normalization.Kind}, from the metadata (stored in the weight file)");
        }

        var left = new List<string>();
        if (bits != 0 && sameModel)
        {
            notes.Add($"code range: {bits} bits per code value, from the metadata (stored in the weight file)");
        }
        else if (bits != 0)
        {
            left.Add("the code range");
        }

        if (threshold is not null && sameModel)
        {
            notes.Add($"anomaly threshold: {threshold.Threshold.ToString("R", CultureInfo.InvariantCulture)} ({threshold.Method} on {threshold.SampleCount} scores), from the metadata (stored in the weight file)");
        }
        else if (threshold is not null)
        {
            left.Add("the anomaly threshold");
        }

        if (baseline is not null)
        {
            notes.Add($"PCA baseline: {baseline.Variances.Length} components fitted on {baseline.Samples} samples, from the metadata (stored in the weight file)");
        }

        string differs = sameModel ? string.Empty
            : $"this graph's model is not the one exported (its topology, loss and code layer included, and parameters give {ParametersCrcKey} {Hex(parameters)}; the metadata say {Hex(exportedParameters!.Value)})";
        if (left.Count > 0)
        {
            notes.Add($"not restored: {string.Join(" and ", left)} in the metadata, computed for the exported model: {differs}; calibrate them again for it (edgeae train --code-bits, edgeae calibrate)");
        }

        AutoencoderData restored = model with
        {
            Normalization = normalization,
            CodecBits = sameModel ? bits : 0,
            CodecMin = sameModel ? min : [],
            CodecMax = sameModel ? max : [],
            Threshold = sameModel ? threshold : null,
            Baseline = baseline,
        };
        if (exportedFile is uint exported)
        {
            uint written = restored.Checksum();
            notes.Add(written == exported
                ? $"weight file: the one exported (the same CRC-32, {Hex(written)}), so packets keep their model id 0x{PacketFormat.ModelId(written):X4}"
                : $"weight file: CRC-32 {Hex(written)} (packet model id 0x{PacketFormat.ModelId(written):X4}), not the exported file's {Hex(exported)} (model id 0x{PacketFormat.ModelId(exported):X4}): "
                    + (sameModel ? "the metadata were edited after the export, or the exported file held sections this EdgeAe does not read" : differs));
        }

        return restored;
    }

    private static void Common(ModelProto model, byte normalization, float[] offset, float[] scale, int bits, float[] min, float[] max, AnomalyThreshold? threshold)
    {
        if (normalization != (byte)NormalizationKind.None)
        {
            Add(model, NormalizationKey, normalization == (byte)NormalizationKind.Scale ? "scale" : "standardize");
            Add(model, NormalizationOffsetKey, AutoencoderData.FormatFloats(offset));
            Add(model, NormalizationScaleKey, AutoencoderData.FormatFloats(scale));
        }

        // The packet codec's code ranges: a server decoding packets needs them.
        if (bits != 0)
        {
            Add(model, CodeBitsKey, bits.ToString(CultureInfo.InvariantCulture));
            Add(model, CodeMinKey, AutoencoderData.FormatFloats(min));
            Add(model, CodeMaxKey, AutoencoderData.FormatFloats(max));
        }

        // The decision threshold: a server scoring with the graph flags a sample whose score is above it.
        if (threshold is not null)
        {
            Add(model, ThresholdKey, threshold.Threshold.ToString("R", CultureInfo.InvariantCulture));
            Add(model, MethodKey, threshold.Method.ToString());
            Add(model, CalibrationSamplesKey, threshold.SampleCount.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void Add(ModelProto model, string key, string value) => model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    /// <summary>A CRC-32 as written: <c>0x</c> and eight upper-case hexadecimal digits, as <c>edgeae inspect</c> prints it.</summary>
    public static string Hex(uint crc) => "0x" + crc.ToString("X8", CultureInfo.InvariantCulture);

    private static string Base64(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    /// <summary>Reads and validates the keys of one model's metadata; every failure names the key.</summary>
    private sealed class Reader(DenseNetwork network)
    {
        private readonly IReadOnlyDictionary<string, string> _m = network.Metadata;
        private readonly string _source = network.Source;

        public int ReadVersion(List<string> notes)
        {
            if (!_m.TryGetValue(VersionKey, out string? text))
            {
                return 1;
            }

            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 2)
            {
                throw Malformed($"metadata {VersionKey} is '{text}'; expected a version from 2 on");
            }

            if (version > Version)
            {
                notes.Add($"metadata: EdgeAe key set version {version}, newer than this EdgeAe's ({Version}); the keys of version {Version} are restored, any others are not");
            }

            return version;
        }

        public Normalization ReadNormalization(int inputWidth)
        {
            if (!_m.TryGetValue(NormalizationKey, out string? kindText) || kindText == "none")
            {
                return Normalization.None;
            }

            NormalizationKind kind = kindText switch
            {
                "scale" => NormalizationKind.Scale,
                "standardize" => NormalizationKind.Standardize,
                _ => throw Malformed($"metadata {NormalizationKey} is '{kindText}'; expected none, scale or standardize"),
            };
            float[] offset = Floats(NormalizationOffsetKey, inputWidth, "the input width");
            float[] scale = Floats(NormalizationScaleKey, inputWidth, "the input width");
            if (scale.Any(s => s == 0f))
            {
                throw Malformed($"metadata {NormalizationScaleKey} holds a zero scale");
            }

            return new Normalization(kind, offset, scale);
        }

        public (int Bits, float[] Min, float[] Max) ReadCodeRange(int codeWidth)
        {
            if (!_m.TryGetValue(CodeBitsKey, out string? bitsText))
            {
                return (0, [], []);
            }

            if (bitsText is not ("8" or "16"))
            {
                throw Malformed($"metadata {CodeBitsKey} is '{bitsText}'; expected 8 or 16");
            }

            float[] min = Floats(CodeMinKey, codeWidth, "the code width");
            float[] max = Floats(CodeMaxKey, codeWidth, "the code width");
            if (min.Zip(max).Any(p => !(p.Second > p.First)))
            {
                throw Malformed($"metadata {CodeMaxKey} has a value not above its minimum");
            }

            return (int.Parse(bitsText, CultureInfo.InvariantCulture), min, max);
        }

        public AnomalyThreshold? ReadThreshold()
        {
            if (!_m.ContainsKey(ThresholdKey) && !_m.ContainsKey(MethodKey) && !_m.ContainsKey(CalibrationSamplesKey))
            {
                return null;
            }

            float threshold = Float(ThresholdKey);
            string method = Text(MethodKey);
            int colon = method.IndexOf(':', StringComparison.Ordinal);
            int kind = colon < 0 ? -1 : Array.IndexOf(MethodNames, method[..colon]);
            if (kind < 0 || !double.TryParse(method[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double parameter) || !double.IsFinite(parameter))
            {
                throw Malformed($"metadata {MethodKey} is '{method}'; expected a method and its finite parameter: {string.Join(", ", MethodNames.Select(n => n + ":X"))}");
            }

            return new AnomalyThreshold(threshold, new CalibrationMethod((CalibrationKind)kind, parameter), Count(CalibrationSamplesKey, 0));
        }

        public BaselineData? ReadBaseline(int inputWidth)
        {
            if (!_m.Keys.Any(k => k.StartsWith("edgeae.baseline.", StringComparison.Ordinal)))
            {
                return null;
            }

            int components = Count(BaselineComponentsKey, 1);
            if (components > inputWidth)
            {
                throw Malformed($"metadata {BaselineComponentsKey} is {components}; a PCA of {inputWidth} inputs has at most {inputWidth} components");
            }

            int samples = Count(BaselineSamplesKey, 0);
            float total = Float(BaselineTotalVarianceKey);
            if (total < 0)
            {
                throw Malformed($"metadata {BaselineTotalVarianceKey} is negative");
            }

            float[] mean = Floats(BaselineMeanKey, inputWidth, "the input width");
            float[] variances = Floats(BaselineVariancesKey, components, BaselineComponentsKey);
            if (variances.Any(v => v < 0))
            {
                throw Malformed($"metadata {BaselineVariancesKey} holds a negative variance");
            }

            string text = Text(BaselineBasisKey);
            var bytes = new byte[(text.Length / 4 * 3) + 3];
            long expected = 4L * components * inputWidth;
            if (!Convert.TryFromBase64String(text, bytes, out int length) || length != expected)
            {
                throw Malformed($"metadata {BaselineBasisKey} is not the base64 of {expected} bytes ({components} × {inputWidth} little-endian float32 values)");
            }

            var basis = new float[components * inputWidth];
            for (int i = 0; i < basis.Length; i++)
            {
                basis[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
                if (!float.IsFinite(basis[i]))
                {
                    throw Malformed($"metadata {BaselineBasisKey} value {i} is not finite");
                }
            }

            return new BaselineData(samples, total, mean, variances, basis);
        }

        public uint? ReadCrc(string key, bool required)
        {
            if (!_m.TryGetValue(key, out string? text))
            {
                return required ? throw Malformed($"metadata {key} is missing (EdgeAe key set version 2 has it)") : null;
            }

            return text.Length == 10 && text.StartsWith("0x", StringComparison.Ordinal)
                && uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint crc)
                ? crc
                : throw Malformed($"metadata {key} is '{text}'; expected 0x and eight hexadecimal digits");
        }

        private string Text(string key)
            => _m.TryGetValue(key, out string? text) ? text : throw Malformed($"metadata {key} is missing");

        private float Float(string key)
        {
            string text = Text(key);
            return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)
                ? value
                : throw Malformed($"metadata {key} ('{text}') is not a finite number");
        }

        private int Count(string key, int minimum)
        {
            string text = Text(key);
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= minimum
                ? value
                : throw Malformed($"metadata {key} is '{text}'; expected a whole number from {minimum} on");
        }

        private float[] Floats(string key, int count, string what)
        {
            string[] parts = Text(key).Split(',');
            var values = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                {
                    throw Malformed($"metadata {key} value {i} ('{parts[i]}') is not a finite number");
                }
            }

            return values.Length == count
                ? values
                : throw Malformed($"metadata {key} holds {values.Length} values; expected {count} ({what})");
        }

        private OnnxImportException Malformed(string problem) => new(OnnxImportError.Malformed, $"{_source}: {problem}");
    }
}
