using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using EdgeAe.Cli.Files;
using EdgeAe.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal sealed class PrepareSettings : NormalizedDataSettings
{
    [CommandOption("--out <FILE>")]
    [Description("The .f32 data cache to write (docs/data-cache.md); train reads it with --data.")]
    public string? Out { get; set; }

    public override IEnumerable<FileArgument> Files =>
    [
        .. base.Files,
        FileArgument.Output("--out", Out, "data cache"),
    ];

    public override ValidationResult Validate()
    {
        if (Data is null)
        {
            return ValidationResult.Error("--data is required: the CSV or IDX file to prepare");
        }

        if (Out is null)
        {
            return ValidationResult.Error("--out is required: the .f32 data cache to write");
        }

        return base.Validate();
    }
}

/// <summary>
/// <c>edgeae prepare</c>: streams a CSV (or reads an IDX) file into a <c>.f32</c> data cache — float32 samples normalised
/// by train's rules (or --scale / --standardize), with the normalisation and checksums in the header — written atomically.
/// A CSV file is never held in memory: its rows go to the cache's temporary file as they are parsed.
/// </summary>
internal sealed class PrepareCommand(CliEnvironment environment) : EdgeAeCommand<PrepareSettings>(environment)
{
    /// <summary>Rows between checks for an interrupt.</summary>
    private const int CancellationStride = 4096;

    protected override int Run(PrepareSettings settings, CancellationToken cancellationToken)
    {
        using var interruption = new Interruption(Environment.Cancellation, cancellationToken);
        bool existed = File.Exists(settings.Out);
        try
        {
            return Prepare(settings, interruption.Token);
        }
        catch (OperationCanceledException) when (interruption.Reason is not null)
        {
            Environment.Line($"interrupted ({interruption.Reason}): nothing was written{(existed ? $"; {settings.Out} is unchanged" : "")}");
            return interruption.ExitCode;
        }
    }

    private int Prepare(PrepareSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        string data = settings.Data!;
        string name = Path.GetFileName(data);
        ModelHandle? handle = settings.Model is null ? null : ModelHandle.Resolve(settings.Model, Environment);
        int? expected = handle?.Topology.InputSize;
        bool idx = DataLoader.LooksLikeIdx(data);
        int? width = null;
        Dataset? images = null;
        CsvOptions? csv = null;
        if (idx)
        {
            // IDX images are read whole (one byte per value on disk, four in memory).
            settings.DataOptions.RefuseFor($"--data {name} is an IDX file");
            images = IdxReader.ReadImages(data);
            width = images.Width;
        }
        else
        {
            DataFileOptions options = settings.DataOptions;
            csv = new CsvOptions { LabelColumn = options.LabelColumn, ReadLabels = false, HasHeader = options.Header, Separator = options.Separator, SkipRows = options.SkipRows, ExpectedWidth = expected };
        }

        if (expected is int inputs && width is int found && inputs != found)
        {
            throw new CliException($"{name} has {found} values per sample but {handle!.Name} takes {inputs} inputs");
        }

        DataKind kind = idx ? DataKind.Idx : DataKind.Csv;
        CsvLayout? layout = null;
        OutputFile.CreateFolderOf(settings.Out!);
        (int count, Normalization normalization) = DataCache.Write(settings.Out!, width, writer =>
        {
            if (images is not null)
            {
                for (int s = 0; s < images.Count; s++)
                {
                    writer.Add(images[s]);
                }

                return;
            }

            CsvReader.Stream(data, csv, row =>
            {
                if (writer.Count % CancellationStride == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (expected is int inputs && row.Length != inputs)
                {
                    throw new CliException($"{name} has {row.Length} values per sample but {handle!.Name} takes {inputs} inputs");
                }

                writer.Add(row);
            }, out CsvLayout read);
            layout = read;
        }, statistics => settings.Standardize ? statistics.FitStandardize()
            : settings.ParsedScale is { } scale ? Normalization.ScaleBy(scale, statistics.Width)
            : DataLoader.DefaultNormalization(kind, statistics.MaxAbsolute, statistics.Width));

        if (layout is { HeaderDetected: true } l)
        {
            string cells = string.Join(", ", l.Header) + (l.Columns > l.Header.Count ? ", …" : "");
            Environment.Line(FormattableString.Invariant($"{name}: row {l.HeaderRow} taken as a header ({cells}); --header false reads it as data"));
        }

        using DataCache cache = DataCache.Open(settings.Out!);
        if (handle is not null && handle.Topology.Loss == LossKind.BinaryCrossEntropy && (cache.Minimum < 0f || cache.Maximum > 1f))
        {
            Environment.Line(FormattableString.Invariant(
                $"note: the values span [{cache.Minimum}, {cache.Maximum}] after the normalisation; {handle.Name} (binary cross-entropy) needs [0, 1], so train refuses this cache: prepare it with --scale N (N ≥ the largest value)"));
        }

        long bytes = new FileInfo(settings.Out!).Length;
        Environment.Line(FormattableString.Invariant(
            $"prepared {settings.Out}: {count} samples of {cache.Width} values from {name}, normalisation {DataLoader.Describe(normalization)}, values in [{cache.Minimum:G6}, {cache.Maximum:G6}], {bytes / 1048576.0:F1} MiB in {clock.Elapsed.TotalSeconds:F1} s"));
        Environment.WriteJson(
            new PrepareReport("prepare", name, settings.Out!, count, cache.Width, DataLoader.Describe(normalization), cache.Minimum, cache.Maximum, bytes, clock.Elapsed.TotalSeconds),
            ReportJson.Default.PrepareReport);
        return CommandLine.Success;
    }
}
