using EdgeAe.Data;
using EdgeAe.Training;
using ScottPlot;
using SkiaSharp;

namespace EdgeAe.Cli;

/// <summary>The PNGs train writes next to the weight file: loss per epoch and a reconstruction grid.</summary>
internal static class Plots
{
    public const string LossFile = "loss.png";
    public const string ReconstructionsFile = "reconstructions.png";
    public const int LossWidth = 800;
    public const int LossHeight = 500;
    public const int ReconstructionsWidth = 900;

    /// <summary>Samples shown in the reconstruction figure.</summary>
    public const int Samples = 8;

    /// <summary>Height of the reconstruction figure for <paramref name="rows"/> rows of images.</summary>
    public static int ReconstructionsHeight(int rows) => 120 + 110 * rows;

    /// <summary>
    /// ScottPlot renders headless through SkiaSharp; without any font installed its PNGs silently
    /// lose all text, so train refuses to start instead.
    /// </summary>
    public static void EnsureFonts()
    {
        if (SKFontManager.Default.FontFamilyCount <= 0)
        {
            throw new CliException("no fonts are installed, so the plots would have no text: install Debian's fonts-dejavu-core (apt-get install fonts-dejavu-core) or pass --no-plots");
        }
    }

    /// <summary>
    /// The rate–distortion plot of <c>edgeae rd</c>: PSNR against bytes per sample for every lossy setting, as long as each
    /// has a finite PSNR. Otherwise a PSNR plot would be empty or incomplete — constant data has no peak, so no PSNR
    /// (NaN), and an exact reconstruction has an infinite one — and the plot shows the MSE, which is always defined,
    /// with the lossless compressors at MSE 0 beside the settings. <paramref name="metric"/> is <c>psnr_db</c> or
    /// <c>mse</c>; <paramref name="reason"/> says why MSE was drawn (null for PSNR).
    /// </summary>
    public static Plot RateDistortion(IReadOnlyList<RdPoint> points, out string metric, out string? reason)
    {
        RdPoint[] lossy = points.Where(p => !p.Lossless).ToArray();
        reason = lossy.Any(p => double.IsNaN(p.Psnr)) ? "the data is constant, so PSNR has no peak"
            : lossy.Any(p => double.IsInfinity(p.Psnr)) ? "a reconstruction is exact, so its PSNR is infinite"
            : null;
        metric = reason is null ? "psnr_db" : "mse";
        var plot = new Plot();
        foreach (RdPoint point in reason is null ? lossy : points)
        {
            var marker = plot.Add.Marker(point.Bytes, reason is null ? point.Psnr : point.Mse);
            marker.LegendText = point.Label;
            marker.MarkerSize = 10;
        }

        plot.Title(reason is null ? "Rate–distortion" : "Rate–distortion (MSE: " + reason + ")");
        plot.XLabel("bytes per sample");
        plot.YLabel(reason is null ? "PSNR (dB)" : "MSE (normalised units)");
        if (reason is null)
        {
            plot.ShowLegend(Alignment.LowerRight);
        }
        else
        {
            // Where the points of an MSE plot lie depends on the model and the data: the legend goes beside the axes, never over a point.
            plot.ShowLegend(Edge.Right);
        }

        return plot;
    }

    /// <summary>Training (and validation) loss per epoch.</summary>
    public static void Loss(string path, IReadOnlyList<EpochReport> history, string lossName)
    {
        var plot = new Plot();
        double[] epochs = history.Select(r => (double)r.Epoch).ToArray();
        var training = plot.Add.Scatter(epochs, history.Select(r => r.TrainingLoss).ToArray());
        training.LegendText = "training";
        training.MarkerSize = history.Count > 50 ? 0 : 4;
        if (history.Count > 0 && history.All(r => r.ValidationLoss is not null))
        {
            var validation = plot.Add.Scatter(epochs, history.Select(r => r.ValidationLoss!.Value).ToArray());
            validation.LegendText = "validation";
            validation.MarkerSize = training.MarkerSize;
        }

        plot.Title("Loss per epoch");
        plot.XLabel("epoch");
        plot.YLabel(lossName);
        plot.ShowLegend(Alignment.UpperRight);
        Files.OutputFile.WritePng(path, plot, LossWidth, LossHeight);
    }

    /// <summary>
    /// Originals, corrupted inputs (when <paramref name="corruption"/> is not none) and
    /// reconstructions of the first samples; images when the width is a perfect square, else line
    /// plots of originals against reconstructions. Returns the height written.
    /// </summary>
    public static int Reconstructions(string path, IAutoencoder model, ISampleSource data, Corruption corruption, int seed)
    {
        int width = data.Width;
        int count = Math.Min(Samples, data.Count);
        bool corrupted = !corruption.IsNone;
        var inputs = new float[count][];
        var outputs = new float[count][];
        var random = new SplitMix64((ulong)(uint)seed);
        for (int i = 0; i < count; i++)
        {
            inputs[i] = new float[width];
            outputs[i] = new float[width];
            corruption.Apply(data[i], inputs[i], ref random);
            model.Reconstruct(inputs[i], outputs[i]);
        }

        int side = (int)Math.Round(Math.Sqrt(width));
        return side * side == width
            ? ImageGrid(path, data, inputs, outputs, side, corrupted ? corruption.ToString() : null)
            : LinePlots(path, data, outputs);
    }

    private static int ImageGrid(string path, ISampleSource data, float[][] inputs, float[][] outputs, int side, string? corruption)
    {
        int count = inputs.Length;
        var rows = new List<(string Label, Func<int, float[]> Image)> { ("original", i => data[i].ToArray()) };
        if (corruption is not null)
        {
            rows.Add(("corrupted", i => inputs[i]));
        }

        rows.Add(("reconstruction", i => outputs[i]));
        int gap = Math.Max(1, side / 8);
        int height = rows.Count * side + (rows.Count - 1) * gap;
        int widthCells = count * side + (count - 1) * gap;
        var cells = new double[height, widthCells];
        for (int r = 0; r < height; r++)
        {
            for (int c = 0; c < widthCells; c++)
            {
                cells[r, c] = double.NaN;
            }
        }

        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        for (int row = 0; row < rows.Count; row++)
        {
            for (int i = 0; i < count; i++)
            {
                float[] image = rows[row].Image(i);
                for (int p = 0; p < image.Length; p++)
                {
                    cells[row * (side + gap) + p / side, i * (side + gap) + p % side] = image[p];
                    if (row == 0)
                    {
                        low = Math.Min(low, image[p]);
                        high = Math.Max(high, image[p]);
                    }
                }
            }
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(cells);
        heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
        heatmap.NaNCellColor = Colors.White;
        heatmap.ManualRange = new ScottPlot.Range(low, high > low ? high : low + 1);
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int row = 0; row < rows.Count; row++)
        {
            // Row 0 of the data is drawn at the top: y runs from the bottom of the heatmap.
            ticks.AddMajor(height - (row * (side + gap) + side / 2.0) - 0.5, rows[row].Label);
        }

        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
        plot.HideGrid();
        plot.Axes.SquareUnits();
        plot.Title(corruption is null ? "Reconstructions" : $"Reconstructions (corruption {corruption})");
        int pixels = ReconstructionsHeight(rows.Count);
        Files.OutputFile.WritePng(path, plot, ReconstructionsWidth, pixels);
        return pixels;
    }

    private static int LinePlots(string path, ISampleSource data, float[][] outputs)
    {
        var plot = new Plot();
        int shown = Math.Min(3, outputs.Length);
        double[] xs = Enumerable.Range(0, data.Width).Select(i => (double)i).ToArray();
        for (int i = 0; i < shown; i++)
        {
            var original = plot.Add.Scatter(xs, data[i].ToArray().Select(v => (double)v).ToArray());
            original.MarkerSize = 0;
            original.LegendText = $"sample {i + 1}";
            var reconstruction = plot.Add.Scatter(xs, outputs[i].Select(v => (double)v).ToArray());
            reconstruction.MarkerSize = 0;
            reconstruction.Color = original.Color;
            reconstruction.LinePattern = LinePattern.Dashed;
            reconstruction.LegendText = $"sample {i + 1} reconstructed";
        }

        plot.Title("Originals (solid) and reconstructions (dashed)");
        plot.XLabel("feature");
        plot.ShowLegend(Alignment.UpperRight);
        int pixels = ReconstructionsHeight(2);
        Files.OutputFile.WritePng(path, plot, ReconstructionsWidth, pixels);
        return pixels;
    }
}

/// <summary>One point of the rate–distortion plot: a weight file's code at one precision, or a lossless compressor.</summary>
/// <param name="Label">The legend text, e.g. <c>digits.eaw 8-bit packet</c>.</param>
/// <param name="Bytes">Bytes per sample.</param>
/// <param name="Mse">Mean squared error in the normalised units (0 for a lossless compressor).</param>
/// <param name="Psnr">PSNR in dB: NaN for constant data, +∞ for an exact reconstruction.</param>
/// <param name="Lossless">A lossless compressor of the raw bytes (drawn only in an MSE plot).</param>
internal readonly record struct RdPoint(string Label, double Bytes, double Mse, double Psnr, bool Lossless);
