using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeAe.Cli.Files;
using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Quantization;
using EdgeAe.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal sealed class QuantizeSettings : CommonSettings
{
    [CommandOption("--weights <FILE>")]
    [Description("The float32 weight file to quantise (written by train).")]
    public string? Weights { get; set; }

    [CommandOption("--model <FILE>")]
    [Description("A C# file declaring one [[Autoencoder]] class; default: the built-in DigitsAe.")]
    public string? Model { get; set; }

    [CommandOption("--calibration <FILE>")]
    [Description("Data whose activations set the int8 ranges (IDX or CSV, as --data of train; the weight file's normalisation is applied); default: train's default data, the bundled digits.")]
    public string? Calibration { get; set; }

    [CommandOption("--label-column <N>")]
    [Description("CSV: index of a label column to drop (negative counts from the end).")]
    public int? LabelColumn { get; set; }

    [CommandOption("--header <BOOL>")]
    [Description("CSV: true if the first row is a header; default: detected.")]
    public string? Header { get; set; }

    [CommandOption("--method <NAME>")]
    [Description("Activation ranges: minmax | percentile | mse (docs/quantization.md).")]
    [DefaultValue("minmax")]
    public string Method { get; set; } = "minmax";

    [CommandOption("--percentile <P>")]
    [Description("With --method percentile: the two-sided percentile kept; default 99.99.")]
    public string? Percentile { get; set; }

    [CommandOption("--samples <N>")]
    [Description("Most calibration samples used (evenly spaced through the data).")]
    [DefaultValue(2048)]
    public int Samples { get; set; } = 2048;

    [CommandOption("--out <FILE>")]
    [Description("The int8 weight file to write (e.g. model.int8.eaw).")]
    public string? Out { get; set; }

    public override IEnumerable<FileArgument> Files =>
    [
        FileArgument.Input("--weights", Weights, "weight file"),
        .. FileArgument.Declaration("--model", Model, "declaration"),
        FileArgument.Input("--calibration", Calibration, "calibration data file"),
        FileArgument.Output("--out", Out, "weight file"),
    ];

    public CalibrationMethod ParsedMethod { get; private set; }

    public double ParsedPercentile { get; private set; }

    public override ValidationResult Validate()
    {
        if (Weights is null)
        {
            return ValidationResult.Error("--weights <FILE> is required");
        }

        if (Out is null)
        {
            return ValidationResult.Error("--out <FILE> is required");
        }

        switch (Method.Trim().ToLowerInvariant())
        {
            case "minmax": ParsedMethod = CalibrationMethod.MinMax; break;
            case "percentile": ParsedMethod = CalibrationMethod.Percentile; break;
            case "mse": ParsedMethod = CalibrationMethod.Mse; break;
            default: return Invalid("--method", Method, "expected minmax, percentile or mse");
        }

        if (Percentile is not null && ParsedMethod != CalibrationMethod.Percentile)
        {
            return ValidationResult.Error($"--percentile applies only with --method percentile (the method is {Method})");
        }

        double percentile = new QuantizationOptions().Percentile;
        if (Percentile is not null
            && (!double.TryParse(Percentile, NumberStyles.Float, CultureInfo.InvariantCulture, out percentile) || !(percentile > 50 && percentile <= 100)))
        {
            return Invalid("--percentile", Percentile, "expected a number in (50, 100]");
        }

        ParsedPercentile = percentile;
        if (Samples < 1)
        {
            return Invalid("--samples", Samples.ToString(CultureInfo.InvariantCulture), "expected a positive number");
        }

        if (Header is not null && Header.Trim().ToLowerInvariant() is not ("true" or "false" or "yes" or "no" or "1" or "0"))
        {
            return Invalid("--header", Header, "expected true or false");
        }

        return base.Validate();
    }
}

/// <summary>
/// <c>edgeae quantize</c>: post-training quantisation of a float32 weight file into an int8 one (docs/quantization.md),
/// with a per-layer report: scales, saturation on the calibration data, error against the float model.
/// </summary>
internal sealed class QuantizeCommand(CliEnvironment environment) : EdgeAeCommand<QuantizeSettings>(environment)
{
    protected override int Run(QuantizeSettings settings, CancellationToken cancellationToken)
    {
        string weights = settings.Weights!, output = settings.Out!;
        WeightFileInfo info = WeightFile.Read(weights);
        if (info.IsInt8)
        {
            throw new CliException($"{weights} is already an int8 model; quantize reads a float32 weight file written by train");
        }

        ModelHandle handle = ModelHandle.Resolve(settings.Model, Environment);
        IAutoencoder model = handle.Create(handle.Topology.Seed);
        Normalization normalization = WeightsSettings.LoadWeights(weights, model, settings.Model);
        bool? header = settings.Header?.Trim().ToLowerInvariant() switch { "true" or "yes" or "1" => true, "false" or "no" or "0" => false, _ => null };
        var options = new QuantizationOptions { Method = settings.ParsedMethod, Percentile = settings.ParsedPercentile, MaxSamples = settings.Samples };
        var dataOptions = new DataFileOptions(settings.LabelColumn, header);
        string dataName;
        Dataset data; // the samples the quantizer calibrates on, and the report's evaluation below uses
        if (settings.Calibration is { } path && DataCache.IsCache(path))
        {
            // A cache is already normalised; only the samples calibration takes are read from it.
            using DataCache cache = DataLoader.OpenCache(path, "--calibration", dataOptions, handle, weights, normalization);
            (dataName, data) = (Path.GetFileName(path), Quantizer.CalibrationSample(cache, settings.Samples));
        }
        else
        {
            RawData raw = DataLoader.Load(settings.Calibration, dataOptions, handle, Environment, "--calibration");
            DataLoader.CheckWidth(raw, handle);
            (dataName, data) = (raw.Name, Quantizer.CalibrationSample(Normalizer.Apply(raw.Data, normalization), settings.Samples));
        }

        QuantizationResult result;
        try
        {
            result = Quantizer.Quantize(model, data, options);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"cannot quantise {weights}: {e.Message}", inner: e);
        }

        // The packet codec's code ranges (a 'qant' section) and the PCA baseline (a property of the data, 'pcab'), if the
        // float file has them, go with the int8 model. An anomaly threshold does not: it was calibrated on the float32
        // model's scores, and the int8 model scores a little differently (docs/quantization.md).
        CodeQuantizer? codec = info.CodeBits is null ? null : PacketCodec.Load(weights, handle.Create(handle.Topology.Seed)).Quantizer;
        OutputFile.CreateFolderOf(output);
        WeightFile.Save(output, result.Parameters, normalization, new WeightFileExtras { Codec = codec, Baseline = info.Baseline });
        string[] carried = [.. new[] { codec is null ? null : "code quantisation", info.Baseline is null ? null : "PCA baseline" }.OfType<string>()];

        // The int8 model on the calibration samples, against the float model (the same samples the report used).
        var int8 = handle.CreateInt8();
        int8.Load(result.Parameters);
        Evaluation before = Trainer<IAutoencoder>.Evaluate(model, data);
        Evaluation after = Trainer<IAutoencoder>.Evaluate(int8, data);
        long floatBytes = new FileInfo(weights).Length, int8Bytes = new FileInfo(output).Length;
        var report = new QuantizeReport(
            "quantize", handle.Name, handle.Topology.ToString(), weights, Path.GetFullPath(output), dataName, result.CalibrationSamples,
            result.Method.ToString().ToLowerInvariant(), before.MeanSquaredError, after.MeanSquaredError, floatBytes, int8Bytes,
            carried, info.AnomalyThreshold?.Threshold,
            result.Layers.Select(l => new QuantizeLayerReport(
                l.Index, l.Role.ToString().ToLowerInvariant(), l.Activation.ToString().ToLowerInvariant(), l.Input.Scale, l.Input.ZeroPoint,
                l.PreActivation.Scale, l.PreActivation.ZeroPoint, l.Output.Scale, l.Output.ZeroPoint, l.WeightScaleMin, l.WeightScaleMax, l.Shift,
                l.SaturatedFraction, l.OutputRmse, l.RelativeError)).ToArray());
        Environment.Line($"{handle.Name} {handle.Topology} from {weights} → {report.Out} (int8, {int8Bytes:N0} bytes; float32 {floatBytes:N0})");
        Environment.Line($"calibration: {result.CalibrationSamples:N0} samples of {dataName}, method {report.Method}");
        var table = new Table().AddColumn("layer").AddColumn("activation").AddColumn("input scale / zp").AddColumn("z scale / zp")
            .AddColumn("output scale / zp").AddColumn("weight scales").AddColumn("shift").AddColumn("saturated").AddColumn("RMSE vs float").AddColumn("relative");
        foreach (LayerQuantizationReport l in result.Layers)
        {
            table.AddRow(
                $"L{l.Index} {l.Role.ToString().ToLowerInvariant()}", l.Activation.ToString(), Pair(l.Input), Pair(l.PreActivation), Pair(l.Output),
                FormattableString.Invariant($"{l.WeightScaleMin:G3}..{l.WeightScaleMax:G3}"), l.Shift.ToString(CultureInfo.InvariantCulture),
                FormattableString.Invariant($"{l.SaturatedFraction:P3}"), FormattableString.Invariant($"{l.OutputRmse:G3}"), FormattableString.Invariant($"{l.RelativeError:P2}"));
        }

        Environment.Console.Write(table);
        Environment.Line(FormattableString.Invariant($"MSE on the calibration samples: float32 {before.MeanSquaredError:F6}, int8 {after.MeanSquaredError:F6} ({after.MeanSquaredError / before.MeanSquaredError:F3}×)"));
        if (carried.Length > 0)
        {
            Environment.Line($"carried over from {weights}: {string.Join(" and ", carried)}");
        }

        if (info.AnomalyThreshold is { } threshold)
        {
            Environment.Line(FormattableString.Invariant(
                $"not carried over: the anomaly threshold {threshold.Threshold:G9} ({threshold.Method}) was calibrated on the float32 model's scores; calibrate the int8 model on the same normal data: edgeae calibrate --weights {output} --data FILE --method {threshold.Method} --out FILE"));
        }

        Environment.WriteJson(report, QuantizeJson.Default.QuantizeReport);
        return CommandLine.Success;
    }

    private static string Pair(QuantizationParameters q) => FormattableString.Invariant($"{q.Scale:G4} / {q.ZeroPoint}");
}

/// <summary>One layer of <c>quantize --json</c>.</summary>
internal sealed record QuantizeLayerReport(
    int Index, string Role, string Activation, float InputScale, int InputZeroPoint, float ZScale, int ZZeroPoint, float OutputScale,
    int OutputZeroPoint, float WeightScaleMin, float WeightScaleMax, int Shift, double SaturatedFraction, double OutputRmse, double RelativeError);

/// <summary>What <c>quantize --json</c> prints (snake_case keys).</summary>
internal sealed record QuantizeReport(
    string Command, string Model, string Topology, string Weights, string Out, string Calibration, int CalibrationSamples, string Method,
    double FloatMse, double Int8Mse, long FloatBytes, long Int8Bytes, IReadOnlyList<string> Carried, float? DroppedThreshold,
    IReadOnlyList<QuantizeLayerReport> Layers);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(QuantizeReport))]
internal sealed partial class QuantizeJson : JsonSerializerContext;
