using System.Buffers.Binary;
using System.ComponentModel;
using System.Globalization;
using EdgeAe.Baselines;
using EdgeAe.Cli.Files;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

/// <summary>
/// A model with a weight file's parameters, the file's normalisation and the normalised samples: a CSV or IDX file read
/// whole and normalised in memory (<see cref="Raw"/> holds it), or a <c>.f32</c> cache that prepare normalised, read a block
/// at a time (<see cref="Raw"/> is null), so data larger than memory can be given to the inference commands too. Disposing
/// releases the cache.
/// </summary>
internal sealed record LoadedModel(ModelHandle Handle, IAutoencoder Model, Normalization Normalization, ISampleSource Data, string DataName, RawData? Raw) : IDisposable
{
    public void Dispose() => (Data as IDisposable)?.Dispose();
}

internal class WeightsSettings : ModelDataSettings
{
    [CommandOption("--weights <FILE>")]
    [Description("A weight file written by train (.eaw); its normalisation is applied to the data.")]
    public string? Weights { get; set; }

    public override IEnumerable<FileArgument> Files => [.. base.Files, FileArgument.Input("--weights", Weights, "weight file")];

    public override ValidationResult Validate()
        => Weights is null ? ValidationResult.Error("--weights <FILE> is required") : base.Validate();

    /// <summary>
    /// The model with the file's parameters, the file's normalisation and the normalised data (checked against the model):
    /// a <c>.f32</c> cache must hold samples of the model's width, prepared with the weight file's normalisation.
    /// </summary>
    public LoadedModel Load(CliEnvironment environment)
    {
        (ModelHandle handle, IAutoencoder model, Normalization normalization) = LoadModel(environment);
        string hint = $"this data does not fit the normalisation stored in {Weights} ({DataLoader.Describe(normalization)}); is it the kind of data the model was trained on?";
        if (Data is { } path && File.Exists(path) && DataCache.IsCache(path))
        {
            DataCache cache = DataLoader.OpenCache(path, "--data", DataOptionsFor(path), handle, Weights!, normalization);
            try
            {
                DataLoader.CheckTargets(cache, handle, hint);
            }
            catch
            {
                cache.Dispose();
                throw;
            }

            return new LoadedModel(handle, model, normalization, cache, Path.GetFileName(path), null);
        }

        RawData raw = DataLoader.Load(Data, DataOptionsFor(Data), handle, environment);
        DataLoader.CheckWidth(raw, handle);
        DataLoader.CheckTargets(raw, normalization, handle, hint);
        return new LoadedModel(handle, model, normalization, Normalizer.ApplyInPlace(raw.Data, normalization), raw.Name, raw);
    }

    /// <summary>The model the weight file holds (float32 or int8) with its parameters, and the file's normalisation.</summary>
    public (ModelHandle Handle, IAutoencoder Model, Normalization Normalization) LoadModel(CliEnvironment environment)
    {
        ModelHandle handle = ModelHandle.Resolve(Model, environment);
        IAutoencoder model = handle.CreateFor(Weights!);
        return (handle, model, LoadWeights(Weights!, model, Model));
    }

    /// <summary>
    /// Loads <paramref name="weights"/> into <paramref name="model"/>; a file saved for another model says so and, without
    /// <c>--model</c>, that the file may need its declaration.
    /// </summary>
    public static Normalization LoadWeights(string weights, IAutoencoder model, string? declaration)
    {
        try
        {
            return WeightFile.Load(weights, model);
        }
        catch (WeightFileException e) when (e.Reason == WeightFileErrorReason.TopologyMismatch && declaration is null)
        {
            string[] lines = e.Message.Split('\n');
            throw new CliException($"{lines[0].TrimEnd('.')}: it is not a weight file of the built-in DigitsAe; pass the declaration it was trained with: --model Model.cs",
                details: lines.Skip(1).Select(l => "  " + l.Trim()).ToArray(), inner: e);
        }
    }
}

internal sealed class EvalSettings : WeightsSettings
{
    [CommandOption("--corruption <SPEC>")]
    [Description("Corrupt the inputs (seeded by --seed) and compare against the clean data: none | masking:P | gaussian:S | saltpepper:P.")]
    [DefaultValue("none")]
    public string Corruption { get; set; } = "none";

    [CommandOption("--labels <FILE>")]
    [Description("Anomaly detection: one 0/1 label per sample (1 = anomalous); reports ROC AUC, partial AUC, precision/recall/F1 at the stored threshold and writes roc.png and scores.png.")]
    public string? Labels { get; set; }

    [CommandOption("--plots <DIR>")]
    [Description("With --labels: folder for roc.png and scores.png (default: the weight file's folder).")]
    public string? Plots { get; set; }

    [CommandOption("--no-plots")]
    [Description("With --labels: do not write roc.png and scores.png.")]
    public bool NoPlots { get; set; }

    [CommandOption("--seed <N>")]
    [Description("With --corruption: the seed of the corruption; default 1.")]
    public int? Seed { get; set; }

    /// <summary>The corruption's seed: <c>--seed</c>, default 1.</summary>
    public int CorruptionSeed => Seed ?? 1;

    [CommandOption("--baseline-data <FILE>")]
    [Description("Fit the PCA baseline on this training data (same format options as --data, the weight file's normalisation) instead of using the one stored by train.")]
    public string? BaselineData { get; set; }

    protected override IEnumerable<string?> DataFiles => [Data, BaselineData];

    public Corruption ParsedCorruption { get; private set; } = Training.Corruption.None;

    /// <summary>With --labels and without --no-plots: roc.png and scores.png in --plots, else beside the weight file.</summary>
    public (string Roc, string Scores)? PlotPaths
    {
        get
        {
            if (Labels is null || NoPlots || Weights is null)
            {
                return null;
            }

            string folder = Path.GetFullPath(Plots ?? Path.GetDirectoryName(Path.GetFullPath(Weights))!);
            return (Path.Combine(folder, AnomalyPlots.RocFile), Path.Combine(folder, AnomalyPlots.ScoresFile));
        }
    }

    public override IEnumerable<FileArgument> Files =>
    [
        .. base.Files,
        FileArgument.Input("--baseline-data", BaselineData, "data file"),
        FileArgument.Input("--labels", Labels, "labels file"),
        FileArgument.Output("--plots (its ROC plot)", PlotPaths?.Roc, "plot"),
        FileArgument.Output("--plots (its score plot)", PlotPaths?.Scores, "plot"),
    ];

    public override ValidationResult Validate()
    {
        if (Labels is null && (Plots is not null || NoPlots))
        {
            return ValidationResult.Error("--plots and --no-plots go with --labels");
        }

        try
        {
            ParsedCorruption = Training.Corruption.Parse(Corruption);
        }
        catch (ArgumentException)
        {
            return Invalid("--corruption", Corruption, "expected none, masking:P, gaussian:S or saltpepper:P");
        }

        return Seed is not null && ParsedCorruption.IsNone
            ? ValidationResult.Error("--seed goes with --corruption (it seeds the corruption; without one nothing is random)")
            : base.Validate();
    }
}

/// <summary><c>edgeae eval</c>: mean loss, MSE and PSNR of a weight file on a data set, beside the PCA baseline.</summary>
internal sealed class EvalCommand(CliEnvironment environment) : EdgeAeCommand<EvalSettings>(environment)
{
    protected override int Run(EvalSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Labels is not null)
        {
            return AnomalyEvaluation.Run(Environment, settings);
        }

        // A .f32 cache is evaluated a block at a time, so data larger than memory can be evaluated too.
        using LoadedModel loaded = settings.Load(Environment);
        return Evaluate(settings, loaded.Handle, loaded.Model, loaded.Normalization, loaded.Data, loaded.DataName, cancellationToken);
    }

    private int Evaluate(EvalSettings settings, ModelHandle handle, IAutoencoder model, Normalization normalization, ISampleSource data, string dataName, CancellationToken cancellationToken)
    {
        Evaluation e = Trainer<IAutoencoder>.Evaluate(model, data, settings.ParsedCorruption, settings.CorruptionSeed);
        string lossName = Report.LossName(handle.Topology.Loss);
        string precision = model is Quantization.IQuantizedAutoencoder ? "int8" : "float32";
        Environment.Line($"{handle.Name} {handle.Topology} ({precision}) with {settings.Weights} on {data.Count} samples of {dataName} (normalisation {DataLoader.Describe(normalization)}, corruption {settings.ParsedCorruption}{(settings.ParsedCorruption.IsNone ? "" : $", seed {settings.CorruptionSeed}")})");
        Environment.Line($"mean {lossName} {Report.Figure(e.MeanLoss)}");
        Environment.Line($"MSE {Report.Figure(e.MeanSquaredError)}");
        Environment.Line($"PSNR {Report.Psnr(e.Psnr)}");
        BaselineReport? baseline = Baseline(settings, handle, normalization, data, e, cancellationToken);
        Environment.WriteJson(
            new EvalReport("eval", handle.Name, handle.Topology.ToString(), Report.LossKey(handle.Topology.Loss), settings.Weights!, precision, dataName, e.Count, DataLoader.Describe(normalization),
                settings.ParsedCorruption.ToString(), settings.CorruptionSeed, e.MeanLoss, e.MeanSquaredError, Report.Finite(e.Psnr), baseline),
            ReportJson.Default.EvalReport);
        return CommandLine.Success;
    }

    /// <summary>The PCA baseline, stored by train or fitted on --baseline-data, on the same (clean) data as the model.</summary>
    private BaselineReport? Baseline(EvalSettings settings, ModelHandle handle, Normalization normalization, ISampleSource data, Evaluation model, CancellationToken cancellationToken)
    {
        Pca? pca;
        string source;
        if (settings.BaselineData is not null)
        {
            RawData fit = DataLoader.Load(settings.BaselineData, settings.DataOptionsFor(settings.BaselineData), handle, Environment, "--baseline-data");
            DataLoader.CheckWidth(fit, handle);
            pca = Pca.Fit(Normalizer.ApplyInPlace(fit.Data, normalization), Math.Min(handle.Topology.CodeSize, handle.Topology.InputSize), cancellationToken);
            source = $"--baseline-data {fit.Name}";
        }
        else
        {
            pca = WeightFile.Read(settings.Weights!).Baseline;
            source = "weight file";
        }

        if (pca is null)
        {
            Environment.Line($"PCA baseline: not in {settings.Weights} (train stores one, quantize and calibrate keep it; imported models and files of older versions have none); --baseline-data FILE fits it on the training data");
            return null;
        }

        // Against a corrupted model input the baseline would be unfair only one way: it sees the clean data, so compare on that.
        BaselineReport report = Report.Baseline(pca, data, source, settings.ParsedCorruption.IsNone ? model.MeanSquaredError : null);
        Environment.Line(Report.BaselineLine(report, "this data"));
        return report;
    }
}

internal sealed class EncodeSettings : WeightsSettings
{
    [CommandOption("--out <FILE>")]
    [Description("codes.csv (one row of code values per sample) or codes.bin (raw little-endian float32, samples × code width).")]
    public string? Out { get; set; }

    public override IEnumerable<FileArgument> Files => [.. base.Files, FileArgument.Output("--out", Out, "code file")];

    public override ValidationResult Validate()
    {
        if (Out is null)
        {
            return ValidationResult.Error("--out <FILE> is required (.csv or .bin)");
        }

        string extension = Path.GetExtension(Out).ToLowerInvariant();
        return extension is ".csv" or ".bin" ? base.Validate() : Invalid("--out", Out, "expected a file ending in .csv or .bin");
    }
}

/// <summary><c>edgeae encode</c>: the code of every sample, as CSV or raw float32.</summary>
internal sealed class EncodeCommand(CliEnvironment environment) : EdgeAeCommand<EncodeSettings>(environment)
{
    protected override int Run(EncodeSettings settings, CancellationToken cancellationToken)
    {
        using LoadedModel loaded = settings.Load(Environment);
        (ModelHandle handle, IAutoencoder model, _, ISampleSource data, string name, _) = loaded;
        int width = handle.Topology.CodeSize;
        string outPath = Path.GetFullPath(settings.Out!);
        bool binary = WriteRows(outPath, data.Count, width, (i, code) => model.Encode(data[i], code));
        Environment.Line($"{data.Count} codes of width {width} from {name} → {outPath} ({(binary ? "little-endian float32" : "CSV")})");
        Environment.WriteJson(new EncodeReport("encode", handle.Name, settings.Weights!, name, data.Count, width, binary ? "float32le" : "csv", outPath), ReportJson.Default.EncodeReport);
        return CommandLine.Success;
    }

    /// <summary>
    /// Writes <paramref name="count"/> rows of <paramref name="width"/> values that <paramref name="row"/> fills, as CSV, or
    /// as raw little-endian float32 when <paramref name="path"/> ends in .bin (returns true then); atomically.
    /// </summary>
    public static bool WriteRows(string path, int count, int width, Action<int, float[]> row)
    {
        var values = new float[width];
        bool binary = Path.GetExtension(path).Equals(".bin", StringComparison.OrdinalIgnoreCase);
        if (binary)
        {
            OutputFile.Write(path, stream =>
            {
                var bytes = new byte[width * 4];
                for (int i = 0; i < count; i++)
                {
                    row(i, values);
                    for (int j = 0; j < width; j++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * j), values[j]);
                    }

                    stream.Write(bytes);
                }
            });
        }
        else
        {
            OutputFile.WriteText(path, writer =>
            {
                for (int i = 0; i < count; i++)
                {
                    row(i, values);
                    WriteRow(writer, values);
                }
            });
        }

        return binary;
    }

    /// <summary>One CSV row, invariant culture, round-trip precision.</summary>
    public static void WriteRow(TextWriter writer, ReadOnlySpan<float> values)
    {
        for (int j = 0; j < values.Length; j++)
        {
            if (j > 0)
            {
                writer.Write(',');
            }

            writer.Write(values[j].ToString("R", CultureInfo.InvariantCulture));
        }

        writer.Write('\n');
    }
}

internal sealed class ReconstructSettings : WeightsSettings
{
    [CommandOption("--out <FILE>")]
    [Description("recon.csv (one row per sample, in the data's original units: the weight file's normalisation undone) or recon.bin (little-endian float32, the same values).")]
    public string? Out { get; set; }

    public override IEnumerable<FileArgument> Files => [.. base.Files, FileArgument.Output("--out", Out, "reconstruction file")];

    public override ValidationResult Validate()
    {
        if (Out is null)
        {
            return ValidationResult.Error("--out <FILE> is required (.csv or .bin)");
        }

        string extension = Path.GetExtension(Out).ToLowerInvariant();
        return extension is ".csv" or ".bin" ? base.Validate() : Invalid("--out", Out, "expected a file ending in .csv or .bin");
    }
}

/// <summary><c>edgeae reconstruct</c>: every sample through the model, back in the data's original units.</summary>
internal sealed class ReconstructCommand(CliEnvironment environment) : EdgeAeCommand<ReconstructSettings>(environment)
{
    protected override int Run(ReconstructSettings settings, CancellationToken cancellationToken)
    {
        using LoadedModel loaded = settings.Load(Environment);
        (ModelHandle handle, IAutoencoder model, Normalization normalization, ISampleSource data, string name, _) = loaded;
        int width = data.Width;
        string outPath = Path.GetFullPath(settings.Out!);
        bool binary = EncodeCommand.WriteRows(outPath, data.Count, width, (i, output) =>
        {
            model.Reconstruct(data[i], output);
            normalization.Invert(output);
        });

        string units = normalization.Kind == NormalizationKind.None ? "the data's units (no normalisation)" : $"the data's original units ({DataLoader.Describe(normalization)} undone)";
        Environment.Line($"{data.Count} reconstructions of {width} values from {name} in {units} → {outPath}");
        Environment.WriteJson(new ReconstructReport("reconstruct", handle.Name, settings.Weights!, name, data.Count, width, binary ? "float32le" : "csv", "original", outPath), ReportJson.Default.ReconstructReport);
        return CommandLine.Success;
    }
}

internal sealed class InspectSettings : CommonSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The weight file (.eaw).")]
    public string File { get; set; } = "";

    public override IEnumerable<FileArgument> Files => [FileArgument.Input("the weight file", File, "weight file")];
}

/// <summary><c>edgeae inspect</c>: what a weight file holds, validated (checksum included) by <see cref="WeightFile.Read"/>.</summary>
internal sealed class InspectCommand(CliEnvironment environment) : EdgeAeCommand<InspectSettings>(environment)
{
    protected override int Run(InspectSettings settings, CancellationToken cancellationToken)
    {
        WeightFileInfo info;
        try
        {
            info = WeightFile.Read(settings.File);
        }
        catch (WeightFileException e) when (e.Reason == WeightFileErrorReason.ChecksumMismatch)
        {
            throw new CliException($"checksum: MISMATCH — {settings.File} is corrupt ({e.Message})", inner: e);
        }

        int? codeWidth = info.Layers.FirstOrDefault(l => l.Role == LayerRole.Code)?.Width;
        Environment.Line($"file: {info.Path} ({info.FileSize:N0} bytes, format version {info.FormatVersion})");
        Environment.Line($"topology: {info.Topology}");
        var layers = new Table().AddColumn("layer").AddColumn("role").AddColumn("dense").AddColumn("activation");
        for (int i = 0; i < info.Layers.Count; i++)
        {
            WeightFileLayer l = info.Layers[i];
            layers.AddRow($"L{i}", l.Role.ToString(), $"{l.InputWidth} → {l.Width}", l.Activation.ToString());
        }

        Environment.Console.Write(layers);
        Environment.Line($"input width: {info.InputSize}, code width: {codeWidth}, loss: {info.Loss}{(info.TiedWeights ? ", tied weights" : "")}");
        if (info.Quantization is { } q)
        {
            Environment.Line($"parameters: {info.ParameterCount:N0} in {info.TensorCount} tensors, int8 (int8 weights, int32 biases; {q.ParameterBytes:N0} bytes with scales, multipliers and tables)");
            Environment.Line(FormattableString.Invariant($"int8 input: scale {q.Input.Scale:G6}, zero point {q.Input.ZeroPoint}"));
            var scales = new Table().AddColumn("layer").AddColumn("activation").AddColumn("z scale / zp").AddColumn("output scale / zp")
                .AddColumn("weight scales (per output)").AddColumn("shift").AddColumn("multipliers");
            foreach (Quantization.QuantizedLayer l in q.Layers)
            {
                float[] ws = l.WeightScales.ToArray();
                int[] ms = l.Multipliers.ToArray();
                scales.AddRow(
                    $"L{l.Index}", l.Activation.ToString() + (l.Table.IsEmpty ? string.Empty : " (table)"),
                    FormattableString.Invariant($"{l.PreActivation.Scale:G4} / {l.PreActivation.ZeroPoint}"),
                    FormattableString.Invariant($"{l.Output.Scale:G4} / {l.Output.ZeroPoint}"),
                    FormattableString.Invariant($"{ws.Min():G3}..{ws.Max():G3} (mean {ws.Average():G3})"),
                    l.Shift.ToString(CultureInfo.InvariantCulture),
                    FormattableString.Invariant($"{ms.Min()}..{ms.Max()}"));
            }

            Environment.Console.Write(scales);
        }
        else
        {
            Environment.Line($"parameters: {info.ParameterCount:N0} in {info.TensorCount} tensors ({info.ParameterCount * 4L:N0} bytes of float32)");
        }

        Environment.Line($"normalisation: {DataLoader.Describe(info.Normalization)}");
        Environment.Line($"code quantisation: {(info.CodeBits is { } bits ? $"{bits} bits per code value" : "none")}");
        Environment.Line($"PCA baseline: {(info.Baseline is { } b ? $"{b.Components} components fitted on {b.Samples} samples" : "none")}");
        if (info.AnomalyThreshold is { } threshold)
        {
            Environment.Line(FormattableString.Invariant($"anomaly threshold: {threshold.Threshold:G9} ({threshold.Method} on {threshold.SampleCount} scores)"));
        }

        Environment.Line($"checksum: OK (CRC-32 0x{info.Checksum:X8})");
        Environment.WriteJson(
            new InspectReport("inspect", info.Path, info.FileSize, info.FormatVersion, info.Topology, info.InputSize, codeWidth, info.Loss == LossKind.BinaryCrossEntropy ? "bce" : "mse",
                info.TiedWeights, info.Layers.Select((l, i) => new LayerReport(i, l.Role.ToString().ToLowerInvariant(), l.InputWidth, l.Width, l.Activation.ToString().ToLowerInvariant())).ToArray(),
                info.Quantization is null ? "float32" : "int8", info.ParameterCount, info.Quantization?.ParameterBytes ?? info.ParameterCount * 4L, DataLoader.Describe(info.Normalization), $"0x{info.Checksum:X8}", true, info.CodeBits, info.Baseline?.Components, info.Baseline?.Samples, info.AnomalyThreshold?.Threshold, info.AnomalyThreshold?.Method.ToString(),
                info.Quantization is { } quantization ? Int8Report.Of(quantization) : null),
            ReportJson.Default.InspectReport);
        return CommandLine.Success;
    }
}
