using System.Buffers.Binary;
using System.Globalization;
using SkiaSharp;

namespace EdgeAe.Cli.Tests;

/// <summary>train on the bundled digits, then inspect, eval, encode and the plots of that run.</summary>
public sealed class DigitsCommandTests(TrainedDigits trained) : IClassFixture<TrainedDigits>
{
    [Fact]
    public void Train_writes_the_weights_checkpoints_and_a_summary()
    {
        ToolRun run = trained.Training;
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.Exists(trained.Weights));
        Assert.True(File.Exists(trained.Tool.PathOf("out/digits.best.eaw")));
        Assert.True(File.Exists(trained.Tool.PathOf("out/digits.last.eaw")));

        // Redirected output: one plain line per epoch, then the summary table with the footprint.
        Assert.Equal(3, run.Output.Split('\n').Count(l => l.StartsWith("epoch ", StringComparison.Ordinal)));
        Assert.Contains("parameters", run.Output);
        Assert.Contains("2,128", run.Output);                         // 64·16+16 + 16·64+64
        Assert.Contains("flash: parameter bytes", run.Output);
        Assert.Contains("RAM: inference workspace bytes", run.Output);
        Assert.Equal(string.Empty, run.Error);
    }

    [Fact]
    public void Inspect_accepts_the_trained_file()
    {
        ToolRun run = trained.Tool.Run("inspect", trained.Weights);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("64→16→64 (Sigmoid, Sigmoid), BinaryCrossEntropy", run.Output);
        Assert.Contains("normalisation: scale: x ÷ 16", run.Output);
        Assert.Contains("checksum: OK", run.Output);
        Assert.Contains("2,128", run.Output);
    }

    [Fact]
    public void Eval_accepts_the_trained_file_and_the_loss_is_below_the_measured_bound()
    {
        ToolRun run = trained.Tool.Run("eval", "--weights", trained.Weights);
        Assert.True(run.ExitCode == 0, run.ToString());
        // Measured: 3 epochs of Adam (lr 0.01, batch 32, seed 1) give a mean BCE of 0.3506 on the
        // 1797 digits (MSE 0.0430, PSNR 13.7 dB); the initial weights give about 0.69.
        double bce = Number(run.Output, "mean BCE ");
        Assert.InRange(bce, 0.0, 0.36);
        Assert.InRange(Number(run.Output, "MSE "), 0.0, 0.05);
        Assert.InRange(Number(run.Output, "PSNR "), 13.0, 100.0);
    }

    [Theory]
    [InlineData("codes.csv")]
    [InlineData("codes.bin")]
    public void Encode_writes_one_code_per_sample(string name)
    {
        string path = trained.Tool.PathOf(name);
        ToolRun run = trained.Tool.Run("encode", "--weights", trained.Weights, "--out", path);
        Assert.True(run.ExitCode == 0, run.ToString());
        const int Samples = 1797, CodeWidth = 16;
        if (name.EndsWith(".csv", StringComparison.Ordinal))
        {
            string[] rows = File.ReadAllLines(path);
            Assert.Equal(Samples, rows.Length);
            Assert.All(rows, r => Assert.Equal(CodeWidth, r.Split(',').Length));
            Assert.All(rows[0].Split(','), v => Assert.InRange(float.Parse(v, CultureInfo.InvariantCulture), 0f, 1f));
        }
        else
        {
            byte[] bytes = File.ReadAllBytes(path);
            Assert.Equal(Samples * CodeWidth * 4, bytes.Length);
            Assert.InRange(BinaryPrimitives.ReadSingleLittleEndian(bytes), 0f, 1f); // sigmoid codes
        }
    }

    [Fact]
    public void Plots_are_pngs_of_the_expected_size_and_not_blank()
    {
        Assert.True(trained.Training.ExitCode == 0, trained.Training.ToString());
        Plots.EnsureFonts(); // fonts-dejavu-core (or any font) is installed: plots have text
        Assert.True(SKFontManager.Default.FontFamilyCount > 0);
        AssertPng(trained.Tool.PathOf("out/loss.png"), Plots.LossWidth, Plots.LossHeight);
        AssertPng(trained.Tool.PathOf("out/reconstructions.png"), Plots.ReconstructionsWidth, Plots.ReconstructionsHeight(2));
    }

    internal static void AssertPng(string path, int width, int height)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        using SKBitmap bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal(width, bitmap.Width);
        Assert.Equal(height, bitmap.Height);
        double sum = 0, squares = 0;
        int n = 0;
        for (int y = 0; y < bitmap.Height; y += 2)
        {
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                SKColor c = bitmap.GetPixel(x, y);
                double v = c.Red + c.Green + c.Blue;
                sum += v;
                squares += v * v;
                n++;
            }
        }

        double variance = squares / n - (sum / n) * (sum / n);
        Assert.True(variance > 0, $"{path} is blank");
    }

    private static double Number(string output, string prefix)
    {
        string line = output.Split('\n').First(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return double.Parse(line[prefix.Length..].Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
