using Google.Protobuf;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Quantization;
using Onnx;

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// Int8 weight files exported as QDQ graphs: ONNX Runtime runs them and agrees with EdgeAe's int8 model within one
/// output code per value (its requantisation rounds in float, EdgeAe's in fixed point) for every activation, loss,
/// depth and tying of the round-trip matrix.
/// </summary>
public sealed class QdqExportTests(ModelsFixture models) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-qdq-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Cases => new(Matrix.Cases.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Onnx_runtime_runs_the_qdq_graph_as_edgeae_runs_the_int8_model(string name)
    {
        IAutoencoder model = models.Create(name);
        RoundTripTests.Randomize(model, seed: name.Length * 31); // non-zero biases: each layer's bias has its own input scale
        var random = new Random(name.Length * 7);
        bool bce = model.Topology.Loss == LossKind.BinaryCrossEntropy;
        const int Samples = 32;
        float[] inputs = Enumerable.Range(0, Samples * 16).Select(_ => bce ? (float)random.NextDouble() : (float)(random.NextDouble() * 4 - 2)).ToArray();
        QuantizedParameters parameters = Quantizer.Quantize(model, new Dataset(inputs, Samples, 16)).Parameters;
        string path = Path.Combine(_folder, name + ".int8.eaw");
        WeightFile.Save(path, parameters, Normalization.None);

        byte[] onnx = OnnxExporter.ExportWeightFile(path);
        ModelProto proto = ModelProto.Parser.ParseFrom(onnx);
        Assert.Contains(proto.Graph.Node, n => n.OpType == "QuantizeLinear");
        Assert.Contains(proto.Graph.Initializer, t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count == 2);
        Assert.Contains(proto.MetadataProps, p => p.Key == "edgeae.precision" && p.Value == "int8");

        Dictionary<string, float[]> ort = Ort.Run(onnx, OnnxExporter.InputName, inputs, 16);
        QuantizedLayer output = parameters.Layers[^1], code = parameters.Layers[parameters.CodeLayerIndex];
        int differentCodes = 0;
        for (int s = 0; s < Samples; s++)
        {
            float[] expectedCode = Int8Reference.Encode(parameters, inputs.AsSpan(s * 16, 16));
            float[] expected = Int8Reference.Reconstruct(parameters, inputs.AsSpan(s * 16, 16));
            for (int j = 0; j < expectedCode.Length; j++)
            {
                float found = ort[OnnxExporter.CodeName][s * expectedCode.Length + j];
                Assert.True(Math.Abs(found - expectedCode[j]) <= 1.01f * code.Output.Scale, $"{name}: code {s}.{j}: ORT {found}, EdgeAe {expectedCode[j]} (step {code.Output.Scale})");
                differentCodes += found == expectedCode[j] ? 0 : 1;
            }

            // A code one step off moves the decoder's inputs: the reconstruction agrees within a few output steps.
            for (int j = 0; j < 16; j++)
            {
                float found = ort[OnnxExporter.ReconstructionName][s * 16 + j];
                Assert.True(Math.Abs(found - expected[j]) <= 6.01f * output.Output.Scale, $"{name}: reconstruction {s}.{j}: ORT {found}, EdgeAe {expected[j]} (step {output.Output.Scale})");
            }
        }

        TestContext.Current.SendDiagnosticMessage($"{name}: {differentCodes} of {Samples * code.Width} codes one step apart");
    }

    [Fact]
    public void An_int8_model_needs_opset_13()
    {
        IAutoencoder model = models.Create(Matrix.Cases[0].Name);
        var data = new Dataset(new float[16 * 4], 4, 16);
        string path = Path.Combine(_folder, "opset.int8.eaw");
        WeightFile.Save(path, Quantizer.Quantize(model, data).Parameters, Normalization.None);
        ArgumentException e = Assert.Throws<ArgumentException>(() => OnnxExporter.ExportWeightFile(path, new OnnxExportOptions { Opset = 12 }));
        Assert.Contains("from opset 13 on", e.Message);
    }

    [Fact]
    public void The_qdq_graph_carries_the_int8_files_code_range_as_the_float32_export_does()
    {
        IAutoencoder model = models.Create(Matrix.Cases[0].Name);
        var data = new Dataset(Enumerable.Range(0, 16 * 8).Select(i => (i % 17) / 17f).ToArray(), 8, 16);
        int codeSize = model.Topology.CodeSize;
        float[] min = Enumerable.Range(0, codeSize).Select(j => -1f - (j / 8f)).ToArray();
        float[] max = Enumerable.Range(0, codeSize).Select(j => 1f + (j / 3f)).ToArray();
        string path = Path.Combine(_folder, "range.int8.eaw");
        WeightFile.Save(path, Quantizer.Quantize(model, data).Parameters, Normalization.None, new Compression.CodeQuantizer(16, min, max));

        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxExporter.ExportWeightFile(path));
        Dictionary<string, string> metadata = proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("16", metadata["edgeae.code_bits"]);
        Assert.Equal(min, metadata["edgeae.code_min"].Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(max, metadata["edgeae.code_max"].Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Importing_a_quantised_graph_says_what_it_is_and_what_to_do()
    {
        IAutoencoder model = models.Create(Matrix.Cases[0].Name);
        var data = new Dataset(Enumerable.Range(0, 16 * 8).Select(i => (i % 17) / 17f).ToArray(), 8, 16);
        string path = Path.Combine(_folder, "import.int8.eaw");
        WeightFile.Save(path, Quantizer.Quantize(model, data).Parameters, Normalization.None);
        byte[] onnx = OnnxExporter.ExportWeightFile(path);

        OnnxImportException e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(onnx, "qdq.onnx"));
        Assert.Equal(OnnxImportError.UnsupportedOperator, e.Reason);
        Assert.StartsWith("qdq.onnx is a quantised graph (node 'input.quantize' is QuantizeLinear; EdgeAe exported it from an int8 weight file)", e.Message);
        Assert.Contains("import the float32 model and quantise it here (edgeae quantize, Quantizer.Quantize)", e.Message);

        // Without EdgeAe's metadata (another tool's QDQ graph) the advice stays, the attribution goes.
        ModelProto proto = ModelProto.Parser.ParseFrom(onnx);
        proto.MetadataProps.Clear();
        e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(proto.ToByteArray(), "other.onnx"));
        Assert.StartsWith("other.onnx is a quantised graph (node 'input.quantize' is QuantizeLinear): import reads float32 graphs", e.Message);
    }
}
