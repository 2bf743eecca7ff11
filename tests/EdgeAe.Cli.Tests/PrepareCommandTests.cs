using System.Globalization;
using System.Text;
using EdgeAe.Data;

namespace EdgeAe.Cli.Tests;

/// <summary>
/// Issue 18, data larger than memory: <c>edgeae prepare --data D --out F.f32</c> and <c>edgeae train --data F.f32</c> — the
/// same weight file as training from the CSV or IDX file, errors and mismatches named.
/// </summary>
public sealed class PrepareCommandTests : IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    /// <summary>The bundled digits (raw 0–16) as CSV with a header and a label column in the middle.</summary>
    private string DigitsCsv(string name, int count = 600)
    {
        Dataset digits = BundledData.DigitsRaw();
        var text = new StringBuilder();
        text.AppendJoin(',', Enumerable.Range(0, 65).Select(i => i == 10 ? "label" : $"p{i}")).Append('\n');
        for (int s = 0; s < count; s++)
        {
            IEnumerable<string> cells = digits[s].ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture));
            text.AppendJoin(',', [.. cells.Take(10), (s % 10).ToString(CultureInfo.InvariantCulture), .. cells.Skip(10)]).Append('\n');
        }

        string path = _tool.PathOf(name);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>IDX images of the bundled digits (8×8, pixels scaled to 0–255).</summary>
    private string DigitsIdx(string name, int count = 600)
    {
        Dataset digits = BundledData.DigitsRaw();
        var bytes = new byte[16 + (count * 64)];
        bytes[2] = 0x08;
        bytes[3] = 3;
        bytes[4] = (byte)(count >> 24);
        bytes[5] = (byte)(count >> 16);
        bytes[6] = (byte)(count >> 8);
        bytes[7] = (byte)count;
        bytes[11] = 8;
        bytes[15] = 8;
        for (int s = 0; s < count; s++)
        {
            for (int i = 0; i < 64; i++)
            {
                bytes[16 + (s * 64) + i] = (byte)Math.Min(255, digits[s][i] * 16);
            }
        }

        string path = _tool.PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>64 → 16 tanh → 64 linear, squared error: for standardised data.</summary>
    private string SquaredErrorModel()
    {
        string path = _tool.PathOf("Standardized.cs");
        File.WriteAllText(path, """
            namespace Demo;

            [Autoencoder(Input = 64, Loss = Loss.SquaredError, Seed = 7)]
            [Code(16, Activation.Tanh)]
            [Output(Activation.Linear)]
            public partial class StandardizedAe;
            """);
        return path;
    }

    private ToolRun Ok(params string[] args)
    {
        ToolRun run = _tool.Run(args);
        Assert.True(run.ExitCode == 0, run.ToString());
        return run;
    }

    private ToolRun Fails(int code, params string[] args)
    {
        ToolRun run = _tool.Run(args);
        Assert.True(run.ExitCode == code, run.ToString());
        return run;
    }

    private string[] Train(string data, string output, params string[] more)
        => ["train", "--data", data, "--epochs", "3", "--batch-size", "16", "--corruption", "masking:0.2", "--validation", data, "--no-plots", "--out", _tool.PathOf(output), .. more];

    [Theory]
    [InlineData("csv", "")]
    [InlineData("csv", "--standardize")]
    [InlineData("csv", "--scale 20")]
    [InlineData("idx", "")]
    public void Training_from_the_cache_writes_the_same_weight_file_as_training_from_the_file(string kind, string normalisation)
    {
        string data = kind == "csv" ? DigitsCsv("digits.csv") : DigitsIdx("digits.idx");
        string cache = _tool.PathOf("digits.f32");
        string[] norm = normalisation.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] csv = kind == "csv" ? ["--label-column", "10"] : [];
        ToolRun prepared = Ok(["prepare", "--data", data, "--out", cache, .. csv, .. norm]);
        Assert.Contains($"prepared {cache}: 600 samples of 64 values", prepared.Error + prepared.Output);
        Assert.True(DataCache.IsCache(cache));

        // A BCE model needs [0, 1]: a standardised cache is for a squared-error model.
        string[] model = normalisation == "--standardize" ? ["--model", SquaredErrorModel()] : [];
        Ok(Train(data, "memory/m.eaw", [.. csv, .. norm, .. model]));
        ToolRun cached = Ok(Train(cache, "cache/m.eaw", [.. norm, .. model]));
        Assert.Contains("on 600 samples of digits.f32", cached.Output);
        Assert.Equal(File.ReadAllBytes(_tool.PathOf("memory/m.eaw")), File.ReadAllBytes(_tool.PathOf("cache/m.eaw")));

        // Small windows (hidden knobs): memory and cache still agree, and the order is not the one-window order.
        Ok(Train(data, "memory-w/m.eaw", [.. csv, .. norm, .. model, "--shuffle-window", "120", "--shuffle-block", "40"]));
        Ok(Train(cache, "cache-w/m.eaw", [.. norm, .. model, "--shuffle-window", "120", "--shuffle-block", "40"]));
        Assert.Equal(File.ReadAllBytes(_tool.PathOf("memory-w/m.eaw")), File.ReadAllBytes(_tool.PathOf("cache-w/m.eaw")));
        Assert.NotEqual(File.ReadAllBytes(_tool.PathOf("memory/m.eaw")), File.ReadAllBytes(_tool.PathOf("memory-w/m.eaw")));
    }

    [Fact]
    public void A_cache_that_does_not_fit_the_model_or_the_options_is_refused_by_name()
    {
        string data = DigitsCsv("digits.csv", 100);
        string cache = _tool.PathOf("digits.f32");
        Ok("prepare", "--data", data, "--label-column", "10", "--out", cache);

        string wide = _tool.PathOf("wide.csv");
        File.WriteAllLines(wide, Enumerable.Range(0, 20).Select(r => string.Join(',', Enumerable.Range(0, 784).Select(c => ((r + c) % 256).ToString(CultureInfo.InvariantCulture)))));
        Ok("prepare", "--data", wide, "--out", _tool.PathOf("wide.f32"));
        Assert.Contains("edgeae: --data wide.f32 holds 784-wide samples; DigitsAe takes 64", Fails(1, "train", "--data", _tool.PathOf("wide.f32"), "--out", _tool.PathOf("m.eaw")).Error);

        Assert.Contains("digits.f32 was prepared with the normalisation scale: x ÷ 16, not --scale 255", Fails(1, "train", "--data", cache, "--scale", "255", "--out", _tool.PathOf("m.eaw")).Error);
        Assert.Contains("digits.f32 was prepared with the normalisation scale: x ÷ 16, not --standardize", Fails(1, "train", "--data", cache, "--standardize", "--out", _tool.PathOf("m.eaw")).Error);

        Ok("prepare", "--data", data, "--label-column", "10", "--scale", "32", "--out", _tool.PathOf("other.f32"));
        Assert.Contains("--validation " + _tool.PathOf("other.f32") + " was prepared with the normalisation scale: x ÷ 32 but digits.f32 with scale: x ÷ 16",
            Fails(1, "train", "--data", cache, "--validation", _tool.PathOf("other.f32"), "--out", _tool.PathOf("m.eaw")).Error);

        Ok("train", "--data", _tool.PathOf("other.f32"), "--epochs", "1", "--no-plots", "--out", _tool.PathOf("from.eaw"));
        Assert.Contains("digits.f32 was prepared with the normalisation scale: x ÷ 16 but --from " + _tool.PathOf("from.eaw") + " holds scale: x ÷ 32",
            Fails(1, "train", "--data", cache, "--from", _tool.PathOf("from.eaw"), "--out", _tool.PathOf("m.eaw")).Error);

        Ok("prepare", "--data", data, "--label-column", "10", "--standardize", "--out", _tool.PathOf("std.f32"));
        Assert.Contains("outside [0, 1], the range a binary cross-entropy model reconstructs", Fails(1, "train", "--data", _tool.PathOf("std.f32"), "--out", _tool.PathOf("m.eaw")).Error);

        Assert.Contains("--validation-split cannot split the .f32 cache", Fails(2, "train", "--data", cache, "--validation-split", "0.1", "--out", _tool.PathOf("m.eaw")).Error);
        Assert.False(File.Exists(_tool.PathOf("m.eaw")));

        // Options that read data in its own units say so instead of reading a cache as CSV.
        string weights = _tool.PathOf("from.eaw");
        Assert.Contains($"edgeae: --baseline-data {cache} is an EdgeAe data cache (written by edgeae prepare): --baseline-data reads the data in its own units; give it the CSV or IDX file the cache was prepared from",
            Fails(1, "eval", "--weights", weights, "--baseline-data", cache).Error);

        // The inference commands read a cache of the weight file's normalisation only (from.eaw holds x ÷ 32).
        Assert.Contains($"edgeae: --data digits.f32 was prepared with the normalisation scale: x ÷ 16 but --weights {weights} holds scale: x ÷ 32",
            Fails(1, "encode", "--weights", weights, "--data", cache, "--out", _tool.PathOf("codes.csv")).Error);
        Assert.False(File.Exists(_tool.PathOf("codes.csv")));

        // eval and quantize read a cache of the weight file's normalisation only (from.eaw holds x ÷ 32).
        Assert.Contains($"edgeae: --data digits.f32 was prepared with the normalisation scale: x ÷ 16 but --weights {weights} holds scale: x ÷ 32",
            Fails(1, "eval", "--weights", weights, "--data", cache).Error);
        Assert.Contains($"edgeae: --calibration digits.f32 was prepared with the normalisation scale: x ÷ 16 but --weights {weights} holds scale: x ÷ 32",
            Fails(1, "quantize", "--weights", weights, "--calibration", cache, "--out", _tool.PathOf("q.eaw")).Error);
        Assert.Contains($"edgeae: --calibration wide.f32 holds 784-wide samples; DigitsAe takes 64",
            Fails(1, "quantize", "--weights", weights, "--calibration", _tool.PathOf("wide.f32"), "--out", _tool.PathOf("q.eaw")).Error);
        Assert.False(File.Exists(_tool.PathOf("q.eaw")));
    }

    [Fact]
    public void Eval_of_a_cache_gives_the_figures_of_the_file_it_was_prepared_from()
    {
        string data = DigitsCsv("digits.csv");
        string cache = _tool.PathOf("digits.f32"), weights = _tool.PathOf("m.eaw");
        Ok("prepare", "--data", data, "--label-column", "10", "--out", cache);
        Ok("train", "--data", data, "--label-column", "10", "--epochs", "2", "--no-plots", "--out", weights);
        foreach (string[] more in new[] { Array.Empty<string>(), ["--corruption", "masking:0.3", "--seed", "4"] })
        {
            using var fromCache = System.Text.Json.JsonDocument.Parse(Ok(["eval", "--weights", weights, "--data", cache, "--json", .. more]).Output);
            using var fromFile = System.Text.Json.JsonDocument.Parse(Ok(["eval", "--weights", weights, "--data", data, "--label-column", "10", "--json", .. more]).Output);
            Assert.Equal("digits.f32", fromCache.RootElement.GetProperty("data").GetString());
            foreach (string key in new[] { "samples", "mean_loss", "mse", "psnr_db" })
            {
                Assert.Equal(fromFile.RootElement.GetProperty(key).GetRawText(), fromCache.RootElement.GetProperty(key).GetRawText());
            }

            Assert.Equal(fromFile.RootElement.GetProperty("baseline").GetProperty("mse").GetRawText(), fromCache.RootElement.GetProperty("baseline").GetProperty("mse").GetRawText());
        }

    }

    [Fact]
    public void Every_inference_command_reads_a_cache_as_the_file_it_was_prepared_from()
    {
        string data = DigitsCsv("digits.csv");
        string cache = _tool.PathOf("digits.f32"), trained = _tool.PathOf("m.eaw"), weights = _tool.PathOf("calibrated.eaw");
        Ok("prepare", "--data", data, "--label-column", "10", "--out", cache);
        Ok("train", "--data", data, "--label-column", "10", "--epochs", "2", "--code-bits", "8", "--no-plots", "--out", trained);
        string[] csv = ["--label-column", "10"];

        // calibrate: the same scores, so the same threshold and the same weight file byte for byte.
        ToolRun calibrated = Ok("calibrate", "--weights", trained, "--data", cache, "--method", "percentile:95", "--out", weights, "--json");
        Ok(["calibrate", "--weights", trained, "--data", data, .. csv, "--method", "percentile:95", "--out", _tool.PathOf("file-calibrated.eaw")]);
        Assert.Equal(File.ReadAllBytes(_tool.PathOf("file-calibrated.eaw")), File.ReadAllBytes(weights));
        Assert.Contains("\"samples\":600", calibrated.Output);
        Assert.Contains("--validation-split cannot split the .f32 cache", Fails(2, "calibrate", "--weights", trained, "--data", cache, "--validation-split", "0.1", "--method", "percentile:95", "--out", _tool.PathOf("split.eaw")).Error);
        Assert.False(File.Exists(_tool.PathOf("split.eaw")));

        // encode, reconstruct and compress write the same files.
        foreach ((string command, string output) in new[] { ("encode", "codes.csv"), ("encode", "codes.bin"), ("reconstruct", "x.csv"), ("compress", "packets.bin") })
        {
            ToolRun fromCache = Ok(command, "--weights", weights, "--data", cache, "--out", _tool.PathOf("cache-" + output));
            Ok([command, "--weights", weights, "--data", data, .. csv, "--out", _tool.PathOf("file-" + output)]);
            Assert.Contains("from digits.f32", fromCache.Output);
            Assert.Equal(File.ReadAllBytes(_tool.PathOf("file-" + output)), File.ReadAllBytes(_tool.PathOf("cache-" + output)));
        }

        // eval --labels and detect: the same figures and rows.
        string labels = _tool.PathOf("labels.csv");
        File.WriteAllLines(labels, Enumerable.Range(0, 600).Select(i => i % 10 == 0 ? "1" : "0"));
        Assert.Equal(
            Ok(["eval", "--weights", weights, "--data", data, .. csv, "--labels", labels, "--json"]).Output,
            Ok("eval", "--weights", weights, "--data", cache, "--labels", labels, "--json").Output);
        string detected = Ok("detect", "--weights", weights, "--data", cache).Output;
        ToolRun fromFile = Ok(["detect", "--weights", weights, "--data", data, .. csv]);
        Assert.Equal(fromFile.Output, detected);

        // The rows alone on the standard output: the note about the CSV header goes to standard error.
        Assert.StartsWith("row,score,anomaly\n", detected);
        Assert.Contains("digits.csv: row 1 taken as a header", fromFile.Error);
        Assert.Equal(601, detected.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(
            Ok(["detect", "--weights", weights, "--data", data, .. csv, "--vote", "2/3", "--json"]).Output,
            Ok("detect", "--weights", weights, "--data", cache, "--vote", "2/3", "--json").Output);
    }

    [Fact]
    public void Detect_reads_windows_of_frames_from_a_cache_whose_normalisation_repeats_the_weight_files()
    {
        // Each 64-pixel digit as 8 frames of 8 pixels (one row of the image each); the model was trained on whole digits ÷ 16.
        Dataset digits = BundledData.DigitsRaw();
        string frames = _tool.PathOf("frames.csv");
        File.WriteAllLines(frames, Enumerable.Range(0, 50 * 8).Select(r => string.Join(',', digits[r / 8].Slice((r % 8) * 8, 8).ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture)))));
        string weights = _tool.PathOf("m.eaw");
        Ok("train", "--data", DigitsCsv("digits.csv"), "--label-column", "10", "--epochs", "2", "--no-plots", "--out", weights);

        // prepare's default for these frames is ÷ 16 too: the same windows, scores and alarms as from the CSV.
        string cache = _tool.PathOf("frames.f32");
        Ok("prepare", "--data", frames, "--out", cache);
        string[] detect = ["detect", "--weights", weights, "--window", "8", "--threshold", "0.3", "--ema", "0.5"];
        string fromCache = Ok([.. detect, "--data", cache]).Output;
        Assert.Equal(Ok([.. detect, "--data", frames]).Output, fromCache);
        Assert.Equal(1 + (50 * 8) - 7, fromCache.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // Frames standardised feature by feature do not repeat the weight file's normalisation: refused, naming both.
        string standardized = _tool.PathOf("std.f32");
        Ok("prepare", "--data", frames, "--standardize", "--out", standardized);
        Assert.Contains("per frame, but --weights " + weights + " normalises windows of 8 frames with scale: x ÷ 16", Fails(1, [.. detect, "--data", standardized, "--out", _tool.PathOf("d.csv")]).Error);
        Assert.Contains("--data frames.f32 holds 8-wide samples; a frame of --window 4 is 16 values (64 inputs / 4 frames)",
            Fails(1, "detect", "--weights", weights, "--window", "4", "--threshold", "0.3", "--data", cache, "--out", _tool.PathOf("d.csv")).Error);
        Assert.False(File.Exists(_tool.PathOf("d.csv")));
    }

    [Fact]
    public void A_cache_outside_what_a_binary_cross_entropy_model_reconstructs_is_refused_like_the_file()
    {
        // A model trained ÷ 10 on pixels clipped at 10; the full digits ÷ 10 reach 1.6.
        Dataset digits = BundledData.DigitsRaw();
        string clipped = _tool.PathOf("clipped.csv"), full = _tool.PathOf("full.csv");
        File.WriteAllLines(clipped, Enumerable.Range(0, 200).Select(r => string.Join(',', digits[r].ToArray().Select(v => Math.Min(v, 10f).ToString(CultureInfo.InvariantCulture)))));
        File.WriteAllLines(full, Enumerable.Range(0, 200).Select(r => string.Join(',', digits[r].ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture)))));
        string weights = _tool.PathOf("m.eaw"), cache = _tool.PathOf("full.f32");
        Ok("train", "--data", clipped, "--scale", "10", "--epochs", "1", "--no-plots", "--out", weights);
        Ok("prepare", "--data", full, "--scale", "10", "--out", cache);
        Assert.Contains("outside [0, 1], the range a binary cross-entropy model reconstructs", Fails(1, "eval", "--weights", weights, "--data", full).Error);
        Assert.Contains("full.f32 holds values in [0, 1.6] after its normalisation (scale: x ÷ 10), outside [0, 1], the range a binary cross-entropy model reconstructs: this data does not fit",
            Fails(1, "encode", "--weights", weights, "--data", cache, "--out", _tool.PathOf("codes.csv")).Error);
        Assert.False(File.Exists(_tool.PathOf("codes.csv")));
    }

    [Fact]
    public void Quantize_calibrates_from_a_cache_as_from_the_file_it_was_prepared_from()
    {
        string data = DigitsCsv("digits.csv");
        string cache = _tool.PathOf("digits.f32"), weights = _tool.PathOf("m.eaw");
        Ok("prepare", "--data", data, "--label-column", "10", "--out", cache);
        Ok("train", "--data", cache, "--epochs", "2", "--no-plots", "--out", weights);

        // The same evenly spread samples (a third of the 600, and all of them), so the same int8 file byte for byte.
        foreach (string samples in new[] { "200", "2048" })
        {
            ToolRun fromCache = Ok("quantize", "--weights", weights, "--calibration", cache, "--samples", samples, "--out", _tool.PathOf($"cache-{samples}.int8.eaw"));
            Ok("quantize", "--weights", weights, "--calibration", data, "--label-column", "10", "--samples", samples, "--out", _tool.PathOf($"file-{samples}.int8.eaw"));
            Assert.Contains($"calibration: {(samples == "200" ? "200" : "600")} samples of digits.f32, method minmax", fromCache.Output);
            Assert.Equal(File.ReadAllBytes(_tool.PathOf($"file-{samples}.int8.eaw")), File.ReadAllBytes(_tool.PathOf($"cache-{samples}.int8.eaw")));
        }
    }

    [Fact]
    public void A_damaged_cache_is_an_error_naming_the_file_and_the_problem()
    {
        string cache = _tool.PathOf("digits.f32");
        Ok("prepare", "--data", DigitsCsv("digits.csv", 100), "--label-column", "10", "--out", cache);
        byte[] good = File.ReadAllBytes(cache);

        File.WriteAllBytes(_tool.PathOf("cut.f32"), good[..^100]);
        Assert.Contains($"edgeae: {_tool.PathOf("cut.f32")}: the file is truncated: it holds {good.Length - 100} bytes but its header describes 100 samples of 64 floats ({good.Length} bytes)",
            Fails(1, "train", "--data", _tool.PathOf("cut.f32"), "--out", _tool.PathOf("m.eaw")).Error);

        byte[] flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x40;
        File.WriteAllBytes(_tool.PathOf("flipped.f32"), flipped);
        Assert.Contains("the checksum of block 1 of 1 (samples 1–100) does not match: the file was changed or damaged",
            Fails(1, "train", "--data", _tool.PathOf("flipped.f32"), "--no-plots", "--out", _tool.PathOf("m.eaw")).Error);

        // Named .f32 but not a cache: not read as CSV.
        File.WriteAllText(_tool.PathOf("text.f32"), "1,2,3\n");
        Assert.Contains("not a .f32 data cache (it starts with \"1,2,3\\x0A\"", Fails(1, "train", "--data", _tool.PathOf("text.f32"), "--out", _tool.PathOf("m.eaw")).Error);
        Assert.False(File.Exists(_tool.PathOf("m.eaw")));
    }

    [Fact]
    public void Prepare_never_overwrites_its_input_and_a_failure_leaves_the_previous_cache()
    {
        string data = DigitsCsv("digits.csv", 50);
        string before = File.ReadAllText(data);
        Assert.Contains("is the same file as --data", Fails(2, "prepare", "--data", data, "--out", data).Error);
        Assert.Equal(before, File.ReadAllText(data));

        string cache = _tool.PathOf("digits.f32");
        Ok("prepare", "--data", data, "--label-column", "10", "--out", cache);
        byte[] good = File.ReadAllBytes(cache);
        File.AppendAllText(data, "1,2,3\n");
        Assert.Contains("row 52", Fails(1, "prepare", "--data", data, "--label-column", "10", "--out", cache).Error);
        Assert.Equal(good, File.ReadAllBytes(cache));
        Assert.Equal(["digits.csv", "digits.f32"], Directory.GetFiles(_tool.Folder).Select(Path.GetFileName).Order());

        Assert.Contains("--out is required", Fails(2, "prepare", "--data", data).Error);
    }

    [Fact]
    public void Prepare_out_may_name_a_folder_that_does_not_exist_yet()
    {
        string data = DigitsCsv("digits.csv", 50);
        string cache = _tool.PathOf("caches/new/digits.f32");
        Ok("prepare", "--data", data, "--label-column", "10", "--out", cache);
        using DataCache opened = DataCache.Open(cache);
        Assert.Equal(50, opened.Count);
    }
}
