using System.Buffers.Binary;
using System.IO.Compression;
using EdgeAe.Data;

namespace EdgeAe.Cli;

/// <summary>How a data file is read: CSV options (IDX files need none).</summary>
internal sealed record DataFileOptions(int? LabelColumn, bool? Header);

/// <summary>A data set as read from disk, before normalisation.</summary>
/// <param name="Data">The raw values.</param>
/// <param name="Name">The file name, or "bundled digits".</param>
/// <param name="Kind">CSV, IDX or the bundled digits.</param>
internal sealed record RawData(Dataset Data, string Name, DataKind Kind);

internal enum DataKind
{
    Bundled,
    Csv,
    Idx,
}

/// <summary>Reads data files (format by content: IDX magic, else CSV) and chooses default normalisations.</summary>
internal static class DataLoader
{
    /// <summary>The bundled UCI digits (pixels 0–16), or the file at <paramref name="path"/>.</summary>
    public static RawData Load(string? path, DataFileOptions options)
    {
        if (path is null)
        {
            return new RawData(BundledData.DigitsRaw(), "bundled UCI digits", DataKind.Bundled);
        }

        if (!File.Exists(path))
        {
            throw new CliException($"data file not found: {path}");
        }

        try
        {
            if (IsIdx(path))
            {
                return new RawData(IdxReader.ReadImages(path), Path.GetFileName(path), DataKind.Idx);
            }

            var csv = new CsvOptions { LabelColumn = options.LabelColumn, HasHeader = options.Header };
            return new RawData(CsvReader.Read(path, csv), Path.GetFileName(path), DataKind.Csv);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the data file {path}: {e.Message}", inner: e);
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
    /// The normalisation train uses when none is asked for: bundled digits ÷ 16, IDX images ÷ 255,
    /// CSV ÷ the largest absolute training value when that exceeds 1 (data already within [−1, 1]
    /// is left as it is).
    /// </summary>
    public static Normalization DefaultNormalization(RawData training)
    {
        int width = training.Data.Width;
        switch (training.Kind)
        {
            case DataKind.Bundled:
                return Normalization.ScaleBy(BundledData.DigitsPixelMax, width);
            case DataKind.Idx:
                return Normalization.ScaleBy(255f, width);
            default:
                float max = 0f;
                foreach (float v in training.Data.Values)
                {
                    max = Math.Max(max, Math.Abs(v));
                }

                return max > 1f ? Normalization.ScaleBy(max, width) : Normalization.None;
        }
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

    /// <summary>True when the file (gzipped or not) starts with the IDX images magic number.</summary>
    private static bool IsIdx(string path)
    {
        using FileStream file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4];
        if (file.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
        {
            return false;
        }

        if (head[0] == 0x1F && head[1] == 0x8B)
        {
            file.Position = 0;
            try
            {
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                if (gzip.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
                {
                    return false;
                }
            }
            catch (InvalidDataException)
            {
                return false;
            }
        }

        return BinaryPrimitives.ReadInt32BigEndian(head) == IdxReader.ImagesMagic;
    }
}
