using System.Globalization;
using System.IO.Compression;
using EdgeAe.Data;

namespace EdgeAe.Cli;

/// <summary>How a data file is read: CSV options (IDX files need none).</summary>
internal sealed record DataFileOptions(int? LabelColumn, bool? Header, char Separator = ',', int SkipRows = 0)
{
    /// <summary>The first CSV option given (<c>--label-column</c>, <c>--header</c>, <c>--delimiter</c>, <c>--skip-rows</c>), or null.</summary>
    public string? CsvOption => LabelColumn is not null ? "--label-column"
        : Header is not null ? "--header"
        : Separator != ',' ? "--delimiter"
        : SkipRows != 0 ? "--skip-rows"
        : null;

    /// <summary>
    /// True when another data file of the same command is CSV and reads these options (train's <c>--data</c> and
    /// <c>--validation</c> share them), so a file of another kind does not refuse them.
    /// </summary>
    public bool ReadByAnotherFile { get; init; }

    /// <summary>
    /// Refuses CSV options for data that is not CSV (<paramref name="source"/> says what it is) unless another file reads
    /// them: they would be ignored, and a label column left in or a row not skipped is not what the user asked for. A
    /// usage error (exit code 2).
    /// </summary>
    public void RefuseFor(string source)
    {
        if (!ReadByAnotherFile && CsvOption is { } option)
        {
            throw CliException.Usage($"{option} is a CSV option, but {source}: leave {option} out");
        }
    }
}

/// <summary>A data set as read from disk, before normalisation.</summary>
/// <param name="Data">The raw values.</param>
/// <param name="Name">The file name, or "bundled UCI digits".</param>
/// <param name="Kind">CSV, IDX or the bundled digits.</param>
/// <param name="Layout">For CSV: where the header and the first sample are.</param>
/// <param name="LabelIndex">For CSV: the 0-based label column, or −1.</param>
internal sealed record RawData(Dataset Data, string Name, DataKind Kind, CsvLayout? Layout = null, int LabelIndex = -1)
{
    /// <summary>Where sample <paramref name="sample"/>, feature <paramref name="feature"/> is, e.g. "x.csv row 12, column 3".</summary>
    public string Locate(int sample, int feature) => Kind switch
    {
        DataKind.Csv => FormattableString.Invariant($"{Name} row {Layout!.FirstDataRow + sample}, column {feature + 1 + (LabelIndex >= 0 && LabelIndex <= feature ? 1 : 0)}"),
        DataKind.Idx => FormattableString.Invariant($"{Name} image {sample + 1}, pixel {feature + 1}"),
        _ => FormattableString.Invariant($"{Name} sample {sample + 1}, pixel {feature + 1}"),
    };
}

internal enum DataKind
{
    Bundled,
    Csv,
    Idx,
}

/// <summary>Reads data files (format by content: IDX magic, else CSV), checks them against a model and chooses default normalisations.</summary>
internal static class DataLoader
{
    /// <summary>Inputs of the bundled UCI digits (8 × 8 pixels).</summary>
    private const int DigitsWidth = 64;

    /// <summary>
    /// The file at <paramref name="path"/>, or without one the bundled UCI digits — only for a model of 64 inputs, the
    /// digits' width; any other model needs its data named. CSV files are read expecting the model's input width, so a
    /// longer row fails at once; a detected header is reported on <paramref name="environment"/>.
    /// </summary>
    public static RawData Load(string? path, DataFileOptions options, ModelHandle model, CliEnvironment environment, string option = "--data")
    {
        int width = model.Topology.InputSize;
        if (path is null)
        {
            if (width != DigitsWidth)
            {
                throw new CliException($"{option} is required: {model.Name} takes {width} inputs, and the bundled UCI digits used without {option} have {DigitsWidth}");
            }

            options.RefuseFor($"without {option} the data is the bundled UCI digits");
            return new RawData(BundledData.DigitsRaw(), "bundled UCI digits", DataKind.Bundled);
        }

        try
        {
            if (DataCache.IsCache(path))
            {
                // A cache holds normalised float32 samples; the options that come here read the data in its own units
                // (and normalise it themselves, or fit something on it), so they take the file it was prepared from.
                throw new CliException($"{option} {path} is an EdgeAe data cache (written by edgeae prepare): {option} reads the data in its own units; give it the CSV or IDX file the cache was prepared from (docs/data-cache.md lists the options that read caches)");
            }

            if (LooksLikeIdx(path))
            {
                options.RefuseFor($"{option} {Path.GetFileName(path)} is an IDX file");
                return new RawData(IdxReader.ReadImages(path), Path.GetFileName(path), DataKind.Idx);
            }

            var csv = new CsvOptions
            {
                LabelColumn = options.LabelColumn,
                ReadLabels = false, // no command uses the labels: the column is dropped, whatever it holds (class names too)
                HasHeader = options.Header,
                Separator = options.Separator,
                SkipRows = options.SkipRows,
                ExpectedWidth = width,
            };
            Dataset data = CsvReader.Read(path, csv, out CsvLayout layout);
            if (layout.HeaderDetected)
            {
                string cells = string.Join(", ", layout.Header) + (layout.Columns > layout.Header.Count ? ", …" : "");
                environment.Line(FormattableString.Invariant($"{Path.GetFileName(path)}: row {layout.HeaderRow} taken as a header ({cells}); --header false reads it as data"));
            }

            int labelIndex = options.LabelColumn is int l ? (l < 0 ? layout.Columns + l : l) : -1;
            return new RawData(data, Path.GetFileName(path), DataKind.Csv, layout, labelIndex);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the data file {path}: {e.Message}", inner: e);
        }
    }

    /// <summary>
    /// The <c>.f32</c> cache at <paramref name="path"/> for a command that takes data beside a weight file: its samples must
    /// be as wide as the model's input and normalised as the weight file says (a cache holds normalised samples; other
    /// data files are normalised with the weight file's normalisation). Otherwise one line naming both.
    /// </summary>
    public static DataCache OpenCache(string path, string option, DataFileOptions options, ModelHandle model, string weights, Normalization normalization)
    {
        DataCache cache = OpenCache(path, option, options, model);
        if (!cache.Normalization.Equals(normalization))
        {
            cache.Dispose();
            throw new CliException($"{option} {Path.GetFileName(path)} was prepared with the normalisation {Describe(cache.Normalization)} but --weights {weights} holds {Describe(normalization)}: prepare the data with the weight file's normalisation, or give the CSV/IDX file");
        }

        return cache;
    }

    /// <summary>
    /// The <c>.f32</c> cache at <paramref name="path"/>, whose samples must be as wide as the model's input. CSV options
    /// are refused: prepare applied them when it wrote the cache.
    /// </summary>
    public static DataCache OpenCache(string path, string option, DataFileOptions options, ModelHandle model)
        => OpenCache(path, option, options, model.Topology.InputSize, FormattableString.Invariant($"{model.Name} takes {model.Topology.InputSize}"));

    /// <summary>
    /// The <c>.f32</c> cache at <paramref name="path"/>, whose samples must be <paramref name="width"/> values wide
    /// (<paramref name="takes"/> says why, after a semicolon). CSV options are refused: prepare applied them.
    /// </summary>
    public static DataCache OpenCache(string path, string option, DataFileOptions options, int width, string takes)
    {
        options.RefuseFor($"{option} {Path.GetFileName(path)} is a .f32 cache (prepare read its CSV options)");
        DataCache cache = DataCache.Open(path);
        if (cache.Width != width)
        {
            cache.Dispose();
            throw new CliException(FormattableString.Invariant($"{option} {Path.GetFileName(path)} holds {cache.Width}-wide samples; {takes}"));
        }

        return cache;
    }

    /// <summary>
    /// A binary cross-entropy model reconstructs values in [0, 1]: fails when the cache's normalised values (its stored
    /// minimum and maximum) fall outside, with <paramref name="hint"/>.
    /// </summary>
    public static void CheckTargets(DataCache cache, ModelHandle model, string hint)
    {
        if (model.Topology.Loss == LossKind.BinaryCrossEntropy && (cache.Minimum < 0f || cache.Maximum > 1f))
        {
            throw new CliException(FormattableString.Invariant(
                $"{Path.GetFileName(cache.FilePath)} holds values in [{cache.Minimum}, {cache.Maximum}] after its normalisation ({Describe(cache.Normalization)}), outside [0, 1], the range a binary cross-entropy model reconstructs: {hint}"));
        }
    }

    /// <summary>Fails with one line when the samples are not as wide as the model's input.</summary>
    public static void CheckWidth(RawData data, ModelHandle model)
    {
        if (data.Data.Width != model.Topology.InputSize)
        {
            throw new CliException($"{data.Name} has {data.Data.Width} values per sample but {model.Name} takes {model.Topology.InputSize} inputs");
        }
    }

    /// <summary>
    /// A binary cross-entropy model reconstructs values in [0, 1]: fails naming the first feature (in file order) whose
    /// normalised minimum or maximum falls outside, with its row, column and value and <paramref name="hint"/>.
    /// Checked on the raw data before it is normalised (normalisations are increasing, per feature).
    /// </summary>
    public static void CheckTargets(RawData raw, Normalization normalization, ModelHandle model, string hint)
    {
        if (model.Topology.Loss != LossKind.BinaryCrossEntropy)
        {
            return;
        }

        Dataset data = raw.Data;
        int width = data.Width;
        var low = new (float Value, int Sample)[width];
        var high = new (float Value, int Sample)[width];
        Array.Fill(low, (float.PositiveInfinity, -1));
        Array.Fill(high, (float.NegativeInfinity, -1));
        for (int s = 0; s < data.Count; s++)
        {
            ReadOnlySpan<float> row = data[s];
            for (int f = 0; f < width; f++)
            {
                if (row[f] < low[f].Value)
                {
                    low[f] = (row[f], s);
                }

                if (row[f] > high[f].Value)
                {
                    high[f] = (row[f], s);
                }
            }
        }

        var one = new float[width];
        for (int f = 0; f < width; f++)
        {
            foreach ((float value, int sample) in new[] { low[f], high[f] })
            {
                one.AsSpan().Clear();
                one[f] = value;
                normalization.Apply(one);
                if (one[f] is < 0f or > 1f)
                {
                    float min = low.Min(x => x.Value), max = high.Max(x => x.Value);
                    throw new CliException(FormattableString.Invariant(
                        $"{raw.Locate(sample, f)}: {value} becomes {one[f]} after the normalisation ({Describe(normalization)}), outside [0, 1], the range a binary cross-entropy model reconstructs; the data spans [{min}, {max}]: {hint}"));
                }
            }
        }
    }

    /// <summary>
    /// The normalisation train uses when none is asked for: bundled digits ÷ 16, IDX images ÷ 255,
    /// CSV ÷ the largest absolute training value when that exceeds 1 (data already within [−1, 1]
    /// is left as it is).
    /// </summary>
    public static Normalization DefaultNormalization(RawData training)
    {
        float max = 0f;
        if (training.Kind == DataKind.Csv)
        {
            foreach (float v in training.Data.Values)
            {
                max = Math.Max(max, Math.Abs(v));
            }
        }

        return DefaultNormalization(training.Kind, max, training.Data.Width);
    }

    /// <summary>The same rules from the largest absolute value <paramref name="maxAbsolute"/> (used by CSV only).</summary>
    public static Normalization DefaultNormalization(DataKind kind, float maxAbsolute, int width) => kind switch
    {
        DataKind.Bundled => Normalization.ScaleBy(BundledData.DigitsPixelMax, width),
        DataKind.Idx => Normalization.ScaleBy(255f, width),
        _ => maxAbsolute > 1f ? Normalization.ScaleBy(maxAbsolute, width) : Normalization.None,
    };

    /// <summary>
    /// <paramref name="normalization"/> of one frame repeated for <paramref name="frames"/> frames side by side: what it does
    /// to a window of frames, feature by feature (itself for one frame; none stays none).
    /// </summary>
    public static Normalization Repeat(Normalization normalization, int frames)
    {
        if (frames == 1 || normalization.Kind == NormalizationKind.None)
        {
            return normalization;
        }

        var offset = new float[normalization.Width * frames];
        var scale = new float[offset.Length];
        for (int f = 0; f < frames; f++)
        {
            normalization.Offset.CopyTo(offset.AsSpan(f * normalization.Width));
            normalization.Scale.CopyTo(scale.AsSpan(f * normalization.Width));
        }

        return new Normalization(normalization.Kind, offset, scale);
    }

    /// <summary>A one-line description of a normalisation.</summary>
    public static string Describe(Normalization normalization) => normalization.Kind switch
    {
        NormalizationKind.None => "none",
        NormalizationKind.Scale when normalization.Width > 0 && AllSame(normalization.Scale)
            => FormattableString.Invariant($"scale: x ÷ {normalization.Scale[0]}"),
        NormalizationKind.Scale => FormattableString.Invariant($"scale: x ÷ s per feature (s in [{Min(normalization.Scale)}, {Max(normalization.Scale)}])"),
        _ => FormattableString.Invariant($"standardize: (x − mean) ÷ std per feature (mean in [{Min(normalization.Offset):G4}, {Max(normalization.Offset):G4}], std in [{Min(normalization.Scale):G4}, {Max(normalization.Scale):G4}])"),
    };

    private static bool AllSame(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (v != values[0])
            {
                return false;
            }
        }

        return true;
    }

    private static float Min(ReadOnlySpan<float> values)
    {
        float m = float.PositiveInfinity;
        foreach (float v in values)
        {
            m = Math.Min(m, v);
        }

        return m;
    }

    private static float Max(ReadOnlySpan<float> values)
    {
        float m = float.NegativeInfinity;
        foreach (float v in values)
        {
            m = Math.Max(m, v);
        }

        return m;
    }

    /// <summary>True when <paramref name="path"/> exists and is read as CSV: neither a <c>.f32</c> cache nor IDX.</summary>
    public static bool IsCsv(string path) => File.Exists(path) && !LooksLikeCache(path) && !LooksLikeIdx(path);

    /// <summary>A .f32 cache by its magic bytes or its extension (a damaged cache is reported as one, not read as CSV).</summary>
    public static bool LooksLikeCache(string path)
        => DataCache.IsCache(path) || Path.GetExtension(path).Equals(DataCache.Extension, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// True when the file (gzipped or not) starts with two zero bytes, as every IDX magic number does (0x0000TTDD) and no
    /// text file does: such a file is read as IDX, so a wrong IDX type or dimension count is reported as such, not as a
    /// CSV header.
    /// </summary>
    public static bool LooksLikeIdx(string path)
    {
        using FileStream file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        if (file.ReadAtLeast(head, 2, throwOnEndOfStream: false) < 2)
        {
            return false;
        }

        if (head[0] == 0x1F && head[1] == 0x8B)
        {
            file.Position = 0;
            try
            {
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                if (gzip.ReadAtLeast(head, 2, throwOnEndOfStream: false) < 2)
                {
                    return false;
                }
            }
            catch (InvalidDataException)
            {
                return false;
            }
        }

        return head[0] == 0 && head[1] == 0;
    }
}
