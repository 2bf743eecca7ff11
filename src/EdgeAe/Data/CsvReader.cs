using System.Globalization;
using System.Text;

namespace EdgeAe.Data;

/// <summary>Options of <see cref="CsvReader"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>The defaults: header auto-detected, no label column, comma-separated.</summary>
    public static CsvOptions Default { get; } = new();

    /// <summary>
    /// Whether the first row is a header (skipped). Null (the default) detects it: the first row is
    /// a header when one of its fields is not a number.
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>
    /// 0-based index of the column that holds an integer label, or null for none (the default).
    /// Negative values count from the end: −1 is the last column. The label column is not a feature.
    /// </summary>
    public int? LabelColumn { get; init; }

    /// <summary>The field separator; ',' by default. Fields are not quoted.</summary>
    public char Separator { get; init; } = ',';
}

/// <summary>
/// Reads numeric CSV files into a <see cref="Dataset"/>: one sample per row, one feature per column
/// (except an optional label column), numbers in the invariant culture, no quoting.
/// </summary>
/// <remarks>
/// Files may be plain or gzip-compressed; gzip is recognised by its magic bytes (1F 8B), not by the
/// file extension. Blank lines at the end are ignored; any other blank line is an error.
/// Errors: a missing file is a <see cref="FileNotFoundException"/> carrying the path; bad content
/// (a row with the wrong number of columns, a field that is not a number, NaN or ±∞ in a feature,
/// a label that is not an integer, no data rows, a broken gzip stream) is a
/// <see cref="DataFormatException"/> naming the file, the 1-based row (line number in the file,
/// header included) and column, and what was expected. Other I/O errors propagate unchanged.
/// Nothing is returned when any row is bad.
/// </remarks>
public static class CsvReader
{
    /// <summary>Reads the CSV file at <paramref name="path"/> (plain or gzip).</summary>
    /// <exception cref="FileNotFoundException">The file (or its directory) does not exist.</exception>
    /// <exception cref="DataFormatException">The content is not a valid numeric CSV.</exception>
    public static Dataset Read(string path, CsvOptions? options = null)
    {
        using FileStream file = DataStreams.OpenRead(path);
        return Read(file, path, options);
    }

    /// <summary>
    /// Reads CSV content (plain or gzip) from <paramref name="stream"/>, which is left open.
    /// <paramref name="displayName"/> names the source in error messages.
    /// </summary>
    /// <exception cref="DataFormatException">The content is not a valid numeric CSV.</exception>
    public static Dataset Read(Stream stream, string displayName, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        options ??= CsvOptions.Default;
        using Stream content = DataStreams.Decompressed(stream);
        using var reader = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        try
        {
            return Parse(reader, displayName, options);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(displayName, null, null, $"the gzip stream is corrupt ({e.Message})", e);
        }
    }

    private static Dataset Parse(TextReader reader, string name, CsvOptions options)
    {
        char separator = options.Separator;
        bool? hasHeader = options.HasHeader;
        int columns = -1;
        int labelIndex = -1;
        int firstBlankLine = 0;
        int lineNumber = 0;
        var values = new List<float>();
        List<int>? labels = options.LabelColumn is null ? null : [];

        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                if (firstBlankLine == 0)
                {
                    firstBlankLine = lineNumber;
                }

                continue;
            }

            if (firstBlankLine != 0)
            {
                throw new DataFormatException(name, firstBlankLine, null,
                    $"blank line before row {lineNumber} (only blank lines at the end of the file are ignored)");
            }

            string[] fields = line.Split(separator);
            if (columns < 0)
            {
                columns = fields.Length;
                labelIndex = ResolveLabelColumn(options.LabelColumn, columns, name, lineNumber);
                if (columns - (labelIndex >= 0 ? 1 : 0) == 0)
                {
                    throw new DataFormatException(name, lineNumber, null,
                        $"expected at least one feature column besides the label but found {columns} column in all");
                }

                hasHeader ??= Array.Exists(fields, field => !double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                if (hasHeader.Value)
                {
                    continue;
                }
            }
            else if (fields.Length != columns)
            {
                string hint = fields.Length == 1 ? $" (is '{separator}' the separator?)" : "";
                throw new DataFormatException(name, lineNumber, null, $"expected {columns} columns but found {fields.Length}{hint}");
            }

            for (int c = 0; c < fields.Length; c++)
            {
                if (c == labelIndex)
                {
                    labels!.Add(ParseLabel(fields[c], name, lineNumber, c + 1));
                }
                else
                {
                    values.Add(ParseFeature(fields[c], name, lineNumber, c + 1));
                }
            }
        }

        int count = labels?.Count ?? (columns > 0 ? values.Count / columns : 0);
        if (count == 0)
        {
            string found = lineNumber == 0 ? "an empty file" : hasHeader == true && columns > 0 ? "only a header" : "only blank lines";
            throw new DataFormatException(name, null, null, $"expected at least one data row but found {found}");
        }

        int width = values.Count / count;
        return new Dataset(values.ToArray(), count, width, labels?.ToArray());
    }

    private static int ResolveLabelColumn(int? labelColumn, int columns, string name, int lineNumber)
    {
        if (labelColumn is not int requested)
        {
            return -1;
        }

        int index = requested < 0 ? columns + requested : requested;
        if (index < 0 || index >= columns)
        {
            throw new DataFormatException(name, lineNumber, null,
                $"label column {requested} does not exist: expected an index in [{-columns}, {columns - 1}] for a row of {columns} columns");
        }

        return index;
    }

    private static float ParseFeature(string field, string name, int row, int column)
    {
        if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
        {
            throw new DataFormatException(name, row, column, field.Trim().Length == 0
                ? "expected a number but found an empty field"
                : $"'{field}' is not a number");
        }

        if (float.IsNaN(value))
        {
            throw new DataFormatException(name, row, column, $"expected a finite number but found NaN ('{field}')");
        }

        if (float.IsInfinity(value))
        {
            bool literal = double.IsInfinity(double.Parse(field, NumberStyles.Float, CultureInfo.InvariantCulture));
            throw new DataFormatException(name, row, column, literal
                ? $"expected a finite number but found infinity ('{field}')"
                : $"expected a finite number but '{field}' overflows a 32-bit float");
        }

        return value;
    }

    private static int ParseLabel(string field, string name, int row, int column)
    {
        if (!int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out int label))
        {
            throw new DataFormatException(name, row, column, $"expected an integer label but found '{field}'");
        }

        return label;
    }
}
