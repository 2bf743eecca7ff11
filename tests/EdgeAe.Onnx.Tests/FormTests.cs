using EdgeAe.IO;

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// Graphs in each exporter's form (built here with the generated protobuf classes) at opsets 9, 13 and 18 import,
/// and the imported model — EdgeAe's generated code with the imported weight file — matches ONNX Runtime on the same
/// file within 1e-5.
/// </summary>
public sealed class FormTests(ModelsFixture models)
{
    private const double Tolerance = 1e-5;

    // The matrix models the imports load into: 16 → 8 → 4 → 8 → 16.
    private static readonly int[] Widths = [16, 8, 4, 8, 16];
    private static readonly string[] Relu = ["Relu", "Relu", "Relu", "Sigmoid"];
    private static readonly string[] Sigmoids = ["Sigmoid", "Sigmoid", "Sigmoid", "Sigmoid"];

    public static TheoryData<string, int> Forms()
    {
        var data = new TheoryData<string, int>();
        foreach (string form in new[] { "TorchScript", "Dynamo", "Tf2onnx" })
        {
            foreach (int opset in new[] { 9, 13, 18 })
            {
                data.Add(form, opset);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Exporter_form_imports_and_matches_Onnx_Runtime(string form, int opset)
    {
        var reference = new ReferenceAe(seed: opset, Widths, Relu);
        string[] nodes;
        (byte[] onnx, OnnxImportOptions options, string inputName, string note) = form switch
        {
            "TorchScript" => (reference.TorchScript(opset, out nodes), new OnnxImportOptions { CodeLayer = 1 }, "input.1", "code: layer 1, as given"),
            "Dynamo" => (reference.Dynamo(opset, codeLayer: 1, out nodes), new OnnxImportOptions(), "x", "code: layer 1, whose output 'code' is a graph output"),
            _ => (reference.Tf2onnx(opset, out nodes), new OnnxImportOptions { CodeOutput = "model/dense_1/Relu:0" }, "input_1", "code: layer 1, the layer that produces 'model/dense_1/Relu:0'"),
        };

        ImportedModel imported = OnnxImporter.Import(onnx, form + ".onnx", options);
        Assert.Equal(nodes, imported.Layers.Select(l => l.Node[(l.Node.IndexOf('\'') + 1)..l.Node.LastIndexOf('\'')]));
        Assert.Contains(imported.Notes, n => n.StartsWith(note, StringComparison.Ordinal));
        Assert.Contains(imported.Notes, n => n.StartsWith("loss: BinaryCrossEntropy, inferred from the Sigmoid output", StringComparison.Ordinal));
        Assert.Contains("[Encoder(8, Activation.Relu)]", imported.Declaration);
        Assert.Contains("[Code(4, Activation.Relu)]", imported.Declaration);
        Assert.Contains("[Decoder(8, Activation.Relu)]", imported.Declaration);
        Assert.Contains("[Output(Activation.Sigmoid)]", imported.Declaration);
        double worst = MatchesOnnxRuntime(onnx, inputName, imported, "ReluBce4", form == "Tf2onnx" ? [4, 4] : null);
        TestContext.Current.SendDiagnosticMessage($"{form} opset {opset}: worst error against ONNX Runtime {worst:E2}");
    }

    [Fact]
    public void Tied_TorchScript_graph_imports_as_tied_weights()
    {
        var reference = new ReferenceAe(seed: 4, Widths, Sigmoids, tied: true);
        byte[] onnx = reference.TorchScript(13, out _);
        ImportedModel imported = OnnxImporter.Import(onnx, "tied.onnx", new OnnxImportOptions { CodeLayer = 1 });
        Assert.True(imported.TiedWeights);
        Assert.Contains("TiedWeights = true", imported.Declaration);
        Assert.Contains(imported.Notes, n => n.StartsWith("tied weights", StringComparison.Ordinal));
        Assert.Equal((16 * 8) + (8 * 4) + 8 + 4 + 8 + 16, imported.ParameterCount);
        MatchesOnnxRuntime(onnx, "input.1", imported, "SigmoidBce4Tied");
    }

    [Fact]
    public void Transposed_layout_with_transA_imports_and_matches_Onnx_Runtime()
    {
        var reference = new ReferenceAe(seed: 8, Widths, Relu);
        byte[] onnx = reference.FeatureMajor(13);
        ImportedModel imported = OnnxImporter.Import(onnx, "columns.onnx", new OnnxImportOptions { CodeLayer = 1 });
        MatchesOnnxRuntime(onnx, "x", imported, "ReluBce4");
    }

    /// <summary>Loads the imported weight file into the compiled matrix model and compares Reconstruct with ONNX Runtime.</summary>
    private double MatchesOnnxRuntime(byte[] onnx, string inputName, ImportedModel imported, string modelName, int[]? sampleDims = null)
    {
        IAutoencoder model = models.Create(modelName, seed: 77);
        string path = Path.Combine(Path.GetTempPath(), $"edgeae-onnx-form-{Guid.NewGuid():N}.eaw");
        try
        {
            File.WriteAllBytes(path, imported.WeightFile.ToArray());
            WeightFile.Load(path, model);
        }
        finally
        {
            File.Delete(path);
        }

        int width = model.Topology.InputSize;
        var random = new Random(11);
        const int batch = 5;
        float[] x = Enumerable.Range(0, batch * width).Select(_ => random.NextSingle()).ToArray();
        float[] ort = Ort.Run(onnx, inputName, x, width, sampleDims).Values.Single(v => v.Length == batch * width);
        var output = new float[width];
        double worst = 0;
        for (int s = 0; s < batch; s++)
        {
            model.Reconstruct(x.AsSpan(s * width, width), output);
            double error = Ort.RelativeError(output, ort.AsSpan(s * width, width));
            Assert.True(error <= Tolerance, $"sample {s}: EdgeAe differs from ONNX Runtime by {error:E3} relative");
            worst = Math.Max(worst, error);
        }

        return worst;
    }
}
