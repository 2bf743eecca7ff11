using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.IO.Format;
using EdgeAe.Quantization;
using EdgeAe.Tests.IO;
using EdgeAe.Tests.Models;
using static EdgeAe.Tests.IO.WeightFileTestKit;

namespace EdgeAe.Tests.Quantization;

/// <summary>
/// The int8 form of the weight file ('PARM' element type 2): round trips, typed errors when a file of one precision
/// meets a model of the other, and corrupt int8 sections rejected like every other section.
/// </summary>
public sealed class Int8WeightFileTests
{
    [Theory]
    [InlineData(nameof(DeepBceAe))]
    [InlineData(nameof(TiedDeepAe))]
    [InlineData(nameof(TailsAe))]
    public void An_int8_file_round_trips_exactly(string name)
    {
        (_, QuantizedAutoencoder int8, QuantizedParameters parameters, Dataset data) = Int8ModelTests.Quantized(name);
        Normalization normalization = Standardization(parameters.InputSize, 3);
        byte[] bytes = WeightFile.ToBytes(parameters, normalization);
        Assert.True(WeightFileFormat.TryParse(bytes, out WeightFileData? parsed, out string error), error);
        Assert.Equal(WeightFileFormat.ElementTypeInt8, parsed!.ElementType);
        Assert.Equal(bytes, WeightFileFormat.Write(parsed));

        using var folder = new TempFolder();
        string path = folder.File("model.int8.eaw");
        WeightFile.Save(path, parameters, normalization);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        QuantizedWeights read = WeightFile.ReadQuantized(path);
        Assert.Equal(normalization.Offset.ToArray(), read.Normalization.Offset.ToArray());

        QuantizedAutoencoder loaded = TestModels.Int8[name]();
        Normalization loadedNormalization = WeightFile.Load(path, loaded);
        Assert.Equal(normalization.Kind, loadedNormalization.Kind);
        var a = new float[parameters.InputSize];
        var b = new float[parameters.InputSize];
        for (int s = 0; s < 8; s++)
        {
            int8.Reconstruct(data[s], a);
            loaded.Reconstruct(data[s], b);
            Assert.Equal(Bits(a), Bits(b));
        }

        // Saving the int8 model itself writes the same file.
        string again = folder.File("again.eaw");
        WeightFile.Save(again, loaded, normalization);
        Assert.Equal(bytes, File.ReadAllBytes(again));

        WeightFileInfo info = WeightFile.Read(path);
        Assert.True(info.IsInt8);
        Assert.Equal(WeightFileFormat.ElementTypeInt8, info.ElementType);
        Assert.Equal(parameters.Layers.Sum(l => (l.InputWidth + 1) * l.Width), info.ParameterCount);
        Assert.Equal(parameters.Layers[0].Shift, info.Quantization!.Layers[0].Shift);
    }

    [Fact]
    public void An_int8_file_keeps_the_optional_sections_it_is_saved_with()
    {
        (IAutoencoder model, _, QuantizedParameters parameters, Dataset data) = Int8ModelTests.Quantized(nameof(DeepBceAe));
        Normalization normalization = Standardization(parameters.InputSize, 3);
        var extras = new WeightFileExtras
        {
            Codec = global::EdgeAe.Compression.CodeQuantizer.For(model, data, 8),
            Baseline = global::EdgeAe.Baselines.Pca.Fit(data, model.Topology.CodeSize, TestContext.Current.CancellationToken),
            Threshold = new global::EdgeAe.Anomaly.AnomalyThreshold(0.125f, global::EdgeAe.Anomaly.CalibrationMethod.Parse("percentile:99"), data.Count),
        };

        using var folder = new TempFolder();
        string path = folder.File("sections.int8.eaw");
        WeightFile.Save(path, parameters, normalization, extras);
        WeightFileInfo info = WeightFile.Read(path);
        Assert.True(info.IsInt8);
        Assert.Equal(8, info.CodeBits);
        Assert.Equal(extras.Baseline.Basis.ToArray(), info.Baseline!.Basis.ToArray());
        Assert.Equal(extras.Baseline.Mean.ToArray(), info.Baseline.Mean.ToArray());
        Assert.Equal(extras.Threshold, info.AnomalyThreshold);

        // The int8 model still loads from it, and the codec reads its ranges.
        QuantizedAutoencoder loaded = TestModels.Int8[nameof(DeepBceAe)]();
        WeightFile.Load(path, loaded);
        Assert.Equal(extras.Codec.Min.ToArray(), global::EdgeAe.Compression.PacketCodec.Load(path, loaded).Quantizer.Min.ToArray());

        // The codec overload is the extras overload with the codec alone.
        string codecOnly = folder.File("codec.int8.eaw");
        WeightFile.Save(codecOnly, parameters, normalization, extras.Codec);
        Assert.Equal(WeightFile.ToBytes(parameters, normalization, new WeightFileExtras { Codec = extras.Codec }), File.ReadAllBytes(codecOnly));
    }

    [Fact]
    public void An_int8_file_into_a_float_model_and_a_float_file_into_an_int8_model_are_typed_errors_naming_both()
    {
        (IAutoencoder model, QuantizedAutoencoder int8, QuantizedParameters parameters, _) = Int8ModelTests.Quantized(nameof(DeepBceAe));
        byte[] int8File = WeightFile.ToBytes(parameters, Normalization.None);
        int[] before = Bits(model.Parameters);
        WeightFileException e = AssertRejected(int8File, model, before, "int8 into float");
        Assert.Equal(WeightFileErrorReason.PrecisionMismatch, e.Reason);
        Assert.Contains("holds an int8 model", e.Message);
        Assert.Contains("EdgeAe.Tests.Models.DeepBceAe is a float32 model", e.Message);
        Assert.Contains("DeepBceAe.Int8", e.Message);

        byte[] floatFile = WeightFile.ToBytes(model, Normalization.None);
        QuantizedParameters? loaded = int8.Quantization;
        e = Assert.Throws<WeightFileException>(() => WeightFile.Load(floatFile, int8, "float into int8"));
        Assert.Equal(WeightFileErrorReason.PrecisionMismatch, e.Reason);
        Assert.Contains("holds float32 parameters", e.Message);
        Assert.Contains("DeepBceAe+Int8 is an int8 model", e.Message);
        Assert.Same(loaded, int8.Quantization);

        using var folder = new TempFolder();
        string path = folder.File("float.eaw");
        File.WriteAllBytes(path, floatFile);
        e = Assert.Throws<WeightFileException>(() => WeightFile.ReadQuantized(path));
        Assert.Equal(WeightFileErrorReason.PrecisionMismatch, e.Reason);
    }

    [Fact]
    public void An_int8_file_of_another_topology_is_a_mismatch()
    {
        (_, _, QuantizedParameters parameters, _) = Int8ModelTests.Quantized(nameof(DeepBceAe));
        byte[] bytes = WeightFile.ToBytes(parameters, Normalization.None);
        WeightFileException e = Assert.Throws<WeightFileException>(() => WeightFile.Load(bytes, new DigitsAe.Int8(), "deep into digits"));
        Assert.Equal(WeightFileErrorReason.TopologyMismatch, e.Reason);
    }

    [Fact]
    public void Every_single_byte_change_and_truncation_is_rejected_and_leaves_the_model_running_its_parameters()
    {
        (_, QuantizedAutoencoder int8, QuantizedParameters parameters, _) = Int8ModelTests.Quantized(nameof(DeepBceAe));
        byte[] valid = WeightFile.ToBytes(parameters, Normalization.None);
        for (int i = 0; i < valid.Length; i++)
        {
            byte[] bytes = (byte[])valid.Clone();
            bytes[i] ^= 0x24;
            Assert.Throws<WeightFileException>(() => WeightFile.Load(bytes, int8, $"byte {i}"));
            Assert.Same(parameters, int8.Quantization);
        }

        for (int length = 0; length < valid.Length; length += 7)
        {
            Assert.Throws<WeightFileException>(() => WeightFile.Load(valid[..length], int8, $"length {length}"));
        }
    }

    [Fact]
    public void Seeded_mutations_with_a_repaired_checksum_fail_as_weight_file_errors_or_load_valid_int8_data()
    {
        (_, QuantizedAutoencoder int8, QuantizedParameters parameters, _) = Int8ModelTests.Quantized(nameof(TiedDeepAe));
        byte[] valid = WeightFile.ToBytes(parameters, Normalization.None);
        var random = new Random(5);
        int accepted = 0;
        for (int k = 0; k < 3000; k++)
        {
            byte[] bytes = Mutate(valid, random);
            FixChecksum(bytes);
            try
            {
                WeightFile.Load(bytes, int8, $"mutation {k}");
                accepted++;
                int8.Load(parameters);
            }
            catch (WeightFileException)
            {
                Assert.Same(parameters, int8.Quantization);
            }
        }

        TestContext.Current.SendDiagnosticMessage($"{accepted} of 3000 repaired mutations were valid int8 files");
    }

    public static TheoryData<string, string> Corruptions => new()
    {
        { "shift", "shifts by 30 (expected 31..62)" },
        { "weight", "weight -128 in int8 layer 0 W[0]" },
        { "zero point", "input zero point is 128 (expected -128..127)" },
        { "scale", "z scale of layer 1 is NaN" },
        { "bits", "has 16-bit outputs" },
        { "relu", "its z and output quantisation must be the same" },
        { "bias", "is beyond ±2^29" },
        { "multiplier", "multiplier 0 of int8 layer 0 is negative" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Corrupt_int8_constants_are_rejected_with_a_precise_message(string what, string message)
    {
        // DeepBceAe: 7 → 6 ReLU → 5 tanh → 3 sigmoid → 5 linear → 6 ReLU → 7 sigmoid.
        (_, QuantizedAutoencoder int8, QuantizedParameters parameters, _) = Int8ModelTests.Quantized(nameof(DeepBceAe));
        Assert.True(WeightFileFormat.TryParse(WeightFile.ToBytes(parameters, Normalization.None), out WeightFileData? data, out _));
        Int8Data d = data!.Int8!;
        switch (what)
        {
            case "shift": d.Layers[2].Shift = 30; break;
            case "weight": d.Layers[0].Weights[0] = sbyte.MinValue; break;
            case "zero point": d.InputZeroPoint = 128; break;
            case "scale": d.Layers[1].ZScale = float.NaN; break;
            case "bits": d.Layers[3].OutputBits = 16; break;
            case "relu": d.Layers[0].OutputZeroPoint = d.Layers[0].ZZeroPoint + 1; break;
            case "bias": d.Layers[4].Biases[1] = WeightFileFormat.Int8MaxBias + 1; break;
            default: d.Layers[0].Multipliers[0] = -1; break;
        }

        WeightFileException e = Assert.Throws<WeightFileException>(() => WeightFile.Load(WeightFileFormat.Write(data), int8, what));
        Assert.Contains(message, e.Message);
        Assert.Equal(what == "scale" ? WeightFileErrorReason.NonFiniteWeight : WeightFileErrorReason.Malformed, e.Reason);
        Assert.Same(parameters, int8.Quantization);
    }

    /// <summary>A temporary folder removed at dispose.</summary>
    private sealed class TempFolder : IDisposable
    {
        private readonly string _path = Directory.CreateTempSubdirectory("edgeae-int8-").FullName;

        public string File(string name) => Path.Combine(_path, name);

        public void Dispose() => Directory.Delete(_path, recursive: true);
    }
}
