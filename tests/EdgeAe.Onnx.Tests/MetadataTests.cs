using EdgeAe.Anomaly;
using EdgeAe.Compression;
using EdgeAe.IO;
using EdgeAe.IO.Format;
using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// What ONNX has no place for travels in metadata_props (EdgeAe's key set, version 2) and comes back into the weight file:
/// an unchanged export imports to the same bytes, so the same packet model id; values are validated against the graph;
/// what was computed for the exported parameters is not put onto other ones.
/// </summary>
public sealed class MetadataTests
{
    private static readonly ReferenceAe Reference = new(6, [8, 3, 8], ["Tanh", "Linear"]);

    /// <summary>A weight file with every section: normalisation, code range, anomaly threshold, PCA baseline.</summary>
    private static AutoencoderData Full() => new()
    {
        InputSize = 8,
        Loss = LossKind.SquaredError,
        TiedWeights = false,
        Layers =
        [
            new DenseLayer(LayerRole.Code, 8, 3, ActivationKind.Tanh, Reference.W[0], Reference.B[0]),
            new DenseLayer(LayerRole.Output, 3, 8, ActivationKind.Linear, Reference.W[1], Reference.B[1]),
        ],
        // −0, a subnormal and values without a short decimal form must come back bit for bit.
        Normalization = new Data.Normalization(Data.NormalizationKind.Standardize, [1, 2, 3, -0f, 5, 1e-40f, 7, 0.1f], [0.5f, 1, 2, 4, 8, 16, 32, 1f / 3]),
        CodecBits = 16,
        CodecMin = [-1f, -0.5f, -0.25f],
        CodecMax = [1f, 0.5f, 0.3f],
        Threshold = new AnomalyThreshold(0.123456789f, new CalibrationMethod(CalibrationKind.Percentile, 99.5), 1797),
        Baseline = new BaselineData(1797, 12.5f, Enumerable.Range(0, 8).Select(i => i / 7f).ToArray(), [3f, 1f / 3],
            Enumerable.Range(0, 16).Select(i => MathF.Sin(i) / 3).ToArray()),
    };

    private static ModelProto Exported(AutoencoderData data, OnnxGraphPart part = OnnxGraphPart.Autoencoder)
    {
        byte[] file = data.ToWeightFile();
        string path = Path.Combine(Path.GetTempPath(), $"edgeae-onnx-meta-{Guid.NewGuid():N}.eaw");
        try
        {
            File.WriteAllBytes(path, file);
            return ModelProto.Parser.ParseFrom(OnnxExporter.ExportWeightFile(path, new OnnxExportOptions { Part = part }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ImportedModel Import(ModelProto model, OnnxImportOptions? options = null) => OnnxImporter.Import(model.ToByteArray(), "meta.onnx", options);

    private static void Set(ModelProto model, string key, string value) => model.MetadataProps.Single(p => p.Key == key).Value = value;

    private static WeightFileData Parsed(ImportedModel imported)
    {
        Assert.True(WeightFileFormat.TryParse(imported.WeightFile.ToArray(), out WeightFileData? data, out string error), error);
        return data!;
    }

    [Fact]
    public void An_unchanged_export_imports_to_the_same_weight_file_so_the_same_packet_model_id()
    {
        AutoencoderData data = Full();
        byte[] original = data.ToWeightFile();
        ModelProto onnx = Exported(data);
        Dictionary<string, string> m = onnx.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("2", m["edgeae.metadata_version"]);
        Assert.Equal($"0x{AutoencoderData.ChecksumOf(original):X8}", m["edgeae.weights_crc32"]);
        Assert.Equal("0.12345679", m["edgeae.anomaly.threshold"]);
        Assert.Equal("percentile:99.5", m["edgeae.anomaly.method"]);
        Assert.Equal("1797", m["edgeae.anomaly.samples"]);
        Assert.Equal("2", m["edgeae.baseline.components"]);

        ImportedModel imported = Import(onnx);
        Assert.Equal(original, imported.WeightFile.ToArray());
        Assert.Equal(PacketFormat.ModelId(AutoencoderData.ChecksumOf(original)), imported.PacketModelId);
        Assert.Equal(data.Threshold, imported.Threshold);
        Assert.Equal(16, imported.CodeBits);
        Assert.True(imported.HasBaseline);
        Assert.Contains("anomaly threshold: 0.12345679 (percentile:99.5 on 1797 scores), from the metadata (stored in the weight file)", imported.Notes);
        Assert.Contains("PCA baseline: 2 components fitted on 1797 samples, from the metadata (stored in the weight file)", imported.Notes);
        Assert.Contains($"weight file: the one exported (the same CRC-32, 0x{AutoencoderData.ChecksumOf(original):X8}), so packets keep their model id 0x{imported.PacketModelId:X4}", imported.Notes);

        // Every threshold method and a file without optional sections come back too.
        foreach (CalibrationKind kind in Enum.GetValues<CalibrationKind>())
        {
            AutoencoderData other = Full() with { Threshold = new AnomalyThreshold(-2.5f, new CalibrationMethod(kind, kind == CalibrationKind.Manual ? -2.5 : 0.01), 0) };
            Assert.Equal(other.ToWeightFile(), Import(Exported(other)).WeightFile.ToArray());
        }

        AutoencoderData bare = Full() with { Normalization = Data.Normalization.None, CodecBits = 0, CodecMin = [], CodecMax = [], Threshold = null, Baseline = null };
        Assert.Equal(bare.ToWeightFile(), Import(Exported(bare)).WeightFile.ToArray());
    }

    [Fact]
    public void The_baseline_travels_with_the_autoencoder_graph_only()
    {
        Assert.Contains(Exported(Full()).MetadataProps, p => p.Key == "edgeae.baseline.basis");
        ModelProto encoder = Exported(Full(), OnnxGraphPart.Encoder);
        Assert.DoesNotContain(encoder.MetadataProps, p => p.Key.StartsWith("edgeae.baseline.", StringComparison.Ordinal));
        Assert.Contains(encoder.MetadataProps, p => p.Key == "edgeae.anomaly.threshold");
    }

    [Theory]
    [InlineData("edgeae.anomaly.threshold", "abc", "metadata edgeae.anomaly.threshold ('abc') is not a finite number")]
    [InlineData("edgeae.anomaly.threshold", "Infinity", "metadata edgeae.anomaly.threshold ('Infinity') is not a finite number")]
    [InlineData("edgeae.anomaly.method", "median:3", "metadata edgeae.anomaly.method is 'median:3'; expected a method and its finite parameter")]
    [InlineData("edgeae.anomaly.samples", "-1", "metadata edgeae.anomaly.samples is '-1'; expected a whole number from 0 on")]
    [InlineData("edgeae.code_min", "-1,-0.5", "metadata edgeae.code_min holds 2 values; expected 3 (the code width)")]
    [InlineData("edgeae.code_max", "1,0.5,-0.3", "metadata edgeae.code_max has a value not above its minimum")]
    [InlineData("edgeae.normalization.scale", "1,2,3", "metadata edgeae.normalization.scale holds 3 values; expected 8 (the input width)")]
    [InlineData("edgeae.baseline.components", "9", "metadata edgeae.baseline.components is 9; a PCA of 8 inputs has at most 8 components")]
    [InlineData("edgeae.baseline.variances", "3", "metadata edgeae.baseline.variances holds 1 values; expected 2 (edgeae.baseline.components)")]
    [InlineData("edgeae.baseline.basis", "AAAA", "metadata edgeae.baseline.basis is not the base64 of 64 bytes (2 × 8 little-endian float32 values)")]
    [InlineData("edgeae.weights_crc32", "12345678", "metadata edgeae.weights_crc32 is '12345678'; expected 0x and eight hexadecimal digits")]
    [InlineData("edgeae.parameters_crc32", "0xZZ", "metadata edgeae.parameters_crc32 is '0xZZ'; expected 0x and eight hexadecimal digits")]
    [InlineData("edgeae.metadata_version", "two", "metadata edgeae.metadata_version is 'two'; expected a version from 2 on")]
    public void A_malformed_or_misfitting_value_is_refused_naming_its_key(string key, string value, string message)
    {
        ModelProto onnx = Exported(Full());
        Set(onnx, key, value);
        OnnxImportException e = Assert.Throws<OnnxImportException>(() => Import(onnx));
        Assert.Equal(OnnxImportError.Malformed, e.Reason);
        Assert.StartsWith("meta.onnx: " + message, e.Message);
    }

    [Fact]
    public void A_version_2_export_without_its_fingerprints_is_refused()
    {
        ModelProto onnx = Exported(Full());
        onnx.MetadataProps.Remove(onnx.MetadataProps.Single(p => p.Key == "edgeae.parameters_crc32"));
        Assert.StartsWith("meta.onnx: metadata edgeae.parameters_crc32 is missing (EdgeAe key set version 2 has it)", Assert.Throws<OnnxImportException>(() => Import(onnx)).Message);
    }

    [Fact]
    public void An_edited_valid_value_is_restored_and_the_new_checksum_and_model_id_are_named()
    {
        AutoencoderData data = Full();
        uint exported = AutoencoderData.ChecksumOf(data.ToWeightFile());
        ModelProto onnx = Exported(data);
        Set(onnx, "edgeae.anomaly.threshold", "0.5");
        ImportedModel imported = Import(onnx);
        Assert.Equal(0.5f, Parsed(imported).AnomalyThreshold);
        Assert.NotEqual(exported, imported.WeightFileChecksum);
        Assert.Contains($"weight file: CRC-32 0x{imported.WeightFileChecksum:X8} (packet model id 0x{imported.PacketModelId:X4}), not the exported file's 0x{exported:X8} "
            + $"(model id 0x{PacketFormat.ModelId(exported):X4}): the metadata were edited after the export, or the exported file held sections this EdgeAe does not read", imported.Notes);
    }

    [Fact]
    public void A_changed_graph_keeps_the_normalisation_and_baseline_but_not_the_code_range_or_threshold()
    {
        // One weight changed after export (fine-tuned elsewhere, metadata kept): the threshold and code range were
        // calibrated on the exported parameters, so they are left out with a note; the data-side values stay.
        ModelProto onnx = Exported(Full());
        TensorProto w = onnx.Graph.Initializer.Single(t => t.Name == "layer0.weight");
        byte[] raw = w.RawData.ToByteArray();
        raw[0] ^= 1;
        w.RawData = ByteString.CopyFrom(raw);
        ImportedModel imported = Import(onnx);
        WeightFileData file = Parsed(imported);
        Assert.Equal(0, file.CodecBits);
        Assert.False(file.HasAnomalyThreshold);
        Assert.Equal((byte)Data.NormalizationKind.Standardize, file.NormalizationKind);
        Assert.Equal(2, file.BaselineComponents);
        string note = Assert.Single(imported.Notes, n => n.StartsWith("not restored:", StringComparison.Ordinal));
        Assert.StartsWith("not restored: the code range and the anomaly threshold in the metadata, computed for the exported model: this graph's model is not the one exported "
            + "(its topology, loss and code layer included, and parameters give edgeae.parameters_crc32 0x", note);
        Assert.EndsWith("; calibrate them again for it (edgeae train --code-bits, edgeae calibrate)", note);
        Assert.Contains(imported.Notes, n => n.StartsWith("weight file: CRC-32", StringComparison.Ordinal) && n.Contains("this graph's model is not the one exported", StringComparison.Ordinal));

        // A loss stated against the metadata's changes the model too (the threshold is a loss).
        AutoencoderData bce = Full() with { Layers = [Full().Layers[0], Full().Layers[1] with { Activation = ActivationKind.Sigmoid }], Loss = LossKind.BinaryCrossEntropy };
        ImportedModel restated = Import(Exported(bce), new OnnxImportOptions { Loss = LossKind.SquaredError });
        Assert.Null(restated.Threshold);
        Assert.Contains(restated.Notes, n => n.StartsWith("not restored: the code range and the anomaly threshold", StringComparison.Ordinal));
    }

    [Fact]
    public void An_export_of_an_older_EdgeAe_still_restores_its_normalisation_and_code_range()
    {
        // Key set version 1 had no version key and no fingerprints.
        ModelProto onnx = Exported(Full() with { Threshold = null, Baseline = null });
        foreach (string key in new[] { "edgeae.metadata_version", "edgeae.weights_crc32", "edgeae.parameters_crc32" })
        {
            onnx.MetadataProps.Remove(onnx.MetadataProps.Single(p => p.Key == key));
        }

        WeightFileData file = Parsed(Import(onnx));
        Assert.Equal(16, file.CodecBits);
        Assert.Equal(Full().CodecMax, file.CodecMax);
        Assert.Equal((byte)Data.NormalizationKind.Standardize, file.NormalizationKind);
    }

    [Fact]
    public void A_newer_key_set_is_read_as_far_as_this_EdgeAe_knows_it()
    {
        AutoencoderData data = Full();
        ModelProto onnx = Exported(data);
        Set(onnx, "edgeae.metadata_version", "3");
        onnx.MetadataProps.Add(new StringStringEntryProto { Key = "edgeae.something_new", Value = "1" });
        ImportedModel imported = Import(onnx);
        Assert.Equal(data.ToWeightFile(), imported.WeightFile.ToArray());
        Assert.Contains("metadata: EdgeAe key set version 3, newer than this EdgeAe's (2); the keys of version 2 are restored, any others are not", imported.Notes);
    }

    [Fact]
    public void A_foreign_model_imports_as_before_with_nothing_restored()
    {
        // PyTorch's TorchScript form carries no EdgeAe metadata: no normalisation, no code range, no threshold, no baseline.
        var reference = new ReferenceAe(3, [16, 8, 4, 8, 16], ["Relu", "Relu", "Relu", "Sigmoid"]);
        ImportedModel imported = OnnxImporter.Import(reference.TorchScript(13, out _), "torch.onnx", new OnnxImportOptions { CodeLayer = 1 });
        WeightFileData file = Parsed(imported);
        Assert.Equal((byte)Data.NormalizationKind.None, file.NormalizationKind);
        Assert.Equal(0, file.CodecBits);
        Assert.False(file.HasAnomalyThreshold);
        Assert.Equal(0, file.BaselineComponents);
        Assert.DoesNotContain(imported.Notes, n => n.Contains("metadata", StringComparison.Ordinal) || n.StartsWith("weight file:", StringComparison.Ordinal));

        // And the conformance models (PyTorch 0.3) still reach the same refusals: the metadata are not what stops them.
        string conformance = Path.Combine(AppContext.BaseDirectory, "Conformance", "pytorch-converted", "test_Linear", "model.onnx");
        Assert.Equal(OnnxImportError.NotAnAutoencoder, Assert.Throws<OnnxImportException>(() => OnnxImporter.ImportFile(conformance, "x.cs", "x.eaw")).Reason);
    }
}
