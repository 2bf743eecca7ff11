using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using EdgeAe.Data;
using EdgeAe.IO;

namespace EdgeAe.Cli.Tests;

/// <summary>train with other data: IDX images, real-valued CSV with standardisation, a validation file, early stopping.</summary>
public sealed class DataOptionTests : IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void Train_reads_gzip_idx_images_and_scales_them_by_255()
    {
        string images = WriteDigitsIdx("digits-images.idx.gz", 300);
        string weights = _tool.PathOf("idx/digits.eaw");
        ToolRun run = _tool.Run("train", "--data", images, "--epochs", "2", "--out", weights, "--no-plots");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("on 300 samples of digits-images.idx.gz", run.Output);
        Assert.Contains("normalisation scale: x ÷ 255", run.Output);
        WeightFileInfo info = WeightFile.Read(weights);
        Assert.Equal(NormalizationKind.Scale, info.Normalization.Kind);
        Assert.Equal(255f, info.Normalization.Scale[0]);
    }

    [Fact]
    public void Train_a_real_valued_model_standardised_with_a_validation_file_and_early_stopping()
    {
        string model = _tool.PathOf("Sensor.cs");
        File.WriteAllText(model, Declarations.Sensor);
        string train = WriteSensorCsv("train.csv", 400, seed: 1);
        string validation = WriteSensorCsv("validation.csv", 100, seed: 2);
        string weights = _tool.PathOf("sensor/sensor.eaw");

        ToolRun run = _tool.Run(
            "train", "--model", model, "--data", train, "--validation", validation, "--standardize",
            "--epochs", "300", "--patience", "3", "--lr", "0.05", "--out", weights);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("on 400 samples of train.csv, validating on 100", run.Output);
        Assert.Contains("normalisation standardize", run.Output);
        Assert.Contains("patience 3", run.Output);
        Assert.Contains("(stopped early)", run.Output);

        // 12 inputs are not a square image: the reconstructions are line plots.
        Assert.Contains("are not a square image", run.Output);
        DigitsCommandTests.AssertPng(_tool.PathOf("sensor/reconstructions.png"), Plots.ReconstructionsWidth, Plots.ReconstructionsHeight(2));

        // The weight file stores the training split's per-feature mean and std.
        WeightFileInfo info = WeightFile.Read(weights);
        Assert.Equal(NormalizationKind.Standardize, info.Normalization.Kind);
        Assert.Equal(12, info.Normalization.Width);
        Assert.InRange(info.Normalization.Offset[0], 4.5f, 5.5f); // column 0 is centred on 5
        Assert.InRange(info.Normalization.Scale[0], 0.5f, 3f);

        ToolRun eval = _tool.Run("eval", "--model", model, "--weights", weights, "--data", validation);
        Assert.True(eval.ExitCode == 0, eval.ToString());
    }

    [Fact]
    public void Csv_options_that_no_data_file_reads_are_refused_by_name()
    {
        string images = WriteDigitsIdx("refused.idx.gz", 40);
        string weights = _tool.PathOf("refused.eaw");

        // Without --data (the bundled digits), with IDX data and with a .f32 cache the CSV options would be ignored.
        AssertRefused(_tool.Run("train", "--label-column", "-1", "--epochs", "1", "--no-plots", "--out", weights),
            "--label-column is a CSV option, but without --data the data is the bundled UCI digits: leave --label-column out");
        AssertRefused(_tool.Run("train", "--data", images, "--header", "true", "--epochs", "1", "--no-plots", "--out", weights),
            "--header is a CSV option, but --data refused.idx.gz is an IDX file");
        string cache = _tool.PathOf("refused.f32");
        AssertRefused(_tool.Run("prepare", "--data", images, "--out", cache, "--skip-rows", "1"), "--skip-rows is a CSV option, but --data refused.idx.gz is an IDX file");
        Assert.False(File.Exists(cache));
        Assert.Equal(0, _tool.Run("prepare", "--data", images, "--out", cache).ExitCode);
        AssertRefused(_tool.Run("train", "--data", cache, "--delimiter", ";", "--epochs", "1", "--no-plots", "--out", weights),
            "--delimiter is a CSV option, but --data refused.f32 is a .f32 cache (prepare read its CSV options)");
        Assert.False(File.Exists(weights));

        // Beside a CSV file that reads them, an IDX or cache file does not refuse them: train's --data and --validation share them.
        string validation = _tool.PathOf("labelled.csv");
        Dataset digits = BundledData.DigitsRaw();
        File.WriteAllLines(validation, Enumerable.Range(0, 20).Select(i => string.Join(",", digits[i].ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture))) + ",7"));
        ToolRun run = _tool.Run("train", "--data", cache, "--validation", validation, "--label-column", "-1", "--epochs", "1", "--no-plots", "--out", weights);
        Assert.True(run.ExitCode == 0, run.ToString());
        run = _tool.Run("eval", "--weights", weights, "--data", images, "--baseline-data", validation, "--label-column", "-1");
        Assert.True(run.ExitCode == 0, run.ToString());
        AssertRefused(_tool.Run("eval", "--weights", weights, "--data", cache, "--label-column", "-1"), "--label-column is a CSV option, but --data refused.f32 is a .f32 cache");
    }

    [Fact]
    public void From_keeps_its_normalisation_and_refuses_a_scale_or_standardisation_that_differs()
    {
        string start = _tool.PathOf("start.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--out", start).ExitCode); // the digits: x ÷ 16
        string tuned = _tool.PathOf("tuned.eaw");
        AssertRefused(_tool.Run("train", "--from", start, "--standardize", "--epochs", "1", "--no-plots", "--out", tuned),
            $"--from {start} keeps its normalisation (scale: x ÷ 16), not --standardize: leave --standardize out, or train from scratch");
        AssertRefused(_tool.Run("train", "--from", start, "--scale", "255", "--epochs", "1", "--no-plots", "--out", tuned),
            $"--from {start} keeps its normalisation (scale: x ÷ 16), not --scale 255");
        Assert.False(File.Exists(tuned));

        ToolRun same = _tool.Run("train", "--from", start, "--scale", "16", "--epochs", "1", "--no-plots", "--out", tuned);
        Assert.True(same.ExitCode == 0, same.ToString());
    }

    private static void AssertRefused(ToolRun run, string message)
    {
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.Error);
    }

    /// <summary>The first <paramref name="count"/> digits as gzipped 8×8 IDX images, pixel values 0..240 (the digits' 0..16 times 15).</summary>
    private string WriteDigitsIdx(string name, int count)
    {
        Dataset digits = BundledData.DigitsRaw();
        string images = _tool.PathOf(name);
        using var file = new GZipStream(File.Create(images), CompressionLevel.Fastest);
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 8);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 8);
        file.Write(header);
        for (int i = 0; i < count; i++)
        {
            foreach (float v in digits[i])
            {
                file.WriteByte((byte)(v * 15));
            }
        }

        return images;
    }

    /// <summary>12 sensor channels driven by 3 latent signals plus noise, each channel with its own offset.</summary>
    private string WriteSensorCsv(string name, int rows, int seed)
    {
        var random = new Random(seed);
        var lines = new List<string> { string.Join(",", Enumerable.Range(0, 12).Select(c => "ch" + c)) };
        for (int r = 0; r < rows; r++)
        {
            double a = random.NextDouble() * 2 - 1, b = random.NextDouble() * 2 - 1, c = random.NextDouble() * 2 - 1;
            lines.Add(string.Join(",", Enumerable.Range(0, 12).Select(ch =>
                (5 * (ch + 1) + (ch % 3 == 0 ? a : ch % 3 == 1 ? b : c) * (1 + ch * 0.1) + random.NextDouble() * 0.05)
                    .ToString("R", CultureInfo.InvariantCulture))));
        }

        string path = _tool.PathOf(name);
        File.WriteAllLines(path, lines);
        return path;
    }
}
