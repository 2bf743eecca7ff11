using System.Buffers.Binary;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal class WeightsSettings : ModelDataSettings
{
    [CommandOption("--weights <FILE>")]
    [Description("A weight file written by train (.eaw); its normalisation is applied to the data.")]
    public string? Weights { get; set; }

    public override ValidationResult Validate()
        => Weights is null ? ValidationResult.Error("--weights <FILE> is required") : base.Validate();

    /// <summary>The model with the file's parameters, the file's normalisation and the normalised data.</summary>
    public (ModelHandle Handle, IAutoencoder Model, Normalization Normalization, RawData Raw, Dataset Data) Load(CliEnvironment environment)
    {
        if (!File.Exists(Weights))
        {
            throw new CliException($"weight file not found: {Weights}");
        }

        ModelHandle handle = ModelHandle.Resolve(Model, environment);
        IAutoencoder model = handle.Create(handle.Topology.Seed);
        Normalization normalization = WeightFile.Load(Weights!, model);
        RawData raw = DataLoader.Load(Data, DataOptions);
        DataLoader.CheckWidth(raw, handle);
        return (handle, model, normalization, raw, Normalizer.Apply(raw.Data, normalization));
    }
}

internal sealed class EvalSettings : WeightsSettings
{
    [CommandOption("--corruption <SPEC>")]
    [Description("Corrupt the inputs (seeded) and compare against the clean data: none | masking:P | gaussian:S | saltpepper:P.")]
    [DefaultValue("none")]
    public string Corruption { get; set; } = "none";

    [CommandOption("--labels <FILE>")]
    [Description("Anomaly detection: one 0/1 label per sample (1 = anomalous); reports ROC AUC, partial AUC, precision/recall/F1 at the stored threshold and writes roc.png and scores.png.")]
    public string? Labels { get; set; }

    [CommandOption("--json")]
    [Description("With --labels: print the results as one JSON object (keys auc, pauc, precision, recall, f1, …).")]
    public bool Json { get; set; }

    [CommandOption("--plots <DIR>")]
    [Description("With --labels: folder for roc.png and scores.png (default: the weight file's folder).")]
    public string? Plots { get; set; }

    [CommandOption("--no-plots")]
    [Description("With --labels: do not write roc.png and scores.png.")]
    public bool NoPlots { get; set; }

    public Corruption ParsedCorruption { get; private set; } = Training.Corruption.None;

    public override ValidationResult Validate()
    {
        if (Labels is null && (Json || Plots is not null || NoPlots))
        {
            return ValidationResult.Error("--json, --plots and --no-plots go with --labels");
        }

        try
        {
            ParsedCorruption = Training.Corruption.Parse(Corruption);
        }
        catch (ArgumentException)
        {
            return Invalid("--corruption", Corruption, "expected none, masking:P, gaussian:S or saltpepper:P");
        }

        return base.Validate();
    }
}

/// <summary><c>edgeae eval</c>: mean loss, MSE and PSNR of a weight file on a data set.</summary>
internal sealed class EvalCommand(CliEnvironment environment) : Command<EvalSettings>
{
    public override int Execute(CommandContext context, EvalSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Labels is not null)
        {
            return AnomalyEvaluation.Run(environment, settings);
        }

        (ModelHandle handle, IAutoencoder model, Normalization normalization, RawData raw, Dataset data) = settings.Load(environment);
        Evaluation e = Trainer<IAutoencoder>.Evaluate(model, data, settings.ParsedCorruption);
        string lossName = handle.Topology.Loss == LossKind.BinaryCrossEntropy ? "BCE" : "MSE";
        environment.Line($"{handle.Name} {handle.Topology} with {settings.Weights} on {data.Count} samples of {raw.Name} (normalisation {DataLoader.Describe(normalization)}, corruption {settings.ParsedCorruption})");
        environment.Line(FormattableString.Invariant($"mean {lossName} {e.MeanLoss:F6}"));
        environment.Line(FormattableString.Invariant($"MSE {e.MeanSquaredError:F6}"));
        environment.Line(FormattableString.Invariant($"PSNR {e.Psnr:F2} dB"));
        return CommandLine.Success;
    }
}

internal sealed class EncodeSettings : WeightsSettings
{
    [CommandOption("--out <FILE>")]
    [Description("codes.csv (one row of code values per sample) or codes.bin (raw little-endian float32, samples × code width).")]
    public string? Out { get; set; }

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
internal sealed class EncodeCommand(CliEnvironment environment) : Command<EncodeSettings>
{
    public override int Execute(CommandContext context, EncodeSettings settings, CancellationToken cancellationToken)
    {
        (ModelHandle handle, IAutoencoder model, _, RawData raw, Dataset data) = settings.Load(environment);
        int width = handle.Topology.CodeSize;
        var code = new float[width];
        string outPath = Path.GetFullPath(settings.Out!);
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        bool binary = Path.GetExtension(outPath).Equals(".bin", StringComparison.OrdinalIgnoreCase);
        using (var file = new FileStream(outPath, FileMode.Create, FileAccess.Write))
        {
            if (binary)
            {
                var bytes = new byte[width * 4];
                for (int i = 0; i < data.Count; i++)
                {
                    model.Encode(data[i], code);
                    for (int j = 0; j < width; j++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * j), code[j]);
                    }

                    file.Write(bytes);
                }
            }
            else
            {
                using var writer = new StreamWriter(file, new UTF8Encoding(false));
                var line = new StringBuilder();
                for (int i = 0; i < data.Count; i++)
                {
                    model.Encode(data[i], code);
                    line.Clear();
                    for (int j = 0; j < width; j++)
                    {
                        line.Append(j == 0 ? "" : ",").Append(code[j].ToString("R", CultureInfo.InvariantCulture));
                    }

                    writer.WriteLine(line);
                }
            }
        }

        environment.Line($"{data.Count} codes of width {width} from {raw.Name} → {outPath} ({(binary ? "little-endian float32" : "CSV")})");
        return CommandLine.Success;
    }
}

internal sealed class InspectSettings : CommonSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The weight file (.eaw).")]
    public string File { get; set; } = "";
}

/// <summary><c>edgeae inspect</c>: what a weight file holds, validated (checksum included) by <see cref="WeightFile.Read"/>.</summary>
internal sealed class InspectCommand(CliEnvironment environment) : Command<InspectSettings>
{
    public override int Execute(CommandContext context, InspectSettings settings, CancellationToken cancellationToken)
    {
        if (!System.IO.File.Exists(settings.File))
        {
            throw new CliException($"weight file not found: {settings.File}");
        }

        WeightFileInfo info;
        try
        {
            info = WeightFile.Read(settings.File);
        }
        catch (WeightFileException e) when (e.Reason == WeightFileErrorReason.ChecksumMismatch)
        {
            throw new CliException($"checksum: MISMATCH — {settings.File} is corrupt ({e.Message})", inner: e);
        }

        environment.Line($"file: {info.Path} ({info.FileSize:N0} bytes, format version {info.FormatVersion})");
        environment.Line($"topology: {info.Topology}");
        var layers = new Table().AddColumn("layer").AddColumn("role").AddColumn("dense").AddColumn("activation");
        for (int i = 0; i < info.Layers.Count; i++)
        {
            WeightFileLayer l = info.Layers[i];
            layers.AddRow($"L{i}", l.Role.ToString(), $"{l.InputWidth} → {l.Width}", l.Activation.ToString());
        }

        environment.Console.Write(layers);
        environment.Line($"input width: {info.InputSize}, code width: {info.Layers.FirstOrDefault(l => l.Role == LayerRole.Code)?.Width}, loss: {info.Loss}{(info.TiedWeights ? ", tied weights" : "")}");
        environment.Line($"parameters: {info.ParameterCount:N0} in {info.TensorCount} tensors ({info.ParameterCount * 4L:N0} bytes of float32)");
        environment.Line($"normalisation: {DataLoader.Describe(info.Normalization)}");
        if (info.AnomalyThreshold is { } threshold)
        {
            environment.Line(FormattableString.Invariant($"anomaly threshold: {threshold.Threshold:G9} ({threshold.Method} on {threshold.SampleCount} scores)"));
        }

        environment.Line($"checksum: OK (CRC-32 0x{info.Checksum:X8})");
        return CommandLine.Success;
    }
}
