using System.Runtime.InteropServices;
using EdgeAe.Data;
using EdgeAe.IO;

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// Export → ONNX Runtime gives EdgeAe's outputs within 1e-6 relative; export → import gives identical parameters — for
/// every activation × loss × depth × tied/untied declaration of <see cref="Matrix"/>.
/// </summary>
public sealed class RoundTripTests(ModelsFixture models)
{
    private const int Batch = 6;
    private const double Tolerance = 1e-6;

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (MatrixCase c in Matrix.Cases)
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Onnx_Runtime_reproduces_the_model_and_import_restores_every_parameter(string name)
    {
        IAutoencoder model = models.Create(name);
        Randomize(model, seed: name.Length * 7919);
        ModelTopology topology = model.Topology;
        int input = topology.InputSize, code = topology.CodeSize;
        var normalization = new Normalization(NormalizationKind.Standardize,
            Enumerable.Range(0, input).Select(i => 0.25f * i).ToArray(), Enumerable.Range(0, input).Select(i => 1f + (0.5f * i)).ToArray());
        var random = new Random(5);
        float[] x = Enumerable.Range(0, Batch * input).Select(_ => random.NextSingle()).ToArray();

        // EdgeAe's own outputs, sample by sample.
        var codes = new float[Batch * code];
        var reconstructions = new float[Batch * input];
        var decoded = new float[Batch * input];
        for (int s = 0; s < Batch; s++)
        {
            model.Encode(x.AsSpan(s * input, input), codes.AsSpan(s * code, code));
            model.Reconstruct(x.AsSpan(s * input, input), reconstructions.AsSpan(s * input, input));
            model.Decode(codes.AsSpan(s * code, code), decoded.AsSpan(s * input, input));
        }

        byte[] onnx = OnnxExporter.Export(model, normalization);
        Dictionary<string, float[]> full = Ort.Run(onnx, OnnxExporter.InputName, x, input);
        float[] encoderCodes = Ort.Run(OnnxExporter.Export(model, normalization, new OnnxExportOptions { Part = OnnxGraphPart.Encoder }), OnnxExporter.InputName, x, input)[OnnxExporter.CodeName];
        float[] decoderOut = Ort.Run(OnnxExporter.Export(model, normalization, new OnnxExportOptions { Part = OnnxGraphPart.Decoder }), OnnxExporter.CodeName, codes, code)[OnnxExporter.ReconstructionName];
        double worst = new[]
        {
            Check(full[OnnxExporter.CodeName], codes, "code"),
            Check(full[OnnxExporter.ReconstructionName], reconstructions, "reconstruction"),
            Check(encoderCodes, codes, "encoder part"),
            Check(decoderOut, decoded, "decoder part"),
        }.Max();

        // Export → import: the same declaration and bit-identical parameters (padding included) and normalisation.
        ImportedModel imported = OnnxImporter.Import(onnx, name + ".onnx", new OnnxImportOptions { ClassName = name });
        Assert.Equal(topology.InputSize, imported.InputSize);
        Assert.Equal(topology.Loss, imported.Loss);
        Assert.Equal(topology.TiedWeights, imported.TiedWeights);
        Assert.Equal(topology.CodeLayerIndex, imported.CodeLayerIndex);
        Assert.Equal(topology.Layers.Select(l => (l.Role, l.InputWidth, l.Width, l.Activation)), imported.Layers.Select(l => (l.Role, l.InputWidth, l.Width, l.Activation)));
        Assert.Equal(normalization, imported.Normalization);
        string path = Path.Combine(Path.GetTempPath(), $"edgeae-onnx-{Guid.NewGuid():N}.eaw");
        try
        {
            // The live model's export imports to the very file model.Save writes: the same CRC-32, so the same packet model id.
            WeightFile.Save(path, model, normalization);
            Assert.Equal(File.ReadAllBytes(path), imported.WeightFile.ToArray());
            File.WriteAllBytes(path, imported.WeightFile.ToArray());
            IAutoencoder restored = models.Create(name, seed: 12345);
            Assert.Equal(normalization, WeightFile.Load(path, restored));
            Assert.True(MemoryMarshal.AsBytes(restored.Parameters).SequenceEqual(MemoryMarshal.AsBytes(model.Parameters)), "parameters differ after export → import");
        }
        finally
        {
            File.Delete(path);
        }

        TestContext.Current.SendDiagnosticMessage($"{name}: worst ONNX Runtime error {worst:E2} relative; import restored {topology.ParameterCount} parameters bit for bit");
    }

    /// <summary>The error of a whole output tensor (the batch) relative to its largest value; fails above 1e-6.</summary>
    private static double Check(float[] ort, float[] edgeAe, string what)
    {
        double error = Ort.RelativeError(ort, edgeAe);
        Assert.True(error <= Tolerance, $"{what}: ONNX Runtime differs from EdgeAe by {error:E3} relative (> {Tolerance:E0})");
        return error;
    }

    /// <summary>Every weight and bias from a seeded uniform draw in [−1, 1) (biases start at 0 otherwise); padding stays 0.</summary>
    internal static void Randomize(IAutoencoder model, int seed)
    {
        var random = new Random(seed);
        Span<float> p = model.Parameters;
        foreach (LayerInfo layer in model.Topology.Layers)
        {
            if (!layer.IsTied)
            {
                foreach (ref float w in p.Slice(layer.WeightOffset, layer.WeightCount))
                {
                    w = (random.NextSingle() * 2f) - 1f;
                }
            }

            foreach (ref float b in p.Slice(layer.BiasOffset, layer.Width))
            {
                b = (random.NextSingle() * 2f) - 1f;
            }
        }
    }
}
