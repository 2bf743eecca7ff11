using Onnx;

namespace EdgeAe.Onnx.Tests;

/// <summary>ONNX's own backend conformance cases (exported by PyTorch at opset 6): Conformance/README.md.</summary>
public sealed class ConformanceTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Conformance");

    /// <summary>Every case in the folder, with what the importer must do with it (a new case fails until it is listed).</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (string dir in Directory.GetDirectories(Root).SelectMany(Directory.GetDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Root, dir));
        }

        return data;
    }

    /// <summary>Inside the supported subset: a dense chain; the rest: the typed error, naming node and operator.</summary>
    private static readonly Dictionary<string, (OnnxImportError? Error, string? OpType)> Expected = new()
    {
        ["pytorch-converted/test_Linear"] = (null, null),
        ["pytorch-converted/test_Linear_no_bias"] = (null, null),
        ["pytorch-converted/test_Sigmoid"] = (null, null),
        ["pytorch-converted/test_Tanh"] = (null, null),
        ["pytorch-converted/test_ReLU"] = (null, null),
        ["pytorch-converted/test_ELU"] = (OnnxImportError.UnsupportedOperator, "Elu"),
        ["pytorch-converted/test_LeakyReLU"] = (OnnxImportError.UnsupportedOperator, "LeakyRelu"),
        ["pytorch-converted/test_Softplus"] = (OnnxImportError.UnsupportedOperator, "Softplus"),
        // Weights fed as graph inputs (x, W, b are all inputs): not a model with stored weights.
        ["pytorch-operator/test_operator_addmm"] = (OnnxImportError.UnsupportedStructure, null),
        ["pytorch-operator/test_operator_mm"] = (OnnxImportError.UnsupportedStructure, null),
        ["pytorch-operator/test_operator_basic"] = (OnnxImportError.UnsupportedStructure, null),
        // One input, one initializer, but Add of two computed values / Mul: the first failing node is named.
        ["pytorch-operator/test_operator_params"] = (OnnxImportError.UnsupportedStructure, "Add"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_imports_and_reproduces_its_output_or_fails_with_the_typed_error(string name)
    {
        Assert.True(Expected.TryGetValue(name, out var expected), $"conformance case {name} has no expected outcome");
        string dir = Path.Combine(Root, name);
        byte[] model = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        if (expected.Error is OnnxImportError error)
        {
            var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.ReadNetwork(model, name));
            Assert.Equal(error, e.Reason);
            if (expected.OpType is not null)
            {
                Assert.Equal(expected.OpType, e.OpType);
                Assert.NotNull(e.NodeName);
                Assert.Contains($"({expected.OpType})", e.Message);
                Assert.Contains("supported", e.Message);
            }

            // The autoencoder import fails the same way.
            Assert.Equal(error, Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(model, name)).Reason);
            return;
        }

        DenseNetwork network = OnnxImporter.ReadNetwork(model, name);
        TensorProto input = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "test_data_set_0", "input_0.pb")));
        TensorProto output = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "test_data_set_0", "output_0.pb")));
        float[] x = Tensors.Read(input, "input", "input_0.pb", "the tensor").Floats!;
        float[] y = Tensors.Read(output, "output", "output_0.pb", "the tensor").Floats!;
        int batch = (int)input.Dims[0];
        int outWidth = y.Length / batch;
        Assert.Equal(network.InputWidth * batch, x.Length);
        double worst = 0;
        for (int s = 0; s < batch; s++)
        {
            float[] got = network.Evaluate(x.AsSpan(s * network.InputWidth, network.InputWidth), network.Steps.Count);
            Assert.Equal(outWidth, got.Length);
            for (int j = 0; j < outWidth; j++)
            {
                float want = y[(s * outWidth) + j];
                double relative = Math.Abs(got[j] - want) / Math.Max(Math.Abs(want), 1e-30);
                worst = Math.Max(worst, Math.Abs(got[j] - want) <= 1e-5 * Math.Abs(want) ? 0 : relative);
                Assert.True(Math.Abs(got[j] - want) <= 1e-5 * Math.Abs(want) + 1e-30, $"{name}: sample {s}, value {j}: {got[j]:R} vs {want:R}");
            }
        }

        // Inside the op subset but not autoencoders: the second step names why.
        var notAutoencoder = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(model, name));
        Assert.Equal(OnnxImportError.NotAnAutoencoder, notAutoencoder.Reason);
        TestContext.Current.SendDiagnosticMessage($"{name}: {network} reproduced ({batch} samples); as an autoencoder: {notAutoencoder.Message}");
    }
}
