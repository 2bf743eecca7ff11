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
        IAutoencoder model = handle.CreateFor(Weights!);
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

    [CommandOption("--json")]
    [Description("Print the figures as one JSON object (snake_case keys: mean_loss, mse, psnr_db, precision, ...).")]
    public bool Json { get; set; }

    public Corruption ParsedCorruption { get; private set; } = Training.Corruption.None;

    public override ValidationResult Validate()
    {
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
        (ModelHandle handle, IAutoencoder model, Normalization normalization, RawData raw, Dataset data) = settings.Load(environment);
        Evaluation e = Trainer<IAutoencoder>.Evaluate(model, data, settings.ParsedCorruption);
        string lossName = handle.Topology.Loss == LossKind.BinaryCrossEntropy ? "BCE" : "MSE";
        string precision = model is Quantization.IQuantizedAutoencoder ? "int8" : "float32";
        if (settings.Json)
        {
            environment.Line(System.Text.Json.JsonSerializer.Serialize(
                new EvalJsonReport("eval", handle.Name, handle.Topology.ToString(), lossName.ToLowerInvariant(), settings.Weights!, precision, raw.Name, data.Count,
                    DataLoader.Describe(normalization), settings.ParsedCorruption.ToString(), e.MeanLoss, e.MeanSquaredError, double.IsFinite(e.Psnr) ? e.Psnr : null),
                EvalJson.Default.EvalJsonReport));
            return CommandLine.Success;
        }

        environment.Line($"{handle.Name} {handle.Topology} ({precision}) with {settings.Weights} on {data.Count} samples of {raw.Name} (normalisation {DataLoader.Describe(normalization)}, corruption {settings.ParsedCorruption})");
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
        if (info.Quantization is { } q)
        {
            environment.Line($"parameters: {info.ParameterCount:N0} in {info.TensorCount} tensors, int8 (int8 weights, int32 biases; {q.ParameterBytes:N0} bytes with scales, multipliers and tables)");
            environment.Line(FormattableString.Invariant($"int8 input: scale {q.Input.Scale:G6}, zero point {q.Input.ZeroPoint}"));
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

            environment.Console.Write(scales);
        }
        else
        {
            environment.Line($"parameters: {info.ParameterCount:N0} in {info.TensorCount} tensors ({info.ParameterCount * 4L:N0} bytes of float32)");
        }

        environment.Line($"normalisation: {DataLoader.Describe(info.Normalization)}");
        environment.Line($"checksum: OK (CRC-32 0x{info.Checksum:X8})");
        return CommandLine.Success;
    }
}

/// <summary>What <c>eval --json</c> prints (snake_case keys; the loss key names the model's loss, "bce" or "mse").</summary>
internal sealed record EvalJsonReport(
    string Command, string Model, string Topology, string Loss, string Weights, string Precision, string Data, int Samples, string Normalization,
    string Corruption, double MeanLoss, double Mse, double? PsnrDb);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(EvalJsonReport))]
internal sealed partial class EvalJson : System.Text.Json.Serialization.JsonSerializerContext;
