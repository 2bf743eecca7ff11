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
        // 300 digits as 8×8 IDX images with pixel values 0..240 (the digits' 0..16 times 15).
        Dataset digits = BundledData.DigitsRaw();
        string images = _tool.PathOf("digits-images.idx.gz");
        using (var file = new GZipStream(File.Create(images), CompressionLevel.Fastest))
        {
            var header = new byte[16];
            BinaryPrimitives.WriteInt32BigEndian(header, IdxReader.ImagesMagic);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 300);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 8);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 8);
            file.Write(header);
            for (int i = 0; i < 300; i++)
            {
                foreach (float v in digits[i])
                {
                    file.WriteByte((byte)(v * 15));
                }
            }
        }

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
