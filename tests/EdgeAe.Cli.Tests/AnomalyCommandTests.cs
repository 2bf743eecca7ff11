using System.Globalization;
using System.Text.Json;
using EdgeAe.Data;

namespace EdgeAe.Cli.Tests;

/// <summary>
/// The detection recipe on the bundled digits: train on zeros only, calibrate on held-out zeros, evaluate against every
/// other digit; detect on samples and on windows of frames; every bad input is one clear line.
/// </summary>
public sealed class AnomalyCommandTests(AnomalyCommandTests.ZerosModel zeros) : IClassFixture<AnomalyCommandTests.ZerosModel>
{
    /// <summary>DigitsAe trained on 120 zeros; 58 held-out zeros for calibration; a labelled test set.</summary>
    public sealed class ZerosModel : IDisposable
    {
        internal Tool Tool { get; } = new();

        internal ToolRun Training { get; }

        public string Weights => Tool.PathOf("zeros.eaw");

        public string Normal => Tool.PathOf("normal-validation.csv");

        public string Test => Tool.PathOf("test.csv");

        public string Labels => Tool.PathOf("test-labels.csv");

        public int TestCount { get; }

        public ZerosModel()
        {
            Dataset digits = BundledData.DigitsRaw();
            int[] zeroRows = Enumerable.Range(0, digits.Count).Where(i => digits.Labels![i] == 0).ToArray();
            int[] others = Enumerable.Range(0, digits.Count).Where(i => digits.Labels![i] != 0).Take(300).ToArray();
            Write(Tool.PathOf("normal-train.csv"), digits, zeroRows.Take(120));
            Write(Normal, digits, zeroRows.Skip(120));
            int[] test = zeroRows.Skip(120).Concat(others).ToArray();
            Write(Test, digits, test);
            File.WriteAllLines(Labels, ["label", .. test.Select(i => digits.Labels![i] == 0 ? "0" : "1")]);
            TestCount = test.Length;
            Training = Tool.Run("train", "--data", Tool.PathOf("normal-train.csv"), "--scale", "16", "--epochs", "150", "--out", Weights, "--no-plots");
        }

        private static void Write(string path, Dataset data, IEnumerable<int> rows)
            => File.WriteAllLines(path, rows.Select(i => string.Join(',', data[i].ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture)))));

        public void Dispose() => Tool.Dispose();
    }

    private Tool Tool => zeros.Tool;

    private string Calibrated(string method)
    {
        string path = Tool.PathOf($"calibrated-{method.Replace(':', '-')}.eaw");
        if (!File.Exists(path))
        {
            ToolRun run = Tool.Run("calibrate", "--weights", zeros.Weights, "--data", zeros.Normal, "--method", method, "--out", path);
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        return path;
    }

    [Fact]
    public void Calibrate_stores_the_threshold_in_a_copy_of_the_weights()
    {
        Assert.True(zeros.Training.ExitCode == 0, zeros.Training.ToString());
        byte[] before = File.ReadAllBytes(zeros.Weights);
        ToolRun run = Tool.Run("calibrate", "--weights", zeros.Weights, "--data", zeros.Normal, "--method", "gamma:0.9", "--out", Tool.PathOf("g.eaw"), "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument json = JsonDocument.Parse(run.Output);
        float threshold = json.RootElement.GetProperty("threshold").GetSingle();
        Assert.Equal("gamma:0.9", json.RootElement.GetProperty("method").GetString());
        Assert.Equal(58, json.RootElement.GetProperty("samples").GetInt32());
        Assert.Equal(threshold, EdgeAe.IO.WeightFile.ReadThreshold(Tool.PathOf("g.eaw"))!.Threshold);
        Assert.Equal(before, File.ReadAllBytes(zeros.Weights));
        ToolRun inspect = Tool.Run("inspect", Tool.PathOf("g.eaw"));
        Assert.Contains(FormattableString.Invariant($"anomaly threshold: {threshold:G9} (gamma:0.9 on 58 scores)"), inspect.Output);
    }

    [Fact]
    public void Calibrate_scores_exactly_the_rows_train_held_out_with_the_same_split_and_seed()
    {
        // train --validation-split 0.25 --seed 3 holds out 30 of these 120 zeros; calibrate picks the same 30.
        string data = Tool.PathOf("normal-train.csv");
        ToolRun train = Tool.Run("train", "--data", data, "--scale", "16", "--epochs", "5", "--validation-split", "0.25", "--seed", "3", "--out", Tool.PathOf("split.eaw"), "--no-plots");
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("validating on 30", train.Output);
        ToolRun run = Tool.Run("calibrate", "--weights", Tool.PathOf("split.eaw"), "--data", data, "--validation-split", "0.25", "--seed", "3", "--method", "meanstd:3", "--out", Tool.PathOf("split.cal.eaw"), "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument json = JsonDocument.Parse(run.Output);
        Assert.Equal(30, json.RootElement.GetProperty("samples").GetInt32());

        var model = new DigitsAe();
        EdgeAe.Data.Normalization normalization = EdgeAe.IO.WeightFile.Load(Tool.PathOf("split.eaw"), model);
        Dataset rows = EdgeAe.Data.CsvReader.Read(data, new EdgeAe.Data.CsvOptions { HasHeader = false });
        (_, Dataset validation) = DatasetSplit.TrainValidation(Normalizer.Apply(rows, normalization), 0.25, 3);
        float[] scores = EdgeAe.Anomaly.AnomalyScore.ScoreAll(model, validation);
        Assert.Equal(EdgeAe.Anomaly.Calibration.FromNormalScores(scores, EdgeAe.Anomaly.CalibrationMethod.Parse("meanstd:3")).Threshold, json.RootElement.GetProperty("threshold").GetSingle());
    }

    [Fact]
    public void Calibrate_never_overwrites_an_input()
    {
        byte[] before = File.ReadAllBytes(zeros.Weights);
        string link = Tool.PathOf("hard-link.eaw");
        using (var ln = System.Diagnostics.Process.Start("ln", [zeros.Weights, link]))
        {
            ln.WaitForExit();
        }

        foreach (string output in new[] { zeros.Weights, link, zeros.Normal })
        {
            ToolRun run = Tool.Run("calibrate", "--weights", zeros.Weights, "--data", zeros.Normal, "--method", "meanstd:3", "--out", output);
            Assert.Equal(2, run.ExitCode); // usage, as for every command (docs/cli.md)
            Assert.Contains("is the same file as", run.Error);
            Assert.Single(run.Error.Trim().Split('\n'));
        }

        Assert.Equal(before, File.ReadAllBytes(zeros.Weights));
    }

    [Theory]
    [InlineData("percentile:99.5", null, "needs at least 200 normal scores")]
    [InlineData("fpr:0.1", null, "needs --labels")]
    [InlineData("median:3", null, "invalid value 'median:3' for --method")]
    [InlineData("meanstd:3", "wide", "has 8 values per sample but DigitsAe takes 64 inputs")]
    [InlineData("fpr:0.1", "short-labels", "has 3 labels but the data has 58 samples")]
    [InlineData("fpr:0.1", "bad-labels", "row 3: label '2' is not 0 (normal) or 1 (anomalous)")]
    [InlineData("meanstd:3", "constant", "constant scores cannot place a threshold")]
    public void Calibrate_names_each_bad_input_in_one_line(string method, string? problem, string expected)
    {
        string data = zeros.Normal;
        var args = new List<string> { "calibrate", "--weights", zeros.Weights, "--method", method, "--out", Tool.PathOf("bad.eaw") };
        switch (problem)
        {
            case "wide":
                data = Tool.PathOf("narrow.csv");
                File.WriteAllLines(data, Enumerable.Repeat("1,2,3,4,5,6,7,8", 20));
                break;
            case "short-labels":
                File.WriteAllLines(Tool.PathOf("short.csv"), ["0", "1", "0"]);
                args.AddRange(["--labels", Tool.PathOf("short.csv")]);
                break;
            case "bad-labels":
                File.WriteAllLines(Tool.PathOf("bad-labels.csv"), ["0", "1", "2", .. Enumerable.Repeat("0", 55)]);
                args.AddRange(["--labels", Tool.PathOf("bad-labels.csv")]);
                break;
            case "constant":
                data = Tool.PathOf("constant.csv");
                File.WriteAllLines(data, Enumerable.Repeat(string.Join(',', Enumerable.Repeat("3", 64)), 30));
                break;
        }

        args.AddRange(["--data", data]);
        ToolRun run = Tool.Run(args.ToArray());
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(expected, run.Error);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.False(File.Exists(Tool.PathOf("bad.eaw")));
    }

    [Fact]
    public void Eval_with_labels_reports_auc_pauc_and_the_threshold_metrics_as_json_with_plots()
    {
        string weights = Calibrated("meanstd:3");
        string plots = Tool.PathOf("plots");
        ToolRun run = Tool.Run("eval", "--weights", weights, "--data", zeros.Test, "--labels", zeros.Labels, "--json", "--plots", plots);
        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument json = JsonDocument.Parse(run.Output);
        JsonElement root = json.RootElement;
        double auc = root.GetProperty("auc").GetDouble(), pauc = root.GetProperty("pauc").GetDouble();
        Assert.Equal(zeros.TestCount, root.GetProperty("samples").GetInt32());
        Assert.Equal(58, root.GetProperty("normal").GetInt32());
        Assert.InRange(auc, 0.95, 1.0); // zeros against every other digit: measured 0.99+
        Assert.InRange(pauc, 0.5, 1.0);
        Assert.InRange(root.GetProperty("recall").GetDouble(), 0.5, 1.0);
        Assert.Equal("meanstd:3", root.GetProperty("method").GetString());
        foreach (string png in new[] { "roc.png", "scores.png" })
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(plots, png));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }

        ToolRun text = Tool.Run("eval", "--weights", weights, "--data", zeros.Test, "--labels", zeros.Labels, "--no-plots");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains(FormattableString.Invariant($"ROC AUC {auc:F4}"), text.Output);
        Assert.Contains("precision", text.Output);
    }

    [Fact]
    public void Eval_never_writes_a_plot_over_an_input()
    {
        // The labels file named like the ROC plot, in the plots folder: refused before any work, the file kept.
        string plots = Tool.PathOf("plots-over-input");
        Directory.CreateDirectory(plots);
        string labels = Path.Combine(plots, "roc.png");
        File.Copy(zeros.Labels, labels, overwrite: true);
        byte[] before = File.ReadAllBytes(labels);
        ToolRun run = Tool.Run("eval", "--weights", zeros.Weights, "--data", zeros.Test, "--labels", labels, "--plots", plots);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is the same file as --labels", run.Error);
        Assert.Equal(before, File.ReadAllBytes(labels));
    }

    [Fact]
    public void Eval_with_a_single_class_is_an_error_not_NaN()
    {
        string labels = Tool.PathOf("all-normal.csv");
        File.WriteAllLines(labels, Enumerable.Repeat("0", 58));
        ToolRun run = Tool.Run("eval", "--weights", zeros.Weights, "--data", zeros.Normal, "--labels", labels, "--json", "--no-plots");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("single class", run.Error);
        Assert.DoesNotContain("NaN", run.Output);
    }

    [Fact]
    public void Detect_scores_samples_and_windows_with_votes()
    {
        string weights = Calibrated("meanstd:3");
        ToolRun samples = Tool.Run("detect", "--weights", weights, "--data", zeros.Test);
        Assert.True(samples.ExitCode == 0, samples.ToString());
        string[] lines = samples.Output.Trim().Split('\n');
        Assert.Equal("row,score,anomaly", lines[0]);
        Assert.Equal(zeros.TestCount + 1, lines.Length);

        // Frames of 8 pixels: windows of 8 frames are whole images again when they line up.
        string frames = Tool.PathOf("frames.csv");
        File.WriteAllLines(frames, File.ReadAllLines(zeros.Test).Take(10).SelectMany(row => row.Split(',').Chunk(8).Select(c => string.Join(',', c))));
        ToolRun windows = Tool.Run("detect", "--weights", weights, "--data", frames, "--window", "8", "--vote", "2/3", "--json");
        Assert.True(windows.ExitCode == 0, windows.ToString());
        using JsonDocument json = JsonDocument.Parse(windows.Output);
        Assert.Equal(80 - 8 + 1, json.RootElement.GetProperty("count").GetInt32());
        JsonElement first = json.RootElement.GetProperty("rows")[0];
        float imageScore = float.Parse(lines[1].Split(',')[1], CultureInfo.InvariantCulture);
        Assert.Equal(imageScore, first.GetProperty("score").GetSingle());
        Assert.Equal("2/3", json.RootElement.GetProperty("vote").GetString());

        // 73 windows: more than one model batch (64), scored in blocks and reported in order.
        JsonElement[] all = [.. json.RootElement.GetProperty("rows").EnumerateArray()];
        Assert.Equal(Enumerable.Range(0, 73), all.Select(r => r.GetProperty("first_row").GetInt32()));
        Assert.Equal(Enumerable.Range(7, 73), all.Select(r => r.GetProperty("last_row").GetInt32()));
        for (int i = 0; i + 1 < 10; i++)
        {
            // Windows that line up with an image score it as the per-sample run does, in every block.
            Assert.Equal(float.Parse(lines[i + 1].Split(',')[1], CultureInfo.InvariantCulture), all[i * 8].GetProperty("score").GetSingle());
        }

        ToolRun toFile = Tool.Run("detect", "--weights", weights, "--data", frames, "--window", "8", "--ema", "0.3", "--out", Tool.PathOf("detect.csv"));
        Assert.True(toFile.ExitCode == 0, toFile.ToString());
        Assert.StartsWith("window,first_row,last_row,score,anomaly,alarm", File.ReadAllText(Tool.PathOf("detect.csv")));

        // Like every output, --out may name a folder that does not exist yet.
        string nested = Tool.PathOf("detections/new/detect.csv");
        ToolRun toNewFolder = Tool.Run("detect", "--weights", weights, "--data", frames, "--window", "8", "--out", nested);
        Assert.True(toNewFolder.ExitCode == 0, toNewFolder.ToString());
        Assert.StartsWith("window,first_row,last_row,score,anomaly", File.ReadAllText(nested));
    }

    [Fact]
    public void Detect_needs_a_threshold_and_whole_frames()
    {
        ToolRun none = Tool.Run("detect", "--weights", zeros.Weights, "--data", zeros.Test);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("has no anomaly threshold", none.Error);
        ToolRun frames = Tool.Run("detect", "--weights", zeros.Weights, "--data", zeros.Test, "--window", "3", "--threshold", "0.2");
        Assert.Equal(1, frames.ExitCode);
        Assert.Contains("does not divide", frames.Error);
        ToolRun vote = Tool.Run("detect", "--weights", zeros.Weights, "--data", zeros.Test, "--vote", "4/3", "--threshold", "0.2");
        Assert.Equal(2, vote.ExitCode);
        ToolRun same = Tool.Run("detect", "--weights", zeros.Weights, "--data", zeros.Test, "--threshold", "0.2", "--out", zeros.Test);
        Assert.Contains("is the same file as --data", same.Error);
    }
}
