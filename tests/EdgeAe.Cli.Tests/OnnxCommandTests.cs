using System.Text;

namespace EdgeAe.Cli.Tests;

/// <summary>
/// <c>edgeae export --onnx</c> and <c>edgeae import</c> through the real tool: the imported pair evaluates to the same
/// figures as the original, and every failure is one line with nothing written.
/// </summary>
public sealed class OnnxCommandTests(TrainedDigits trained) : IClassFixture<TrainedDigits>, IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void Export_then_import_evaluates_to_the_same_figures_as_the_original()
    {
        string onnx = _tool.PathOf("digits.onnx"), declaration = _tool.PathOf("Model.cs"), weights = _tool.PathOf("w2.eaw");
        ToolRun export = _tool.Run("export", "--weights", trained.Weights, "--onnx", onnx);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("64→16→64 (Sigmoid, Sigmoid), BinaryCrossEntropy", export.Output);
        Assert.Contains("input 'input' → output 'reconstruction', 'code'", export.Output);

        ToolRun import = _tool.Run("import", onnx, "--out", declaration, "--weights", weights);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("code: layer 0, marked in the metadata", import.Output);
        Assert.Contains("loss: BinaryCrossEntropy, from the metadata", import.Output);
        Assert.Contains("public partial class Model;", File.ReadAllText(declaration));

        ToolRun original = _tool.Run("eval", "--weights", trained.Weights);
        ToolRun roundTrip = _tool.Run("eval", "--weights", weights, "--model", declaration);
        Assert.True(original.ExitCode == 0, original.ToString());
        Assert.True(roundTrip.ExitCode == 0, roundTrip.ToString());
        string[] Figures(ToolRun run) => run.Output.Split('\n').Where(l => l.StartsWith("mean ", StringComparison.Ordinal) || l.StartsWith("MSE ", StringComparison.Ordinal) || l.StartsWith("PSNR ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, Figures(original).Length);
        Assert.Equal(Figures(original), Figures(roundTrip));

        // The encoder and decoder parts, and an export checked against a declaration.
        Assert.Equal(0, _tool.Run("export", "--weights", weights, "--onnx", _tool.PathOf("enc.onnx"), "--part", "encoder").ExitCode);
        ToolRun decoder = _tool.Run("export", "--weights", weights, "--onnx", _tool.PathOf("dec.onnx"), "--part", "decoder", "--model", declaration);
        Assert.True(decoder.ExitCode == 0, decoder.ToString());
        Assert.StartsWith("Model: 64→16→64", decoder.Output);
        Assert.Contains("input 'code' → output 'reconstruction'", decoder.Output);
    }

    [Fact]
    public void A_calibrated_code_quantised_weight_file_comes_back_whole_with_its_packet_model_id()
    {
        // Standardised data, a linear code (its range measured in training, 'qant'), a threshold (calibrate, 'anom'),
        // the PCA baseline train stores ('pcab'): every section a weight file can hold.
        string model = _tool.PathOf("Se.cs");
        File.WriteAllText(model, """
            using EdgeAe;

            [Autoencoder(Input = 64, Loss = Loss.SquaredError, Seed = 3)]
            [Encoder(24, Activation.Tanh)]
            [Code(8, Activation.Linear)]
            [Decoder(24, Activation.Tanh)]
            [Output(Activation.Linear)]
            public partial class SeAe;
            """);
        string trained = _tool.PathOf("se.eaw"), calibrated = _tool.PathOf("se.cal.eaw"), onnx = _tool.PathOf("se.onnx");
        string declaration = _tool.PathOf("Imported.cs"), imported = _tool.PathOf("imported.eaw");
        ToolRun train = _tool.Run("train", "--model", model, "--standardize", "--code-bits", "8", "--epochs", "2", "--no-plots", "--out", trained);
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Equal(0, _tool.Run("calibrate", "--weights", trained, "--model", model, "--method", "percentile:99", "--out", calibrated).ExitCode);
        Assert.Equal(0, _tool.Run("export", "--weights", calibrated, "--onnx", onnx).ExitCode);
        ToolRun import = _tool.Run("import", onnx, "--out", declaration, "--weights", imported);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("anomaly threshold: ", import.Output);
        Assert.Contains("weight file: the one exported (the same CRC-32, 0x", import.Output);

        // The same file, so the same CRC-32 and the same packet model id.
        Assert.Equal(File.ReadAllBytes(calibrated), File.ReadAllBytes(imported));
        string[] Inspect(string weights) => _tool.Run("inspect", weights).Output.Split('\n')
            .Where(l => l.StartsWith("normalisation:", StringComparison.Ordinal) || l.StartsWith("code quantisation:", StringComparison.Ordinal)
                || l.StartsWith("anomaly threshold:", StringComparison.Ordinal) || l.StartsWith("PCA baseline:", StringComparison.Ordinal) || l.StartsWith("checksum:", StringComparison.Ordinal))
            .ToArray();
        string[] original = Inspect(calibrated);
        Assert.Equal(5, original.Length);
        Assert.Contains("anomaly threshold: ", original[3]);
        Assert.Contains("(percentile:99 on 1797 scores)", original[3]);
        Assert.Equal(original, Inspect(imported));

        // eval gives the same figures, the PCA baseline's included; compress without --bits (the stored code range)
        // writes the same packets, model id included.
        string[] Figures(ToolRun run) => run.Output.Split('\n').Where(l => l.StartsWith("mean ", StringComparison.Ordinal) || l.StartsWith("MSE ", StringComparison.Ordinal)
            || l.StartsWith("PSNR ", StringComparison.Ordinal) || l.StartsWith("PCA baseline", StringComparison.Ordinal)).ToArray();
        ToolRun before = _tool.Run("eval", "--weights", calibrated, "--model", model);
        ToolRun after = _tool.Run("eval", "--weights", imported, "--model", declaration);
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Equal(4, Figures(before).Length);
        Assert.Equal(Figures(before), Figures(after));
        Assert.Equal(0, _tool.Run("compress", "--weights", calibrated, "--model", model, "--out", _tool.PathOf("before.bin")).ExitCode);
        Assert.Equal(0, _tool.Run("compress", "--weights", imported, "--model", declaration, "--out", _tool.PathOf("after.bin")).ExitCode);
        Assert.Equal(File.ReadAllBytes(_tool.PathOf("before.bin")), File.ReadAllBytes(_tool.PathOf("after.bin")));
    }

    [Fact]
    public void An_unsupported_graph_is_one_line_and_writes_nothing()
    {
        string onnx = _tool.PathOf("digits.onnx");
        Assert.Equal(0, _tool.Run("export", "--weights", trained.Weights, "--onnx", onnx).ExitCode);
        byte[] bytes = File.ReadAllBytes(onnx);
        File.WriteAllBytes(onnx, Replace(bytes, "Sigmoid", "Softmax"));
        File.WriteAllText(_tool.PathOf("Model.cs"), "keep me");
        ToolRun run = _tool.Run("import", onnx, "--out", _tool.PathOf("Model.cs"), "--weights", _tool.PathOf("w2.eaw"));
        Assert.Equal(1, run.ExitCode);
        string[] lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("edgeae: node 'layer0.sigmoid' (Softmax): operator Softmax is not supported; supported: Gemm, MatMul, Add", lines[0]);
        Assert.Equal("keep me", File.ReadAllText(_tool.PathOf("Model.cs")));
        Assert.False(File.Exists(_tool.PathOf("w2.eaw")));
    }

    [Fact]
    public void Outputs_that_are_inputs_and_contradictory_options_are_refused()
    {
        string onnx = _tool.PathOf("digits.onnx");
        Assert.Equal(0, _tool.Run("export", "--weights", trained.Weights, "--onnx", onnx).ExitCode);
        byte[] before = File.ReadAllBytes(onnx);

        ToolRun same = _tool.Run("import", onnx, "--out", _tool.PathOf("Model.cs"), "--weights", Path.Combine(_tool.Folder, ".", "digits.onnx"));
        Assert.Equal(2, same.ExitCode);
        Assert.Contains("--weights", same.Error);
        Assert.Contains("is the same file as the ONNX file", same.Error);
        Assert.Contains($"edgeae: the ONNX file {_tool.Folder} is a folder, not an ONNX file", _tool.Run("import", _tool.Folder, "--out", _tool.PathOf("F.cs"), "--weights", _tool.PathOf("f.eaw")).Error);
        Assert.Contains($"edgeae: the weight file {_tool.Folder} is a folder, not a weight file", _tool.Run("inspect", _tool.Folder).Error);
        Assert.Equal(before, File.ReadAllBytes(onnx));
        Assert.False(File.Exists(_tool.PathOf("Model.cs")));

        Assert.Equal(2, _tool.Run("export", "--weights", trained.Weights, "--onnx", trained.Weights).ExitCode);
        Assert.Contains("--onnx needs --weights", _tool.Run("export", "--onnx", onnx).Error);
        Assert.Contains("give one of them", _tool.Run("export", "--weights", trained.Weights, "--onnx", onnx, "--out", "x.cs").Error);
        Assert.Contains("invalid value 'middle' for --part", _tool.Run("export", "--weights", trained.Weights, "--onnx", onnx, "--part", "middle").Error);
        Assert.Contains("invalid value 'hinge' for --loss", _tool.Run("import", onnx, "--out", "M.cs", "--weights", "m.eaw", "--loss", "hinge").Error);
        Assert.Contains("code layer 5 is out of range", _tool.Run("import", onnx, "--out", _tool.PathOf("M.cs"), "--weights", _tool.PathOf("m.eaw"), "--code-layer", "5").Error);
        Assert.Contains("ONNX file not found", _tool.Run("import", _tool.PathOf("none.onnx"), "--out", "M.cs", "--weights", "m.eaw").Error);
        Assert.Equal(before, File.ReadAllBytes(onnx));
    }

    private static byte[] Replace(byte[] bytes, string from, string to)
    {
        byte[] a = Encoding.ASCII.GetBytes(from), b = Encoding.ASCII.GetBytes(to);
        byte[] copy = (byte[])bytes.Clone();
        for (int i = 0; i + a.Length <= copy.Length; i++)
        {
            if (copy.AsSpan(i, a.Length).SequenceEqual(a))
            {
                b.CopyTo(copy, i);
            }
        }

        return copy;
    }
}
