using System.Globalization;
using System.Text.Json;
using EdgeAe.Baselines;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;

namespace EdgeAe.Cli.Tests;

/// <summary>
/// Issue 13 points 19, 20, 21 and the number formats of 16 through the real executable: --json, reconstruct,
/// eval --corruption/--seed, the PCA baseline, PSNR and MSE that mean something.
/// </summary>
public sealed class ReportTests : IDisposable
{
    private readonly RealTool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void Json_is_one_object_on_standard_output_for_every_command_with_results()
    {
        // Point 19: figures had to be scraped from a table. Interface scripts rely on: eval --json has "mse".
        using JsonDocument train = Json("train", "--epochs", "3", "--no-plots", "--out", "m.eaw", "--code-bits", "8", "--validation-split", "0.1");
        JsonElement t = train.RootElement;
        Assert.Equal("train", t.GetProperty("command").GetString());
        Assert.Equal(3, t.GetProperty("epochs_run").GetInt32());
        Assert.Equal(3, t.GetProperty("history").GetArrayLength());
        Assert.True(t.GetProperty("validation").GetProperty("mse").GetDouble() > 0);
        Assert.Equal(2128, t.GetProperty("footprint").GetProperty("parameters").GetInt32());
        Assert.Equal(_tool.PathOf("m.eaw"), t.GetProperty("files").GetProperty("weights").GetString());
        Assert.Equal(JsonValueKind.Null, t.GetProperty("interrupted").ValueKind);

        using JsonDocument eval = Json("eval", "--weights", "m.eaw");
        JsonElement e = eval.RootElement;
        double mse = e.GetProperty("mse").GetDouble();
        Assert.InRange(mse, 1e-4, 1);
        Assert.Equal("bce", e.GetProperty("loss").GetString());
        Assert.Equal(1797, e.GetProperty("samples").GetInt32());
        Assert.True(e.GetProperty("psnr_db").GetDouble() > 5);

        using JsonDocument inspect = Json("inspect", "m.eaw");
        Assert.Equal(8, inspect.RootElement.GetProperty("code_bits").GetInt32());
        Assert.Equal(16, inspect.RootElement.GetProperty("code_width").GetInt32());
        Assert.Equal(2, inspect.RootElement.GetProperty("layers").GetArrayLength());

        using JsonDocument encode = Json("encode", "--weights", "m.eaw", "--out", "codes.bin");
        Assert.Equal("float32le", encode.RootElement.GetProperty("format").GetString());
        Assert.Equal(1797L * 16 * 4, new FileInfo(_tool.PathOf("codes.bin")).Length);

        using JsonDocument rd = Json("rd", "--weights", "m.eaw");
        Assert.Contains(rd.RootElement.GetProperty("rows").EnumerateArray(), r => r.GetProperty("precision").GetString() == "8-bit");
        Assert.Contains(rd.RootElement.GetProperty("rows").EnumerateArray(), r => r.GetProperty("weights").GetString() == "Brotli q11");
    }

    [Fact]
    public void Export_json_counts_the_lines_of_the_file_it_wrote()
    {
        // "lines" was one more than the file holds: the source ends with a newline, and splitting on '\n' counted the
        // empty piece after it.
        using JsonDocument export = Json("export", "--target", "nanoframework", "--out", "Digits.g.cs");
        JsonElement x = export.RootElement;
        Assert.Equal("export", x.GetProperty("command").GetString());
        Assert.Equal("nanoframework", x.GetProperty("target").GetString());
        Assert.Equal(JsonValueKind.Null, x.GetProperty("baked_weights").ValueKind);
        Assert.Equal(_tool.PathOf("Digits.g.cs"), x.GetProperty("out").GetString());
        Assert.Equal(File.ReadAllLines(_tool.PathOf("Digits.g.cs")).Length, x.GetProperty("lines").GetInt32());
    }

    [Fact]
    public void Reconstruct_writes_every_sample_in_the_datas_original_units()
    {
        // Point 20: a command with reconstructions in the data's units, through the saved normalisation.
        string data = _tool.DigitsCsv("digits.csv", 100);
        Assert.Equal(0, _tool.Run("train", "--data", data, "--epochs", "3", "--no-plots", "--out", "m.eaw").ExitCode);
        ToolRun run = _tool.Run("reconstruct", "--weights", "m.eaw", "--data", "digits.csv", "--out", "recon.csv");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("100 reconstructions of 64 values from digits.csv in the data's original units (scale: x ÷ 16 undone)", run.Output);

        // The same numbers by hand: load the model, normalise, reconstruct, undo the normalisation.
        var model = new DigitsAe();
        Normalization normalization = WeightFile.Load(_tool.PathOf("m.eaw"), model);
        Dataset raw = CsvReader.Read(data);
        string[] rows = File.ReadAllLines(_tool.PathOf("recon.csv"));
        Assert.Equal(100, rows.Length);
        var input = new float[64];
        var output = new float[64];
        for (int s = 0; s < 100; s++)
        {
            raw[s].CopyTo(input);
            normalization.Apply(input);
            model.Reconstruct(input, output);
            normalization.Invert(output);
            Assert.Equal(output, rows[s].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)));
        }

        ToolRun binary = _tool.Run("reconstruct", "--weights", "m.eaw", "--data", "digits.csv", "--out", "recon.bin");
        Assert.True(binary.ExitCode == 0, binary.ToString());
        Assert.Equal(100L * 64 * 4, new FileInfo(_tool.PathOf("recon.bin")).Length);
    }

    [Fact]
    public void Eval_corruption_is_seeded_by_seed()
    {
        // Point 20: the corruption seed was fixed and undocumented, and --seed was refused.
        Assert.Equal(0, _tool.Run("train", "--epochs", "2", "--no-plots", "--out", "m.eaw").ExitCode);
        double Mse(string seed)
        {
            using JsonDocument report = Json("eval", "--weights", "m.eaw", "--corruption", "masking:0.3", "--seed", seed);
            Assert.Equal(int.Parse(seed, CultureInfo.InvariantCulture), report.RootElement.GetProperty("seed").GetInt32());
            return report.RootElement.GetProperty("mse").GetDouble();
        }

        Assert.Equal(Mse("3"), Mse("3"));
        Assert.NotEqual(Mse("3"), Mse("4"));
    }

    [Fact]
    public void Eval_prints_the_pca_baseline_of_the_same_code_size_stored_at_training_or_fitted_on_request()
    {
        // Point 21: users see when a linear method does as well.
        string data = _tool.DigitsCsv("digits.csv", 600);
        Assert.Equal(0, _tool.Run("train", "--data", data, "--epochs", "2", "--no-plots", "--out", "m.eaw").ExitCode);
        using JsonDocument stored = Json("eval", "--weights", "m.eaw", "--data", "digits.csv");
        JsonElement baseline = stored.RootElement.GetProperty("baseline");
        Assert.Equal("pca", baseline.GetProperty("method").GetString());
        Assert.Equal(16, baseline.GetProperty("components").GetInt32());
        Assert.Equal(600, baseline.GetProperty("fitted_on").GetInt32());

        // The same figure computed here from the same data and normalisation.
        Dataset normalized = Normalizer.Apply(CsvReader.Read(data), Normalization.ScaleBy(16, 64));
        double expected = Pca.Fit(normalized, 16, TestContext.Current.CancellationToken).MeanSquaredError(normalized);
        Assert.Equal(expected, baseline.GetProperty("mse").GetDouble(), 1e-6);
        double ratio = baseline.GetProperty("model_mse_ratio").GetDouble();
        Assert.Equal(stored.RootElement.GetProperty("mse").GetDouble() / expected, ratio, 1e-9);

        ToolRun text = _tool.Run("eval", "--weights", "m.eaw", "--data", "digits.csv");
        Assert.Contains("PCA baseline (16 components stored by train, 600 samples", text.Output);

        // --baseline-data fits it on another file (here: the first 300 rows).
        string half = _tool.DigitsCsv("half.csv", 300);
        using JsonDocument refit = Json("eval", "--weights", "m.eaw", "--data", "digits.csv", "--baseline-data", half);
        Assert.Equal(300, refit.RootElement.GetProperty("baseline").GetProperty("fitted_on").GetInt32());
        Assert.Equal("--baseline-data half.csv", refit.RootElement.GetProperty("baseline").GetProperty("source").GetString());
    }

    [Fact]
    public void Psnr_of_constant_data_and_enormous_errors_are_shown_as_what_they_are()
    {
        // Point 16: PSNR −230 dB on constant data, and printed next to an MSE of 2.5e60 in 60 digits.
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--out", "m.eaw").ExitCode);
        File.WriteAllLines(_tool.PathOf("constant.csv"), Enumerable.Repeat(string.Join(',', Enumerable.Repeat("8", 64)), 20));
        ToolRun text = _tool.Run("eval", "--weights", "m.eaw", "--data", "constant.csv");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("PSNR n/a (the data is constant, so there is no peak)", text.Output);
        using JsonDocument json = Json("eval", "--weights", "m.eaw", "--data", "constant.csv");
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("psnr_db").ValueKind);

        Assert.Equal("2.5E+60", Report.Figure(2.5e60));
        Assert.Equal("0.012346", Report.Figure(0.0123456));
        Assert.Equal("1.2E-07", Report.Figure(1.2e-7));
        Assert.Equal("∞ dB (perfect reconstruction)", Report.Psnr(double.PositiveInfinity));
        Assert.True(double.IsNaN(Metrics.Psnr(0.1, 0)));
    }

    private JsonDocument Json(params string[] args)
    {
        ToolRun run = _tool.Run([.. args, "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return JsonDocument.Parse(run.Output);
    }
}
