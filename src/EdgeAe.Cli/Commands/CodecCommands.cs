using System.ComponentModel;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using EdgeAe.Cli.Files;
using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.IO;
using ScottPlot;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal sealed class CompressSettings : WeightsSettings
{
    [CommandOption("--out <FILE>")]
    [Description("The packets, back to back (docs/packet-format.md).")]
    public string? Out { get; set; }

    [CommandOption("--bits <N>")]
    [Description("8 or 16 bits per code value; default: the weight file's (train --code-bits). A sigmoid or tanh code needs no stored range.")]
    public int? Bits { get; set; }

    public override IEnumerable<FileArgument> Files => [.. base.Files, FileArgument.Output("--out", Out, "packet file")];

    public override ValidationResult Validate()
        => Out is null ? ValidationResult.Error("--out <FILE> is required")
            : Bits is not (null or 8 or 16) ? Invalid("--bits", Bits.Value.ToString(CultureInfo.InvariantCulture), "expected 8 or 16")
            : base.Validate();
}

/// <summary><c>edgeae compress</c>: every sample as one packet.</summary>
internal sealed class CompressCommand(CliEnvironment environment) : EdgeAeCommand<CompressSettings>(environment)
{
    protected override int Run(CompressSettings settings, CancellationToken cancellationToken)
    {
        using LoadedModel loaded = settings.Load(Environment);
        (ModelHandle handle, IAutoencoder model, _, ISampleSource data, string name, RawData? raw) = loaded;
        PacketCodec codec = CodecCli.Load(settings.Weights!, model, settings.Bits);
        string outPath = Path.GetFullPath(settings.Out!);
        OutputFile.Write(outPath, file =>
        {
            var packet = new byte[codec.PacketLength];
            for (int i = 0; i < data.Count; i++)
            {
                codec.Encode(data[i], packet);
                file.Write(packet);
            }
        });

        int rawBytes = CodecCli.RawBytesPerValue(raw) * data.Width;
        Environment.Line($"{data.Count} packets of {codec.PacketLength} bytes ({handle.Topology.CodeSize} code values × {codec.Quantizer.Bits} bits + 4) from {name} → {outPath}");
        Environment.Line(FormattableString.Invariant($"model id 0x{codec.ModelId:X4}; {(long)codec.PacketLength * data.Count:N0} bytes against {(long)rawBytes * data.Count:N0} raw ({CodecCli.RawBytesPerValue(raw)} byte(s) per value): ratio {(double)rawBytes / codec.PacketLength:F1}×"));
        Environment.WriteJson(
            new CompressReport("compress", handle.Name, settings.Weights!, name, data.Count, codec.PacketLength, codec.Quantizer.Bits, FormattableString.Invariant($"0x{codec.ModelId:X4}"),
                (long)codec.PacketLength * data.Count, (long)rawBytes * data.Count, (double)rawBytes / codec.PacketLength, outPath),
            ReportJson.Default.CompressReport);
        return CommandLine.Success;
    }
}

internal sealed class DecompressSettings : CommonSettings
{
    [CommandOption("--weights <FILE>")]
    [Description("The weight file the packets were made with.")]
    public string? Weights { get; set; }

    [CommandOption("--model <FILE>")]
    [Description("The C# declaration of the model; default: the built-in DigitsAe.")]
    public string? Model { get; set; }

    [CommandOption("--in <FILE>")]
    [Description("The packets written by compress.")]
    public string? In { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("Reconstructions as CSV, one row per packet, in the data's original units (the weight file's normalisation undone).")]
    public string? Out { get; set; }

    [CommandOption("--bits <N>")]
    [Description("8 or 16; default: the weight file's.")]
    public int? Bits { get; set; }

    public override IEnumerable<FileArgument> Files =>
    [
        .. FileArgument.Declaration("--model", Model),
        FileArgument.Input("--weights", Weights, "weight file"),
        FileArgument.Input("--in", In, "packet file"),
        FileArgument.Output("--out", Out, "reconstruction file"),
    ];

    public override ValidationResult Validate()
        => Weights is null ? ValidationResult.Error("--weights <FILE> is required")
            : In is null ? ValidationResult.Error("--in <FILE> is required")
            : Out is null ? ValidationResult.Error("--out <FILE> is required")
            : Bits is not (null or 8 or 16) ? Invalid("--bits", Bits.Value.ToString(CultureInfo.InvariantCulture), "expected 8 or 16")
            : base.Validate();
}

/// <summary><c>edgeae decompress</c>: packets back into reconstructions; a bad packet stops with its reason.</summary>
internal sealed class DecompressCommand(CliEnvironment environment) : EdgeAeCommand<DecompressSettings>(environment)
{
    protected override int Run(DecompressSettings settings, CancellationToken cancellationToken)
    {
        ModelHandle handle = ModelHandle.Resolve(settings.Model, Environment);
        IAutoencoder model = handle.CreateFor(settings.Weights!);
        WeightsSettings.LoadWeights(settings.Weights!, model, settings.Model);
        PacketCodec codec = CodecCli.Load(settings.Weights!, model, settings.Bits, out Normalization normalization);
        string outPath = Path.GetFullPath(settings.Out!);
        if (new FileInfo(settings.In!).Length == 0)
        {
            // A transfer that failed or a compress that never ran, not a file of zero samples: say so, write nothing.
            throw new CliException($"{settings.In}: the file is empty, it holds no packets; {outPath} was not written");
        }

        int count = 0;
        try
        {
            // All packets are checked as they are decoded; a bad one abandons the write and the old file stays.
            OutputFile.WriteText(outPath, writer =>
            {
                using var input = new FileStream(settings.In!, FileMode.Open, FileAccess.Read);
                var scratch = new float[handle.Topology.InputSize];
                foreach (float[] reconstruction in codec.DecodeStream(input))
                {
                    reconstruction.CopyTo(scratch, 0);
                    normalization.Invert(scratch);
                    EncodeCommand.WriteRow(writer, scratch);
                    count++;
                }
            });
        }
        catch (PacketException e)
        {
            throw new CliException($"{settings.In}: {e.Message} ({e.Reason}); {outPath} was not written", inner: e);
        }

        Environment.Line($"{count} packets decoded with model id 0x{codec.ModelId:X4} ({handle.Name}) → {outPath}");
        Environment.WriteJson(new DecompressReport("decompress", handle.Name, settings.Weights!, settings.In!, count, FormattableString.Invariant($"0x{codec.ModelId:X4}"), outPath), ReportJson.Default.DecompressReport);
        return CommandLine.Success;
    }
}

internal sealed class RdSettings : ModelDataSettings
{
    [CommandOption("--weights <FILE>")]
    [Description("One or more weight files of the same declaration (repeat the option); each is measured as float32 code and at 16 and 8 bits.")]
    public string[] Weights { get; set; } = [];

    [CommandOption("--raw-bytes <N>")]
    [Description("Bytes of one raw value for the compression ratio: 1 for uint8 pixels, 4 for float32 sensor data; default: 1 for IDX images and the bundled digits, 4 for CSV.")]
    public int? RawBytes { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("The PNG plot (PSNR against bytes per sample); the table is printed.")]
    public string? Out { get; set; }

    public override IEnumerable<FileArgument> Files =>
        [.. base.Files, .. Weights.Select(w => FileArgument.Input("--weights", w, "weight file")), FileArgument.Output("--out", Out, "plot")];

    public override ValidationResult Validate()
        => Weights.Length == 0 ? ValidationResult.Error("--weights <FILE> is required (one or more)")
            : RawBytes is not (null or 1 or 2 or 4 or 8) ? Invalid("--raw-bytes", RawBytes.Value.ToString(CultureInfo.InvariantCulture), "expected 1, 2, 4 or 8")
            : base.Validate();
}

/// <summary><c>edgeae rd</c>: the rate–distortion report.</summary>
internal sealed class RdCommand(CliEnvironment environment) : EdgeAeCommand<RdSettings>(environment)
{
    protected override int Run(RdSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Out is not null)
        {
            Plots.EnsureFonts();
        }

        ModelHandle handle = ModelHandle.Resolve(settings.Model, Environment);
        RawData raw = DataLoader.Load(settings.Data, settings.DataOptions, handle, Environment);
        DataLoader.CheckWidth(raw, handle);
        int rawPerValue = settings.RawBytes ?? CodecCli.RawBytesPerValue(raw);
        double rawPerSample = (double)rawPerValue * raw.Data.Width;
        var table = new Table().AddColumn("weights").AddColumn("code").AddColumn("precision").AddColumn("bytes/sample").AddColumn("ratio").AddColumn("MSE").AddColumn("PSNR dB");
        var points = new List<RdPoint>();
        var rows = new List<RdRowReport>();
        foreach (string weights in settings.Weights)
        {
            IAutoencoder model = handle.CreateFor(weights);
            Normalization normalization = WeightsSettings.LoadWeights(weights, model, settings.Model);
            DataLoader.CheckTargets(raw, normalization, handle, $"this data does not fit the normalisation stored in {weights} ({DataLoader.Describe(normalization)})");
            Dataset data = Normalizer.Apply(raw.Data, normalization);
            string name = Path.GetFileName(weights);
            int k = handle.Topology.CodeSize;
            var code = new float[k];
            void Row(string precision, double bytes, (double Mse, double Psnr) m)
            {
                table.AddRow(name, k.ToString(CultureInfo.InvariantCulture), precision, F(bytes, "F1"), F(rawPerSample / bytes, "F1") + "×", F(m.Mse, "G4"), double.IsFinite(m.Psnr) ? F(m.Psnr, "F2") : "n/a");
                points.Add(new RdPoint($"{name} {precision}", bytes, m.Mse, m.Psnr, Lossless: false));
                rows.Add(new RdRowReport(weights, precision.Split(' ')[0], bytes, rawPerSample / bytes, m.Mse, Report.Finite(m.Psnr), precision.Contains("measured", StringComparison.Ordinal)));
            }

            Row("float32", 4.0 * k, CodecCli.Measure(data, (x, y) =>
            {
                model.Encode(x, code);
                model.Decode(code, y);
            }));
            foreach (int bits in new[] { 16, 8 })
            {
                PacketCodec codec = CodecCli.LoadOrMeasure(weights, model, bits, data, out string rangeNote);
                var packet = new byte[codec.PacketLength];
                Row($"{bits}-bit packet{rangeNote}", codec.PacketLength, CodecCli.Measure(data, (x, y) =>
                {
                    codec.Encode(x, packet);
                    codec.Decode(packet, y);
                }));
            }
        }

        byte[] rawBytes = CodecCli.RawBytes(raw.Data, rawPerValue);
        foreach ((string name, double bytes) in CodecCli.Lossless(rawBytes))
        {
            double perSample = bytes / raw.Data.Count;
            table.AddRow(name, "–", "lossless", F(perSample, "F1"), F(rawPerSample / perSample, "F1") + "×", "0", "∞");
            rows.Add(new RdRowReport(name, "lossless", perSample, rawPerSample / perSample, 0, null, false));
            points.Add(new RdPoint(name, perSample, 0, double.PositiveInfinity, Lossless: true));
        }

        Environment.Line($"{handle.Name} {handle.Topology} on {raw.Data.Count} samples of {raw.Name}: raw {rawPerSample:N0} bytes per sample ({rawPerValue} byte(s) per value); MSE and PSNR in the normalised units the model sees, PSNR peak = the data's value range");
        Environment.Console.Write(table);
        string? plotPath = null, plotMetric = null;
        if (settings.Out is not null)
        {
            string outPath = plotPath = Path.GetFullPath(settings.Out);
            Plot plot = Plots.RateDistortion(points, out plotMetric, out string? reason);
            OutputFile.WritePng(outPath, plot, Plots.LossWidth, Plots.LossHeight);
            Environment.Line(reason is null ? $"plot → {outPath}" : $"plot: MSE against bytes per sample, the lossless compressors at 0 ({reason}) → {outPath}");
        }

        Environment.WriteJson(new RdReport("rd", handle.Name, raw.Name, raw.Data.Count, rawPerValue, rawPerSample, rows, plotPath, plotMetric), ReportJson.Default.RdReport);
        return CommandLine.Success;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>Helpers the codec commands share.</summary>
internal static class CodecCli
{
    public static PacketCodec Load(string weights, IAutoencoder model, int? bits) => Load(weights, model, bits, out _);

    public static PacketCodec Load(string weights, IAutoencoder model, int? bits, out Normalization normalization)
    {
        try
        {
            return PacketCodec.Load(weights, model, bits, out normalization);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message, inner: e);
        }
    }

    /// <summary>The file's codec, or (no range stored) one with ranges measured on <paramref name="data"/>, noted in the report.</summary>
    public static PacketCodec LoadOrMeasure(string weights, IAutoencoder model, int bits, Dataset data, out string note)
    {
        note = string.Empty;
        try
        {
            return PacketCodec.Load(weights, model, bits);
        }
        catch (ArgumentException)
        {
            note = " (range measured on this data)";
            return new PacketCodec(model, CodeQuantizer.Measure(model, data, bits), PacketFormat.ModelId(WeightFile.Read(weights).Checksum));
        }
    }

    /// <summary>Bytes per raw value: one for images (IDX, the bundled digits), four for CSV and for a .f32 cache (<paramref name="raw"/> null: float32).</summary>
    public static int RawBytesPerValue(RawData? raw) => raw is { Kind: DataKind.Idx or DataKind.Bundled } ? 1 : 4;

    public static (double Mse, double Psnr) Measure(Dataset data, Action<ReadOnlySpan<float>, Span<float>> reconstruct)
    {
        var output = new float[data.Width];
        double squared = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int i = 0; i < data.Count; i++)
        {
            reconstruct(data[i], output);
            squared += Metrics.MeanSquaredError(output, data[i]);
            foreach (float v in data[i])
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        double mse = squared / data.Count;
        return (mse, Metrics.Psnr(mse, (double)max - min));
    }

    /// <summary>The raw values as stored: uint8 (rounded, clamped) for 1 byte per value, else little-endian float32 (or wider).</summary>
    public static byte[] RawBytes(Dataset raw, int bytesPerValue)
    {
        ReadOnlySpan<float> values = raw.Values;
        var bytes = new byte[values.Length * bytesPerValue];
        for (int i = 0; i < values.Length; i++)
        {
            switch (bytesPerValue)
            {
                case 1:
                    bytes[i] = (byte)Math.Clamp(MathF.Round(values[i]), 0, 255);
                    break;
                case 2:
                    System.Buffers.Binary.BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
                    break;
                case 4:
                    System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
                    break;
                default:
                    System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), values[i]);
                    break;
            }
        }

        return bytes;
    }

    public static IEnumerable<(string Name, double Bytes)> Lossless(byte[] raw)
    {
        using (var memory = new MemoryStream())
        {
            using (var z = new DeflateStream(memory, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                z.Write(raw);
            }

            yield return ("Deflate", memory.Length);
        }

        using (var memory = new MemoryStream())
        {
            using (var z = new BrotliStream(memory, new BrotliCompressionOptions { Quality = 11 }, leaveOpen: true))
            {
                z.Write(raw);
            }

            yield return ("Brotli q11", memory.Length);
        }
    }
}
