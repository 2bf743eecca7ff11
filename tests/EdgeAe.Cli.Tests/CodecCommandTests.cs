using System.Globalization;
using EdgeAe.Data;

namespace EdgeAe.Cli.Tests;

/// <summary>train --code-bits, compress, decompress and the rate–distortion report on the bundled digits.</summary>
public sealed class CodecCommandTests : IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void Compress_then_decompress_round_trips_the_digits_and_rejects_another_models_packets()
    {
        string weights = _tool.PathOf("digits.eaw");
        ToolRun train = _tool.Run("train", "--epochs", "3", "--no-plots", "--code-bits", "8", "--out", weights);
        Assert.True(train.ExitCode == 0, train.ToString());

        string packets = _tool.PathOf("packets.bin");
        ToolRun compress = _tool.Run("compress", "--weights", weights, "--out", packets);
        Assert.True(compress.ExitCode == 0, compress.ToString());
        Assert.Contains("1797 packets of 20 bytes", compress.Output);
        Assert.Contains("ratio 3.2×", compress.Output);
        Assert.Equal(1797 * 20, new FileInfo(packets).Length);

        string recon = _tool.PathOf("recon.csv");
        ToolRun decompress = _tool.Run("decompress", "--weights", weights, "--in", packets, "--out", recon);
        Assert.True(decompress.ExitCode == 0, decompress.ToString());
        string[] rows = File.ReadAllLines(recon);
        Assert.Equal(1797, rows.Length);
        float[] first = rows[0].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(64, first.Length);
        Assert.All(first, v => Assert.InRange(v, 0f, 16f)); // back in pixel units (0..16)

        // Another weight file (different CRC, so a different model id) refuses the packets.
        string other = _tool.PathOf("other.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--code-bits", "8", "--seed", "5", "--out", other).ExitCode);
        ToolRun wrong = _tool.Run("decompress", "--weights", other, "--in", packets, "--out", _tool.PathOf("wrong.csv"));
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("packet 0 was made by model id 0x", wrong.Error);
        Assert.Contains("(ModelMismatch)", wrong.Error);

        // An empty file holds no packets: an error, not an empty reconstruction file.
        string empty = _tool.PathOf("empty.bin");
        File.WriteAllBytes(empty, []);
        ToolRun none = _tool.Run("decompress", "--weights", weights, "--in", empty, "--out", _tool.PathOf("none.csv"));
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("empty.bin: the file is empty, it holds no packets;", none.Error);
        Assert.False(File.Exists(_tool.PathOf("none.csv")));

        // A cut-off file.
        File.WriteAllBytes(packets, File.ReadAllBytes(packets)[..^5]);
        ToolRun cut = _tool.Run("decompress", "--weights", weights, "--in", packets, "--out", recon);
        Assert.Equal(1, cut.ExitCode);
        Assert.Contains("the stream ends inside packet 1796: 15 of 20 bytes (Truncated)", cut.Error);
    }

    [Fact]
    public void Rd_reports_every_setting_and_the_lossless_baselines_with_a_plot()
    {
        string weights = _tool.PathOf("digits.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "3", "--no-plots", "--out", weights).ExitCode);
        string png = _tool.PathOf("rd.png");
        ToolRun rd = _tool.Run("rd", "--weights", weights, "--out", png);
        Assert.True(rd.ExitCode == 0, rd.ToString());
        Assert.Contains("raw 64 bytes per sample", rd.Output);
        Assert.Contains("float32", rd.Output);
        Assert.Contains("16-bit packet", rd.Output);
        Assert.Contains("8-bit packet", rd.Output);
        Assert.Contains("3.2×", rd.Output);
        Assert.Contains("Deflate", rd.Output);
        Assert.Contains("Brotli q11", rd.Output);
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [Fact]
    public void Rd_on_constant_data_plots_the_mse_because_psnr_has_no_peak()
    {
        // Constant data has no value range, so every PSNR is undefined: the PSNR plot was an empty frame.
        string weights = _tool.PathOf("digits.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--out", weights).ExitCode);
        string data = _tool.PathOf("constant.csv");
        File.WriteAllLines(data, Enumerable.Repeat(string.Join(",", Enumerable.Repeat("8", 64)), 20));
        string png = _tool.PathOf("rd.png");
        ToolRun rd = _tool.Run("rd", "--weights", weights, "--data", data, "--out", png, "--json");
        Assert.True(rd.ExitCode == 0, rd.ToString());
        Assert.Contains($"plot: MSE against bytes per sample, the lossless compressors at 0 (the data is constant, so PSNR has no peak) → {png}", rd.Error);
        using var json = System.Text.Json.JsonDocument.Parse(rd.Output);
        Assert.Equal("mse", json.RootElement.GetProperty("plot_metric").GetString());
        Assert.True(new FileInfo(png).Length > 1000);

        // Data with a range keeps the PSNR plot.
        ToolRun digits = _tool.Run("rd", "--weights", weights, "--out", png, "--json");
        Assert.True(digits.ExitCode == 0, digits.ToString());
        using var psnr = System.Text.Json.JsonDocument.Parse(digits.Output);
        Assert.Equal("psnr_db", psnr.RootElement.GetProperty("plot_metric").GetString());
        Assert.Contains($"plot → {png}", digits.Error);
    }

    [Fact]
    public void The_rd_plot_draws_every_point_at_finite_coordinates()
    {
        RdPoint[] constant =
        [
            new("a.eaw float32", 64, 0.01, double.NaN, false), new("a.eaw 8-bit packet", 20, 0.02, double.NaN, false),
            new("Deflate", 3, 0, double.PositiveInfinity, true),
        ];
        ScottPlot.Plot plot = Plots.RateDistortion(constant, out string metric, out string? reason);
        Assert.Equal("mse", metric);
        Assert.Equal("the data is constant, so PSNR has no peak", reason);
        ScottPlot.Plottables.Marker[] markers = plot.GetPlottables().OfType<ScottPlot.Plottables.Marker>().ToArray();
        Assert.Equal([(64.0, 0.01), (20.0, 0.02), (3.0, 0.0)], markers.Select(m => (m.X, m.Y)));

        // An exact reconstruction (infinite PSNR) cannot be drawn on a PSNR axis either.
        Plots.RateDistortion([new("a.eaw float32", 64, 0, double.PositiveInfinity, false), new("a.eaw 8-bit packet", 20, 0.5, 12, false)], out metric, out reason);
        Assert.Equal(("mse", "a reconstruction is exact, so its PSNR is infinite"), (metric, reason));

        // Every PSNR finite: the PSNR plot, lossless compressors left out (their PSNR is infinite).
        plot = Plots.RateDistortion([new("a.eaw float32", 64, 0.001, 30, false), new("Deflate", 3, 0, double.PositiveInfinity, true)], out metric, out reason);
        Assert.Equal(("psnr_db", (string?)null), (metric, reason));
        Assert.Equal([(64.0, 30.0)], plot.GetPlottables().OfType<ScottPlot.Plottables.Marker>().Select(m => (m.X, m.Y)));
    }

    [Fact]
    public void Compress_without_bits_or_a_stored_range_says_what_to_do()
    {
        string weights = _tool.PathOf("plain.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--out", weights).ExitCode);
        ToolRun run = _tool.Run("compress", "--weights", weights, "--out", _tool.PathOf("p.bin"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("has no code quantisation", run.Error);
        Assert.Equal(0, _tool.Run("compress", "--weights", weights, "--bits", "16", "--out", _tool.PathOf("p.bin")).ExitCode);
        Assert.Equal(1797 * 36, new FileInfo(_tool.PathOf("p.bin")).Length);
    }

    [Fact]
    public void Packets_compressed_with_other_bits_are_named_as_such_not_as_corrupted()
    {
        string weights = _tool.PathOf("digits.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--code-bits", "8", "--out", weights).ExitCode);
        string packets = _tool.PathOf("p16.bin");
        Assert.Equal(0, _tool.Run("compress", "--weights", weights, "--bits", "16", "--out", packets).ExitCode);

        string recon = _tool.PathOf("recon.csv");
        ToolRun run = _tool.Run("decompress", "--weights", weights, "--in", packets, "--out", recon);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("packet 0 carries 16 bits per code value; this codec expects 8 (BitsMismatch)", run.Error);
        Assert.False(File.Exists(recon));
        ToolRun right = _tool.Run("decompress", "--weights", weights, "--bits", "16", "--in", packets, "--out", recon);
        Assert.True(right.ExitCode == 0, right.ToString());
        Assert.Equal(1797, File.ReadAllLines(recon).Length);
    }

    [Fact]
    public void A_label_column_of_class_names_is_dropped_like_any_other()
    {
        string weights = _tool.PathOf("digits.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--no-plots", "--code-bits", "8", "--out", weights).ExitCode);
        Dataset digits = BundledData.DigitsRaw();
        var text = new System.Text.StringBuilder(string.Join(',', Enumerable.Range(0, 64).Select(i => $"p{i}")) + ",class\n");
        for (int s = 0; s < 20; s++)
        {
            text.AppendJoin(',', digits[s].ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture))).Append(s % 2 == 0 ? ",normal\n" : ",worn bearing\n");
        }

        string data = _tool.PathOf("classes.csv");
        File.WriteAllText(data, text.ToString());
        ToolRun encode = _tool.Run("encode", "--weights", weights, "--data", data, "--label-column", "-1", "--out", _tool.PathOf("codes.csv"));
        Assert.True(encode.ExitCode == 0, encode.ToString());
        Assert.Equal(20, File.ReadAllLines(_tool.PathOf("codes.csv")).Length);
        ToolRun compress = _tool.Run("compress", "--weights", weights, "--data", data, "--label-column", "-1", "--out", _tool.PathOf("p.bin"));
        Assert.True(compress.ExitCode == 0, compress.ToString());
        Assert.Equal(20 * 20, new FileInfo(_tool.PathOf("p.bin")).Length);
    }
}
