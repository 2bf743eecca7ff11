using System.Globalization;
using System.Text.Json;
using EdgeAe.IO;

namespace EdgeAe.Cli.Tests;

/// <summary>
/// <c>quantize</c> and the commands that read its int8 files: eval (and <c>--json</c>, which scripts rely on), encode,
/// compress and decompress, inspect's per-layer scales, and the refusals (output over input, an int8 file again).
/// </summary>
public sealed class QuantizeCommandTests(TrainedDigits trained) : IClassFixture<TrainedDigits>
{
    private string Quantized(string name, params string[] extra)
    {
        string path = trained.Tool.PathOf(name);
        ToolRun run = trained.Tool.Run(["quantize", "--weights", trained.Weights, "--out", path, .. extra]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return path;
    }

    [Fact]
    public void Quantize_writes_an_int8_file_and_reports_every_layer()
    {
        string path = trained.Tool.PathOf("plain.int8.eaw");
        ToolRun run = trained.Tool.Run("quantize", "--weights", trained.Weights, "--out", path);
        Assert.True(run.ExitCode == 0, run.ToString());
        // Both files hold the same PCA baseline; the int8 parameters (with their scales and tables) take under half the
        // bytes of the 2,128 float32 ones.
        Assert.True(new FileInfo(trained.Weights).Length - new FileInfo(path).Length > 2128 * 4 / 2);
        Assert.Contains("calibration: 1,797 samples of bundled UCI digits, method minmax", run.Output);
        Assert.Contains("L0 code", run.Output);
        Assert.Contains("L1 output", run.Output);
        Assert.Contains("MSE on the calibration samples: float32", run.Output);
        Assert.Equal(string.Empty, run.Error);
    }

    [Fact]
    public void Eval_json_on_the_int8_file_reports_the_mse()
    {
        string path = Quantized("eval.int8.eaw");
        ToolRun floatRun = trained.Tool.Run("eval", "--weights", trained.Weights, "--json");
        ToolRun int8Run = trained.Tool.Run("eval", "--weights", path, "--json");
        Assert.True(int8Run.ExitCode == 0, int8Run.ToString());
        using JsonDocument f = JsonDocument.Parse(floatRun.Output);
        using JsonDocument q = JsonDocument.Parse(int8Run.Output);
        Assert.Equal("int8", q.RootElement.GetProperty("precision").GetString());
        Assert.Equal("float32", f.RootElement.GetProperty("precision").GetString());
        double floatMse = f.RootElement.GetProperty("mse").GetDouble();
        double int8Mse = q.RootElement.GetProperty("mse").GetDouble();
        Assert.InRange(int8Mse / floatMse, 0.9, 1.10);
        Assert.Equal(1797, q.RootElement.GetProperty("samples").GetInt32());
        Assert.Equal("bce", q.RootElement.GetProperty("loss").GetString());
    }

    [Theory]
    [InlineData("percentile")]
    [InlineData("mse")]
    public void Every_calibration_method_and_a_csv_calibration_file_work(string method)
    {
        // A CSV of the first 300 digits, in the raw units train reads (the weight file's normalisation divides by 16).
        string csv = trained.Tool.PathOf($"calibration-{method}.csv");
        Data.Dataset digits = Data.BundledData.Digits();
        File.WriteAllLines(csv, Enumerable.Range(0, 300).Select(s => string.Join(",", digits[s].ToArray().Select(v => (v * 16).ToString(CultureInfo.InvariantCulture)))));
        string path = Quantized($"{method}.int8.eaw", "--calibration", csv, "--method", method, "--json");
        ToolRun run = trained.Tool.Run("eval", "--weights", path);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("(int8)", run.Output);
    }

    [Fact]
    public void Quantize_json_lists_the_scales_of_every_layer()
    {
        string path = trained.Tool.PathOf("json.int8.eaw");
        ToolRun run = trained.Tool.Run("quantize", "--weights", trained.Weights, "--out", path, "--json", "--samples", "500");
        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument report = JsonDocument.Parse(run.Output);
        Assert.Equal(500, report.RootElement.GetProperty("calibration_samples").GetInt32());
        JsonElement layers = report.RootElement.GetProperty("layers");
        Assert.Equal(2, layers.GetArrayLength());
        Assert.True(layers[0].GetProperty("input_scale").GetDouble() > 0);
        Assert.InRange(layers[1].GetProperty("saturated_fraction").GetDouble(), 0, 0.05);
        Assert.True(report.RootElement.GetProperty("int8_mse").GetDouble() > 0);
    }

    [Fact]
    public void Inspect_shows_the_int8_scales()
    {
        string path = Quantized("inspect.int8.eaw");
        ToolRun run = trained.Tool.Run("inspect", path);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("int8 input: scale 0.00392157, zero point -128", run.Output);
        Assert.Contains("Sigmoid (table)", run.Output);
        Assert.Contains("weight scales", run.Output);
        Assert.Contains("int8 (int8 weights, int32 biases", run.Output);
    }

    [Fact]
    public void Inspect_json_lists_the_int8_quantisation_of_every_layer_and_null_for_a_float32_file()
    {
        string path = Quantized("inspect-json.int8.eaw");
        ToolRun run = trained.Tool.Run("inspect", path, "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument report = JsonDocument.Parse(run.Output);
        JsonElement root = report.RootElement;
        Assert.Equal("int8", root.GetProperty("precision").GetString());
        Assert.True(root.GetProperty("checksum_ok").GetBoolean());

        // The same numbers the file holds, as the library reads them.
        Quantization.QuantizedParameters q = WeightFile.Read(path).Quantization!;
        JsonElement int8 = root.GetProperty("int8");
        Assert.Equal(q.Input.Scale, int8.GetProperty("input_scale").GetSingle());
        Assert.Equal(-128, int8.GetProperty("input_zero_point").GetInt32());
        JsonElement layers = int8.GetProperty("layers");
        Assert.Equal(q.Layers.Count, layers.GetArrayLength());
        for (int i = 0; i < q.Layers.Count; i++)
        {
            Quantization.QuantizedLayer expected = q.Layers[i];
            JsonElement layer = layers[i];
            float[] scales = expected.WeightScales.ToArray();
            int[] multipliers = expected.Multipliers.ToArray();
            Assert.Equal(i, layer.GetProperty("index").GetInt32());
            Assert.Equal(expected.Activation.ToString().ToLowerInvariant(), layer.GetProperty("activation").GetString());
            Assert.Equal(!expected.Table.IsEmpty, layer.GetProperty("table").GetBoolean());
            Assert.Equal(expected.PreActivation.Scale, layer.GetProperty("z_scale").GetSingle());
            Assert.Equal(expected.PreActivation.ZeroPoint, layer.GetProperty("z_zero_point").GetInt32());
            Assert.Equal(expected.Output.Scale, layer.GetProperty("output_scale").GetSingle());
            Assert.Equal(expected.Output.ZeroPoint, layer.GetProperty("output_zero_point").GetInt32());
            Assert.Equal(scales.Min(), layer.GetProperty("weight_scale_min").GetSingle());
            Assert.Equal(scales.Max(), layer.GetProperty("weight_scale_max").GetSingle());
            Assert.Equal(scales.Average(s => (double)s), layer.GetProperty("weight_scale_mean").GetDouble(), 12);
            Assert.Equal(expected.Shift, layer.GetProperty("shift").GetInt32());
            Assert.Equal(multipliers.Min(), layer.GetProperty("multiplier_min").GetInt32());
            Assert.Equal(multipliers.Max(), layer.GetProperty("multiplier_max").GetInt32());
        }

        Assert.Equal("sigmoid", layers[1].GetProperty("activation").GetString());
        Assert.True(layers[1].GetProperty("table").GetBoolean());

        // A float32 file has the key too, null; the keys scripts read are unchanged.
        ToolRun floats = trained.Tool.Run("inspect", trained.Weights, "--json");
        Assert.True(floats.ExitCode == 0, floats.ToString());
        using JsonDocument floatReport = JsonDocument.Parse(floats.Output);
        Assert.Equal(JsonValueKind.Null, floatReport.RootElement.GetProperty("int8").ValueKind);
        Assert.Equal("float32", floatReport.RootElement.GetProperty("precision").GetString());
        Assert.Equal(2128, floatReport.RootElement.GetProperty("parameters").GetInt32());
    }

    [Fact]
    public void Inspect_json_of_a_file_failing_its_checksum_prints_no_report_and_exits_1()
    {
        // checksum_ok is true in every report: a file that fails its CRC-32 gets an error and no JSON at all.
        string path = Quantized("corrupt.int8.eaw");
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        ToolRun run = trained.Tool.Run("inspect", path, "--json");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(string.Empty, run.Output);
        Assert.StartsWith("edgeae: checksum: MISMATCH", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_compress_and_decompress_run_the_int8_model()
    {
        string path = Quantized("codec.int8.eaw");
        string codes = trained.Tool.PathOf("int8-codes.csv");
        ToolRun run = trained.Tool.Run("encode", "--weights", path, "--out", codes);
        Assert.True(run.ExitCode == 0, run.ToString());
        string first = File.ReadLines(codes).First();

        // A sigmoid code of the int8 model is a multiple of its output scale (1/255 here): codes are exact int8 steps.
        float value = float.Parse(first.Split(',')[0], CultureInfo.InvariantCulture);
        Assert.InRange(value, 0f, 1f);

        string packets = trained.Tool.PathOf("int8.packets");
        run = trained.Tool.Run("compress", "--weights", path, "--bits", "8", "--out", packets);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(1797 * 20, new FileInfo(packets).Length);
        run = trained.Tool.Run("decompress", "--weights", path, "--bits", "8", "--in", packets, "--out", trained.Tool.PathOf("int8-recon.csv"));
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void Export_writes_firmware_code_running_the_int8_file()
    {
        string path = Quantized("export.int8.eaw");
        string source = trained.Tool.PathOf("Digits.int8.g.cs");
        ToolRun run = trained.Tool.Run("export", "--target", "nanoframework", "--weights", path, "--out", source);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("int8 weights baked from export.int8.eaw", run.Output);
        string text = File.ReadAllText(source);
        Assert.Contains("public const bool IsInt8 = true;", text);
        Assert.Contains("private static readonly sbyte[] s_codes =", text);
        Assert.Contains("public const int RamBytes = 3444;", text);

        string onnx = trained.Tool.PathOf("digits.int8.onnx");
        run = trained.Tool.Run("export", "--weights", path, "--onnx", onnx);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("int8 as a QDQ graph", run.Output);
        Assert.True(File.Exists(onnx));

        run = trained.Tool.Run("export", "--weights", path, "--out", trained.Tool.PathOf("desktop.g.cs"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"--weights {path} holds an int8 model: baking it is for the firmware flavour", run.Error);
        Assert.Contains("--target nanoframework", run.Error);
    }

    [Fact]
    public void Export_takes_a_firmware_declaration_that_bakes_the_int8_file()
    {
        // docs/firmware.md's int8 model: a firmware declaration with Weights = "….int8.eaw". export ran the generator as
        // the desktop flavour whatever --target said, so it refused the declaration with EAE0026 ("baking it is for the
        // firmware flavour") even for --target nanoframework.
        Quantized("firmware/digits.int8.eaw");
        string declaration = trained.Tool.PathOf("firmware/Device.cs");
        File.WriteAllText(declaration, """
            namespace Device;
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, Weights = "digits.int8.eaw")]
            [Code(16, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class DigitsAe;
            """);

        string source = trained.Tool.PathOf("firmware/Device.g.cs");
        ToolRun run = trained.Tool.Run("export", "--model", declaration, "--target", "nanoframework", "--out", source);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("int8 weights baked from digits.int8.eaw", run.Output);
        Assert.Contains("public const bool IsInt8 = true;", File.ReadAllText(source));

        // The desktop flavour still refuses it: the desktop runs an int8 file through DigitsAe.Int8 at run time.
        run = trained.Tool.Run("export", "--model", declaration, "--out", trained.Tool.PathOf("firmware/Desktop.g.cs"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error EAE0026", run.Error);
    }

    [Fact]
    public void Train_qat_fine_tunes_from_a_float_file_and_writes_the_int8_model_beside_it()
    {
        string output = trained.Tool.PathOf("qat/digits.eaw");
        ToolRun run = trained.Tool.Run("train", "--qat", "--from", trained.Weights, "--epochs", "2", "--lr", "0.001", "--code-bits", "8", "--out", output, "--no-plots");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("starting from", run.Output);
        Assert.Contains("int8 (QAT): mean BCE", run.Output);
        string int8 = trained.Tool.PathOf("qat/digits.int8.eaw");
        ToolRun eval = trained.Tool.Run("eval", "--weights", int8, "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        Assert.Contains("\"precision\": \"int8\"", eval.Output);

        // The int8 file keeps what the float32 file of the same run holds: the packet codec's 8-bit code ranges (so
        // compress needs no --bits) and the PCA baseline.
        WeightFileInfo floatInfo = WeightFile.Read(output), int8Info = WeightFile.Read(int8);
        Assert.Equal(8, int8Info.CodeBits);
        Assert.Equal(floatInfo.CodeBits, int8Info.CodeBits);
        Assert.Equal(floatInfo.Baseline!.Basis.ToArray(), int8Info.Baseline!.Basis.ToArray());
        run = trained.Tool.Run("compress", "--weights", int8, "--out", trained.Tool.PathOf("qat/digits.packets"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(1797 * 20, new FileInfo(trained.Tool.PathOf("qat/digits.packets")).Length);

        // Fine-tuning needs the float32 file: an int8 one is refused.
        run = trained.Tool.Run("train", "--from", int8, "--epochs", "1", "--out", trained.Tool.PathOf("qat/again.eaw"), "--no-plots");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("holds an int8 model, which cannot be trained", run.Error);
    }

    [Fact]
    public void Quantize_keeps_the_baseline_and_code_ranges_and_names_the_threshold_it_does_not_carry()
    {
        // A float32 file with all three optional sections: train's code ranges and baseline, calibrate's threshold.
        string source = trained.Tool.PathOf("sections/digits.eaw"), calibrated = trained.Tool.PathOf("sections/digits.calibrated.eaw");
        ToolRun run = trained.Tool.Run("train", "--epochs", "1", "--code-bits", "8", "--out", source, "--no-plots");
        Assert.True(run.ExitCode == 0, run.ToString());
        run = trained.Tool.Run("calibrate", "--weights", source, "--method", "percentile:99", "--out", calibrated);
        Assert.True(run.ExitCode == 0, run.ToString());
        WeightFileInfo before = WeightFile.Read(calibrated);
        Assert.NotNull(before.AnomalyThreshold);

        string path = trained.Tool.PathOf("sections/digits.int8.eaw");
        run = trained.Tool.Run("quantize", "--weights", calibrated, "--out", path);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("carried over from", run.Output);
        Assert.Contains("code quantisation and PCA baseline", run.Output);
        Assert.Contains(FormattableString.Invariant($"not carried over: the anomaly threshold {before.AnomalyThreshold!.Threshold:G9} (percentile:99)"), run.Output);
        Assert.Contains($"edgeae calibrate --weights {path}", run.Output);

        WeightFileInfo after = WeightFile.Read(path);
        Assert.True(after.IsInt8);
        Assert.Null(after.AnomalyThreshold);
        Assert.Equal(before.CodeBits, after.CodeBits);
        Assert.Equal(before.Baseline!.Mean.ToArray(), after.Baseline!.Mean.ToArray());
        Assert.Equal(before.Baseline.Basis.ToArray(), after.Baseline.Basis.ToArray());
        Assert.Equal(before.Baseline.Samples, after.Baseline.Samples);

        // eval of the int8 file prints the baseline it kept; calibrate on the int8 model stores its own threshold.
        run = trained.Tool.Run("eval", "--weights", path);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("PCA baseline (16 components stored by train", run.Output);
        string recalibrated = trained.Tool.PathOf("sections/digits.int8.calibrated.eaw");
        run = trained.Tool.Run("calibrate", "--weights", path, "--method", "percentile:99", "--out", recalibrated);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.NotNull(WeightFile.Read(recalibrated).AnomalyThreshold);
        Assert.NotNull(WeightFile.Read(recalibrated).Baseline);

        // detect runs the int8 model too: on the calibration data it flags exactly the samples calibrate counted above.
        int above = int.Parse(System.Text.RegularExpressions.Regex.Match(run.Output, @"; (\d+) of 1797 normal scores lie above it").Groups[1].Value, CultureInfo.InvariantCulture);
        ToolRun detect = trained.Tool.Run("detect", "--weights", recalibrated);
        Assert.True(detect.ExitCode == 0, detect.ToString());
        Assert.InRange(above, 1, 100);
        Assert.Equal(above, detect.Output.Split('\n').Count(line => line.TrimEnd().EndsWith(",1", StringComparison.Ordinal)));

        using JsonDocument report = JsonDocument.Parse(trained.Tool.Run("quantize", "--weights", calibrated, "--out", path, "--json").Output);
        Assert.Equal(["code quantisation", "PCA baseline"], report.RootElement.GetProperty("carried").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(before.AnomalyThreshold.Threshold, report.RootElement.GetProperty("dropped_threshold").GetSingle());

        // Like train's --out, quantize's and calibrate's may name folders that do not exist yet.
        string nested = trained.Tool.PathOf("sections/new/deeper/digits.int8.eaw"), nestedCalibrated = trained.Tool.PathOf("sections/new2/digits.eaw");
        run = trained.Tool.Run("quantize", "--weights", calibrated, "--out", nested);
        Assert.True(run.ExitCode == 0 && File.Exists(nested), run.ToString());
        run = trained.Tool.Run("calibrate", "--weights", source, "--method", "percentile:99", "--out", nestedCalibrated);
        Assert.True(run.ExitCode == 0 && File.Exists(nestedCalibrated), run.ToString());

        // A file without them carries nothing and drops nothing.
        using JsonDocument plain = JsonDocument.Parse(trained.Tool.Run("quantize", "--weights", trained.Weights, "--out", trained.Tool.PathOf("sections/plain.int8.eaw"), "--json").Output);
        Assert.Equal(["PCA baseline"], plain.RootElement.GetProperty("carried").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, plain.RootElement.GetProperty("dropped_threshold").ValueKind);
    }

    [Fact]
    public void Refusals_are_one_line_errors()
    {
        ToolRun run = trained.Tool.Run("quantize", "--weights", trained.Weights, "--out", trained.Weights);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is the same file as --weights", run.Error);

        string path = Quantized("again.int8.eaw");
        run = trained.Tool.Run("quantize", "--weights", path, "--out", trained.Tool.PathOf("twice.eaw"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("is already an int8 model", run.Error);

        run = trained.Tool.Run("quantize", "--weights", trained.Weights, "--out", trained.Tool.PathOf("x.eaw"), "--method", "median");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("expected minmax, percentile or mse", run.Error);

        // A percentile the chosen method would ignore is refused, not silently dropped.
        run = trained.Tool.Run("quantize", "--weights", trained.Weights, "--out", trained.Tool.PathOf("x.eaw"), "--method", "mse", "--percentile", "99.9");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--percentile applies only with --method percentile (the method is mse)", run.Error);
        run = trained.Tool.Run("quantize", "--weights", trained.Weights, "--out", trained.Tool.PathOf("x.eaw"), "--method", "percentile", "--percentile", "50");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("invalid value '50' for --percentile (expected a number in (50, 100])", run.Error);
        Assert.False(File.Exists(trained.Tool.PathOf("x.eaw")));

        run = trained.Tool.Run("quantize", "--weights", trained.Tool.PathOf("missing.eaw"), "--out", trained.Tool.PathOf("y.eaw"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("weight file not found", run.Error);
        Assert.False(File.Exists(trained.Tool.PathOf("y.eaw")));
    }
}
