using System.Globalization;
using System.Text.Json.Serialization;
using EdgeAe.Baselines;
using EdgeAe.Data;
using EdgeAe.Training;

namespace EdgeAe.Cli;

// The objects `--json` prints (docs/cli.md, "Machine-readable output"). Keys are the property names in snake_case;
// every key is always present (null when it does not apply); numbers that are not finite (the PSNR of constant data,
// of a perfect reconstruction) are null. Losses are means per element, as everywhere in EdgeAe.

/// <summary>Loss, MSE and PSNR of a model (or a baseline) on a data set.</summary>
internal sealed record FiguresReport(double MeanLoss, double Mse, double? PsnrDb, int Samples)
{
    public static FiguresReport Of(Evaluation e) => new(e.MeanLoss, e.MeanSquaredError, Report.Finite(e.Psnr), e.Count);
}

/// <summary>The PCA baseline: the same code size, fitted on the training data. Source: "train" (fitted by this training), "weight file" (stored by train), or "--baseline-data FILE".</summary>
internal sealed record BaselineReport(string Method, int Components, int FittedOn, string Source, double ExplainedVariance, double Mse, double? PsnrDb, double? ModelMseRatio);

/// <summary>What a model needs on a device.</summary>
internal sealed record FootprintReport(int Parameters, long ParameterBytes, long InferenceWorkspaceBytes, long TrainingWorkspaceBytesPerSample)
{
    public static FootprintReport Of(ModelTopology t) => new(t.ParameterCount, t.ParameterBufferLength * 4L, t.InferenceWorkspaceLength * 4L, t.WorkspaceLength * 4L);
}

internal sealed record EpochReportJson(int Epoch, double TrainingLoss, double? ValidationLoss, double Seconds);

internal sealed record TrainFilesReport(string? Weights, string? BestCheckpoint, string? LastCheckpoint, IReadOnlyList<string> Plots);

internal sealed record TrainReport(
    string Command, string Model, string Topology, string Loss, string Data, int TrainingSamples, int? ValidationSamples,
    string Normalization, int EpochsPlanned, int EpochsRun, int BestEpoch, int KeptEpoch, string Kept, bool StoppedEarly,
    string? Interrupted, FiguresReport? Training, FiguresReport? Validation, BaselineReport? Baseline,
    IReadOnlyList<EpochReportJson> History, double Seconds, double TrainingSeconds, FootprintReport Footprint, TrainFilesReport Files);

internal sealed record EvalReport(
    string Command, string Model, string Topology, string Loss, string Weights, string Precision, string Data, int Samples, string Normalization,
    string Corruption, int Seed, double MeanLoss, double Mse, double? PsnrDb, BaselineReport? Baseline);

internal sealed record LayerReport(int Index, string Role, int InputWidth, int Width, string Activation);

/// <summary>
/// <c>checksum_ok</c> is always true: a file that fails its CRC-32 makes inspect exit 1 without a report. <c>int8</c> is the
/// int8 file's quantisation (null for a float32 file), what the text output's table shows.
/// </summary>
internal sealed record InspectReport(
    string Command, string File, long FileBytes, int FormatVersion, string Topology, int InputWidth, int? CodeWidth, string Loss,
    bool TiedWeights, IReadOnlyList<LayerReport> Layers, string Precision, int Parameters, long ParameterBytes, string Normalization, string Checksum,
    bool ChecksumOk, int? CodeBits, int? BaselineComponents, int? BaselineFittedOn, float? AnomalyThreshold, string? AnomalyMethod, Int8Report? Int8);

/// <summary>An int8 weight file's quantisation: the input's, then every layer's (docs/quantization.md).</summary>
internal sealed record Int8Report(float InputScale, int InputZeroPoint, IReadOnlyList<Int8LayerReport> Layers)
{
    public static Int8Report Of(Quantization.QuantizedParameters q)
        => new(q.Input.Scale, q.Input.ZeroPoint, q.Layers.Select(Int8LayerReport.Of).ToArray());
}

/// <summary>
/// One int8 layer: the scale and zero point of its pre-activations z and of its outputs, whether its activation is a
/// table, the range and mean of its per-output weight scales, its requantisation shift and the range of its multipliers.
/// </summary>
internal sealed record Int8LayerReport(
    int Index, string Activation, bool Table, float ZScale, int ZZeroPoint, float OutputScale, int OutputZeroPoint,
    float WeightScaleMin, float WeightScaleMax, double WeightScaleMean, int Shift, int MultiplierMin, int MultiplierMax)
{
    public static Int8LayerReport Of(Quantization.QuantizedLayer l)
    {
        float[] scales = l.WeightScales.ToArray();
        int[] multipliers = l.Multipliers.ToArray();
        return new Int8LayerReport(
            l.Index, l.Activation.ToString().ToLowerInvariant(), !l.Table.IsEmpty, l.PreActivation.Scale, l.PreActivation.ZeroPoint,
            l.Output.Scale, l.Output.ZeroPoint, scales.Min(), scales.Max(), scales.Average(s => (double)s), l.Shift, multipliers.Min(), multipliers.Max());
    }
}

internal sealed record EncodeReport(string Command, string Model, string Weights, string Data, int Samples, int CodeWidth, string Format, string Out);

internal sealed record ReconstructReport(string Command, string Model, string Weights, string Data, int Samples, int Width, string Format, string Units, string Out);

internal sealed record CompressReport(string Command, string Model, string Weights, string Data, int Packets, int PacketBytes, int Bits, string ModelId, long Bytes, long RawBytes, double Ratio, string Out);

internal sealed record DecompressReport(string Command, string Model, string Weights, string In, int Packets, string ModelId, string Out);

internal sealed record ExportReport(string Command, string Model, string Target, string? BakedWeights, int Lines, string Out);

internal sealed record RdRowReport(string Weights, string Precision, double BytesPerSample, double Ratio, double? Mse, double? PsnrDb, bool RangeMeasured);

internal sealed record RdReport(string Command, string Model, string Data, int Samples, int RawBytesPerValue, double RawBytesPerSample, IReadOnlyList<RdRowReport> Rows, string? Plot, string? PlotMetric);

internal sealed record PrepareReport(string Command, string Data, string Out, int Samples, int Width, string Normalization, float Minimum, float Maximum, long Bytes, double Seconds);

/// <summary>The source-generated serializer of every report.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TrainReport))]
[JsonSerializable(typeof(EvalReport))]
[JsonSerializable(typeof(InspectReport))]
[JsonSerializable(typeof(EncodeReport))]
[JsonSerializable(typeof(ReconstructReport))]
[JsonSerializable(typeof(CompressReport))]
[JsonSerializable(typeof(DecompressReport))]
[JsonSerializable(typeof(ExportReport))]
[JsonSerializable(typeof(RdReport))]
[JsonSerializable(typeof(PrepareReport))]
internal sealed partial class ReportJson : JsonSerializerContext;

/// <summary>Numbers as people and scripts see them.</summary>
internal static class Report
{
    /// <summary>The value, or null when it is NaN or infinite (JSON has no such numbers).</summary>
    public static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>"bce" or "mse": the key of a model's loss in reports.</summary>
    public static string LossKey(LossKind loss) => loss == LossKind.BinaryCrossEntropy ? "bce" : "mse";

    /// <summary>"BCE" or "MSE" for people.</summary>
    public static string LossName(LossKind loss) => loss == LossKind.BinaryCrossEntropy ? "BCE" : "MSE";

    /// <summary>
    /// A loss or error for people: fixed-point with <paramref name="decimals"/> decimals in the usual range, otherwise
    /// six significant digits (an MSE of 2.5e60 from a broken model is "2.5E+60", not sixty digits).
    /// </summary>
    public static string Figure(double value, int decimals = 6)
    {
        double magnitude = Math.Abs(value);
        return double.IsFinite(value) && (magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e6))
            ? value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
            : value.ToString("G6", CultureInfo.InvariantCulture);
    }

    /// <summary>A PSNR for people: "n/a (constant data)" when there is no peak, "∞ (perfect reconstruction)".</summary>
    public static string Psnr(double value, int decimals = 2)
        => double.IsNaN(value) ? "n/a (the data is constant, so there is no peak)"
            : double.IsPositiveInfinity(value) ? "∞ dB (perfect reconstruction)"
            : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + " dB";

    /// <summary>The PCA baseline's figures on <paramref name="data"/>, and its ratio to the model's MSE.</summary>
    public static BaselineReport Baseline(Pca pca, ISampleSource data, string source, double? modelMse)
    {
        double mse = pca.MeanSquaredError(data);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int s = 0; s < data.Count; s++)
        {
            foreach (float v in data[s])
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        double explained = 0;
        foreach (double v in pca.Variances)
        {
            explained += v;
        }

        return new BaselineReport("pca", pca.Components, pca.Samples, source, pca.TotalVariance > 0 ? explained / pca.TotalVariance : 1, mse,
            Finite(Metrics.Psnr(mse, (double)max - min)), modelMse is { } m && mse > 0 ? m / mse : null);
    }

    /// <summary>One line comparing the model with its PCA baseline.</summary>
    public static string BaselineLine(BaselineReport b, string dataName)
    {
        string comparison = b.ModelMseRatio is not { } ratio ? ""
            : ratio <= 0.95 ? FormattableString.Invariant($"; the model's MSE is {ratio:F2}× the baseline's (better)")
            : ratio < 1.05 ? FormattableString.Invariant($"; the model's MSE is {ratio:F2}× the baseline's: a linear method does as well")
            : FormattableString.Invariant($"; the model's MSE is {ratio:F2}× the baseline's: a linear method does better");
        string source = b.Source switch
        {
            "train" => "fitted on the training data",
            "weight file" => "stored by train",
            _ => "fitted with " + b.Source,
        };
        return FormattableString.Invariant($"PCA baseline ({b.Components} components {source}, {b.FittedOn} samples, {b.ExplainedVariance:P1} of their variance): MSE {Figure(b.Mse)}, PSNR {(b.PsnrDb is { } p ? p.ToString("F2", CultureInfo.InvariantCulture) + " dB" : "n/a")} on {dataName}{comparison}");
    }
}
