using System.Globalization;
using System.Text;

namespace EdgeAe.Data;

/// <summary>Options of <see cref="CsvReader"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>The defaults: header auto-detected, no label column, comma-separated.</summary>
    public static CsvOptions Default { get; } = new();

    /// <summary>
    /// Whether the first row (after <see cref="SkipRows"/>) is a header (skipped). Null (the default) detects it: the
    /// row is a header when <b>every</b> cell is not a number; a row that mixes numbers and text is an error naming its
    /// first non-number, so a data row with a typo is never dropped silently.
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>
    /// 0-based index of the column that holds an integer label (<c>3</c>, or <c>3.0</c> / <c>3.000000000000000000e+00</c> as
    /// numpy and pandas write integers), or null for none (the default).
    /// Negative values count from the end: −1 is the last column. The label column is not a feature.
    /// </summary>
    public int? LabelColumn { get; init; }

    /// <summary>
    /// Whether the <see cref="LabelColumn"/>'s values are read into <see cref="Dataset.Labels"/> (integers; the default).
    /// False: the column is dropped unread — it may hold anything, such as class names — and the labels are null.
    /// </summary>
    public bool ReadLabels { get; init; } = true;

    /// <summary>The field separator; ',' by default. Fields are not quoted.</summary>
    public char Separator { get; init; } = ',';

    /// <summary>Lines skipped at the top of the file before the header or the first data row (a banner, comments); 0 by default.</summary>
    public int SkipRows { get; init; }

    /// <summary>
    /// The number of features a row must have (the label column not counted), e.g. a model's input width; null: the
    /// first row decides. A first row with more fields fails as soon as the first extra field is read, so a file of
    /// one enormous line is refused at once instead of after parsing all of it.
    /// </summary>
    public int? ExpectedWidth { get; init; }
}

/// <summary>What <see cref="CsvReader"/> decided about a file's layout, for reports such as "row 1 taken as a header".</summary>
/// <param name="HeaderRow">The 1-based line of the header, or null when there is none.</param>
/// <param name="Header">The header's first cells (at most 8, each at most 40 characters); empty without a header.</param>
/// <param name="HeaderDetected">True when the header was detected (every cell of the row is text), false when stated or absent.</param>
/// <param name="FirstDataRow">The 1-based line of the first sample; sample i is on line FirstDataRow + i.</param>
/// <param name="Columns">Columns per row, the label column included.</param>
public sealed record CsvLayout(int? HeaderRow, IReadOnlyList<string> Header, bool HeaderDetected, int FirstDataRow, int Columns);

/// <summary>
/// Reads numeric CSV files into a <see cref="Dataset"/>: one sample per row, one feature per column
/// (except an optional label column), numbers in the invariant culture, no quoting.
/// </summary>
/// <remarks>
/// <para>Files may be plain or gzip-compressed; gzip is recognised by its magic bytes (1F 8B), not by the
/// file extension, and a gzip stream that ends before its trailer is an error (the file is truncated).
/// Blank lines at the end are ignored; any other blank line is an error. Lines end with \n, \r\n or \r.</para>
/// <para><b>Memory.</b> The file is read twice as a stream: once to count its lines (and check a gzip trailer),
/// once to parse each field straight into a float array sized from that count, so the peak is the float32 data
/// plus a few rows and a 64 KB buffer — no string per line or per field. A single field longer than 64 K
/// characters is an error.</para>
/// <para><b>Errors:</b> a missing file is a <see cref="FileNotFoundException"/> carrying the path; bad content
/// (a row with the wrong number of columns, a field that is not a number, NaN or ±∞ in a feature,
/// a label that is not an integer, no data rows, a broken or truncated gzip stream) is a
/// <see cref="DataFormatException"/> naming the file, the 1-based row (line number in the file,
/// skipped lines and header included) and column, and what was expected. Other I/O errors propagate unchanged.
/// Nothing is returned when any row is bad.</para>
/// </remarks>
public static class CsvReader
{
    /// <summary>Header cells kept for <see cref="CsvLayout.Header"/>.</summary>
    private const int HeaderCellsKept = 8;

    /// <summary>Bytes the decoder reads at a time; the parser's own window is larger.</summary>
    private const int ReaderBuffer = 1 << 14;

    /// <summary>Reads the CSV file at <paramref name="path"/> (plain or gzip).</summary>
    /// <exception cref="FileNotFoundException">The file (or its directory) does not exist.</exception>
    /// <exception cref="DataFormatException">The content is not a valid numeric CSV.</exception>
    public static Dataset Read(string path, CsvOptions? options = null) => Read(path, options, out _);

    /// <summary>Reads the CSV file at <paramref name="path"/> (plain or gzip) and says how its rows were laid out.</summary>
    /// <exception cref="FileNotFoundException">The file (or its directory) does not exist.</exception>
    /// <exception cref="DataFormatException">The content is not a valid numeric CSV.</exception>
    public static Dataset Read(string path, CsvOptions? options, out CsvLayout layout)
    {
        using FileStream file = DataStreams.OpenRead(path);
        return Read(file, path, options, out layout);
    }

    /// <summary>
    /// Reads CSV content (plain or gzip) from <paramref name="stream"/>, which is left open.
    /// <paramref name="displayName"/> names the source in error messages.
    /// </summary>
    /// <exception cref="DataFormatException">The content is not a valid numeric CSV.</exception>
    public static Dataset Read(Stream stream, string displayName, CsvOptions? options = null) => Read(stream, displayName, options, out _);

    /// <inheritdoc cref="Read(Stream, string, CsvOptions?)"/>
    /// <param name="stream">The content, plain or gzip; left open.</param>
    /// <param name="displayName">Names the source in error messages.</param>
    /// <param name="options">How to read it; null: <see cref="CsvOptions.Default"/>.</param>
    /// <param name="layout">Where the header and the first sample were found.</param>
    public static Dataset Read(Stream stream, string displayName, CsvOptions? options, out CsvLayout layout)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        options ??= CsvOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(options.SkipRows, nameof(options));
        Stream raw = DataStreams.Seekable(stream);
        long start = raw.Position;
        try
        {
            // Pass 1: upper bounds on the rows (and the gzip trailer check), so pass 3 allocates once.
            ContentSize size;
            using (Stream content = DataStreams.Decompressed(raw, out _, verify: true))
            {
                size = CountLines(content, options.Separator);
            }

            // Pass 2: the first row decides the columns and whether it is a header (nothing is stored).
            FirstRow first = Parse(raw, start, displayName, options, verify: false, parser => parser.ReadFirstRow());

            // Pass 3: every data row, parsed straight into an array sized from the line count.
            CsvLayout found = null!;
            Dataset data = Parse(raw, start, displayName, options, verify: false, parser => parser.ReadData(first, size, out found));
            layout = found;
            return data;
        }
        catch (Exception e) when (e is TruncatedGzipException or InvalidDataException)
        {
            throw GzipError(displayName, e);
        }
    }

    /// <summary>
    /// Reads the CSV file at <paramref name="path"/> (plain or gzip) without holding it: every data row's features go to
    /// <paramref name="onRow"/> in file order (labels are dropped) as they are parsed. Same rules and errors as
    /// <see cref="Read(string, CsvOptions?, out CsvLayout)"/>; an error can come after rows were handed on.
    /// </summary>
    /// <returns>The number of rows.</returns>
    /// <exception cref="FileNotFoundException">The file (or its directory) does not exist.</exception>
    /// <exception cref="DataFormatException">The content is not a valid numeric CSV.</exception>
    public static int Stream(string path, CsvOptions? options, CsvRowAction onRow, out CsvLayout layout)
    {
        ArgumentNullException.ThrowIfNull(onRow);
        options ??= CsvOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(options.SkipRows, nameof(options));
        using FileStream file = DataStreams.OpenRead(path);
        Stream raw = DataStreams.Seekable(file);
        try
        {
            // The first row as Read's pass 2; then every row, handed on as parsed (the gzip trailer checked at the end).
            FirstRow first = Parse(raw, 0, path, options, verify: false, parser => parser.ReadFirstRow());
            CsvLayout found = null!;
            int rows = Parse(raw, 0, path, options, verify: true, parser => parser.StreamData(first, onRow, out found));
            layout = found;
            return rows;
        }
        catch (Exception e) when (e is TruncatedGzipException or InvalidDataException)
        {
            throw GzipError(path, e);
        }
    }

    /// <summary>One pass of a parser over the content from <paramref name="start"/>.</summary>
    private static T Parse<T>(Stream raw, long start, string name, CsvOptions options, bool verify, Func<Parser, T> read)
    {
        raw.Position = start;
        using Stream content = DataStreams.Decompressed(raw, out _, verify);
        using var reader = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: ReaderBuffer);
        using var parser = new Parser(reader, name, options);
        return read(parser);
    }

    private static DataFormatException GzipError(string name, Exception e) => e is TruncatedGzipException
        ? new DataFormatException(name, null, null, e.Message, e)
        : new DataFormatException(name, null, null, $"the gzip stream is corrupt ({e.Message})", e);

    /// <summary>What pass 1 counts: lines holding anything but ASCII blanks (an upper bound on the rows), and bytes.</summary>
    private readonly record struct ContentSize(long NonBlankLines, long Bytes)
    {
        /// <summary>
        /// At most this many data rows of <paramref name="columns"/> columns follow a header (or not): no more than the
        /// non-blank lines, and no more than the bytes allow — a row needs a character per field and a separator
        /// between fields, so a few wide rows followed by many short lines cannot ask for a huge array.
        /// </summary>
        public long Rows(int columns, bool header)
            => Math.Max(1, Math.Min(NonBlankLines - (header ? 1 : 0), (Bytes / ((2L * columns) - 1)) + 1));
    }

    /// <summary>Counts the lines (ended by \n, \r or \r\n) that hold more than spaces, tabs and form feeds, and the bytes.</summary>
    private static ContentSize CountLines(Stream content, char separator)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            // A separator that is itself a blank (tab, space) makes a line of separators a row, not a blank line.
            ReadOnlySpan<byte> blanks = separator switch
            {
                '\t' => " \v\f"u8,
                ' ' => "\t\v\f"u8,
                _ => " \t\v\f"u8,
            };
            long nonBlank = 0, bytes = 0;
            bool filled = false;
            int read;
            while ((read = content.Read(buffer)) > 0)
            {
                bytes += read;
                ReadOnlySpan<byte> span = buffer.AsSpan(0, read);
                while (true)
                {
                    int end = span.IndexOfAny((byte)'\n', (byte)'\r');
                    ReadOnlySpan<byte> segment = end < 0 ? span : span[..end];
                    filled |= segment.IndexOfAnyExcept(blanks) >= 0;
                    if (end < 0)
                    {
                        break;
                    }

                    nonBlank += filled ? 1 : 0;
                    filled = false;
                    span = span[(end + 1)..];
                }
            }

            return new ContentSize(nonBlank + (filled ? 1 : 0), bytes);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One pass over the content: fields are read one at a time from a 64 K character window and parsed in place.</summary>
    private sealed class Parser(TextReader reader, string name, CsvOptions options) : IDisposable
    {
        private const int WindowLength = 1 << 16;

        private readonly char[] _window = System.Buffers.ArrayPool<char>.Shared.Rent(WindowLength);
        private readonly char _separator = options.Separator;
        private int _position;
        private int _end;
        private bool _endOfInput;
        private bool _pendingLineFeed;
        private bool _fieldPending;

        /// <summary>1-based line of the next field.</summary>
        private int _line = 1;

        public void Dispose() => System.Buffers.ArrayPool<char>.Shared.Return(_window);

        /// <summary>
        /// Pass 2: the first row after the skipped ones — its line, its cell count and whether it is a header. A row
        /// longer than <see cref="CsvOptions.ExpectedWidth"/> allows fails at its first extra field; a row mixing numbers
        /// and text (header detection on) fails at its first text cell.
        /// </summary>
        public FirstRow ReadFirstRow()
        {
            SkipRows();
            if (!NextRow(out int line, out ReadOnlySpan<char> field, out bool endOfLine))
            {
                string found = options.SkipRows == 0 && line == 1 ? "an empty file" : "only blank lines";
                throw new DataFormatException(name, null, null, $"expected at least one data row but found {found}");
            }

            int limit = options.ExpectedWidth is int expected ? expected + (options.LabelColumn is null ? 0 : 1) : int.MaxValue;
            var row = new FirstRow(line);
            while (true)
            {
                if (row.Count == limit)
                {
                    throw new DataFormatException(name, line, null, FormattableString.Invariant(
                        $"expected {limit} columns ({options.ExpectedWidth} values per sample{(options.LabelColumn is null ? "" : " and the label")}) but the row is longer{(options.LabelColumn is null ? " (if a column is a label, name it: --label-column)" : "")}"));
                }

                row.Add(field);
                if (endOfLine)
                {
                    break;
                }

                NextField(out field, out endOfLine);
            }

            // A label column read unread may hold text (class names): it says nothing about the row being a header.
            int? unreadLabel = options.LabelColumn is int requested && !options.ReadLabels ? (requested < 0 ? row.Count + requested : requested) : null;
            row.Decide(options.HasHeader, name, _separator, unreadLabel);
            return row;
        }

        /// <summary>Pass 3: the data rows after <paramref name="first"/> (and <paramref name="first"/> itself unless it is the header).</summary>
        public Dataset ReadData(FirstRow first, ContentSize size, out CsvLayout layout)
        {
            (int columns, int labelIndex, int width) = StartData(first, out layout);

            // The rows to come are allocated once, from pass 1's bound.
            long rowBound = size.Rows(columns, first.IsHeader);
            if (rowBound * width > Array.MaxLength)
            {
                throw new DataFormatException(name, null, null, FormattableString.Invariant($"{rowBound} rows of {width} values are more than one array holds ({Array.MaxLength} values)"));
            }

            var sink = new ArraySink(rowBound, width, labelIndex >= 0 && options.ReadLabels);
            int rows = ReadRows(sink, first, columns, labelIndex, width);
            return new Dataset(sink.Values, 0, rows, width, sink.Labels is null ? null : sink.Labels.Length == rows ? sink.Labels : sink.Labels[..rows]);
        }

        /// <summary>Pass 3 without storing: each data row is handed to <paramref name="onRow"/> (a span reused for every row).</summary>
        public int StreamData(FirstRow first, CsvRowAction onRow, out CsvLayout layout)
        {
            (int columns, int labelIndex, int width) = StartData(first, out layout);
            return ReadRows(new StreamingSink(width, onRow), first, columns, labelIndex, width);
        }

        /// <summary>
        /// Why a file of one row is "only a header" when the header was detected: the row may be data that is not read as
        /// numbers (another separator, decimal commas), and nothing said so before this error.
        /// </summary>
        private string OnlyHeader(FirstRow first)
            => options.HasHeader is not null ? ""
                : FormattableString.Invariant($" (row {first.Line} was taken as a header because none of its cells is a number{CsvFields.SeparatorHint(first.FirstText, _separator)}; --header false reads it as data)");

        /// <summary>Columns, label column and width from the first row; moves to the first data row.</summary>
        private (int Columns, int LabelIndex, int Width) StartData(FirstRow first, out CsvLayout layout)
        {
            int columns = first.Count;
            int labelIndex = ResolveLabelColumn(columns, first.Line);
            int width = columns - (labelIndex >= 0 ? 1 : 0);
            if (width == 0)
            {
                throw new DataFormatException(name, first.Line, null,
                    FormattableString.Invariant($"expected at least one feature column besides the label but found {columns} column in all"));
            }

            int dataLine = first.Line + (first.IsHeader ? 1 : 0);
            while (_line < dataLine && SkipLine())
            {
            }

            layout = new CsvLayout(first.IsHeader ? first.Line : null, first.IsHeader ? first.Texts : [], first.IsHeader && options.HasHeader is null, dataLine, columns);
            return (columns, labelIndex, width);
        }

        /// <summary>Every data row into <paramref name="sink"/>; fails when there is none.</summary>
        private int ReadRows(IRowSink sink, FirstRow first, int columns, int labelIndex, int width)
        {
            int rows = 0;
            while (true)
            {
                if (!NextRow(out int line, out ReadOnlySpan<char> field, out bool endOfLine))
                {
                    return rows > 0 ? rows : throw new DataFormatException(name, null, null, "expected at least one data row but found only a header" + OnlyHeader(first));
                }

                Span<float> row = sink.Row(rows);
                int column = 0;
                int feature = 0;
                while (true)
                {
                    if (column == columns)
                    {
                        int found = column + 1 + (endOfLine ? 0 : CountRestOfLine());
                        throw new DataFormatException(name, line, null, FormattableString.Invariant($"expected {columns} columns but found {found}"));
                    }

                    if (column == labelIndex)
                    {
                        if (options.ReadLabels)
                        {
                            sink.Label(rows, CsvFields.Label(field, name, line, column + 1));
                        }
                    }
                    else
                    {
                        row[feature++] = CsvFields.Feature(field, name, line, column + 1, _separator);
                    }

                    column++;
                    if (endOfLine)
                    {
                        break;
                    }

                    NextField(out field, out endOfLine);
                }

                if (column != columns)
                {
                    string hint = column == 1 ? CsvFields.SeparatorHint(field, _separator) ?? $" (is '{_separator}' the separator?)" : "";
                    throw new DataFormatException(name, line, null, FormattableString.Invariant($"expected {columns} columns but found {column}{hint}"));
                }

                sink.Done(rows);
                rows++;
            }
        }

        /// <summary>
        /// The first field of the next non-blank line and its line number; false at the end of the input. Blank lines
        /// are allowed only at the end: one followed by a row is an error naming the blank line.
        /// </summary>
        private bool NextRow(out int line, out ReadOnlySpan<char> field, out bool endOfLine)
        {
            int firstBlank = 0;
            while (true)
            {
                line = _line;
                if (!NextField(out field, out endOfLine))
                {
                    return false;
                }

                if (!(endOfLine && field.IsWhiteSpace()))
                {
                    break;
                }

                firstBlank = firstBlank == 0 ? line : firstBlank;
            }

            if (firstBlank != 0)
            {
                throw new DataFormatException(name, firstBlank, null,
                    FormattableString.Invariant($"blank line before row {line} (only blank lines at the end of the file are ignored)"));
            }

            return true;
        }

        private void SkipRows()
        {
            for (int skipped = 0; skipped < options.SkipRows; skipped++)
            {
                if (!SkipLine())
                {
                    throw new DataFormatException(name, null, null, FormattableString.Invariant(
                        $"expected data after the {options.SkipRows} skipped rows but the file has {skipped} lines"));
                }
            }
        }

        /// <summary>Consumes the rest of the current line; false at the end of the input.</summary>
        private bool SkipLine()
        {
            bool any = false;
            while (NextField(out _, out bool endOfLine))
            {
                any = true;
                if (endOfLine)
                {
                    return true;
                }
            }

            return any;
        }

        private int CountRestOfLine()
        {
            int count = 0;
            while (NextField(out _, out bool endOfLine))
            {
                count++;
                if (endOfLine)
                {
                    break;
                }
            }

            return count;
        }

        /// <summary>
        /// The next field (valid until the next call) and whether it ended its line; false at the end of the input.
        /// Lines end with \n, \r\n or \r; a line break after the input's last field starts no line of its own.
        /// </summary>
        private bool NextField(out ReadOnlySpan<char> field, out bool endOfLine)
        {
            int start = _position;
            int scan = _position;
            while (true)
            {
                if (scan >= _end)
                {
                    if (_endOfInput)
                    {
                        _position = scan;
                        endOfLine = true;
                        if (scan == start && !_fieldPending)
                        {
                            field = default;
                            return false;
                        }

                        field = _window.AsSpan(start, scan - start);
                        _fieldPending = false;
                        return true;
                    }

                    // Keep the partial field at the front of the window and read more behind it.
                    int kept = scan - start;
                    if (kept == WindowLength)
                    {
                        throw new DataFormatException(name, _line, null, FormattableString.Invariant($"a field is longer than {WindowLength} characters; this is not numeric CSV"));
                    }

                    Array.Copy(_window, start, _window, 0, kept);
                    int read = reader.Read(_window, kept, WindowLength - kept);
                    _end = kept + Math.Max(read, 0);
                    _endOfInput = read <= 0;
                    start = 0;
                    scan = kept;
                    if (_pendingLineFeed && kept == 0 && _end > 0 && _window[0] == '\n')
                    {
                        start = scan = 1; // the \n of a \r\n split across two reads
                    }

                    _pendingLineFeed = false;
                    continue;
                }

                char c = _window[scan];
                if (c == _separator)
                {
                    field = _window.AsSpan(start, scan - start);
                    _position = scan + 1;
                    _fieldPending = true; // a separator promises another field on this line
                    endOfLine = false;
                    return true;
                }

                if (c is '\n' or '\r')
                {
                    field = _window.AsSpan(start, scan - start);
                    _position = scan + 1;
                    if (c == '\r')
                    {
                        if (_position < _end)
                        {
                            _position += _window[_position] == '\n' ? 1 : 0;
                        }
                        else
                        {
                            _pendingLineFeed = true;
                        }
                    }

                    _line++;
                    _fieldPending = false;
                    endOfLine = true;
                    return true;
                }

                scan++;
            }
        }

        private int ResolveLabelColumn(int columns, int line)
        {
            if (options.LabelColumn is not int requested)
            {
                return -1;
            }

            int index = requested < 0 ? columns + requested : requested;
            if (index < 0 || index >= columns)
            {
                throw new DataFormatException(name, line, null,
                    FormattableString.Invariant($"label column {requested} does not exist: expected an index in [{-columns}, {columns - 1}] for a row of {columns} columns"));
            }

            return index;
        }
    }

    /// <summary>What the first row holds: its cell count, its first cells and whether every cell is text.</summary>
    private sealed class FirstRow(int line)
    {
        private readonly List<string> _texts = [];
        private int _firstText = -1;
        private string _firstTextValue = "";
        private bool _anyNumber;
        private int _textCount;

        public int Line { get; } = line;

        public int Count { get; private set; }

        public bool IsHeader { get; private set; }

        public IReadOnlyList<string> Texts => _texts;

        /// <summary>The first cell that is not a number, as read (empty when there is none).</summary>
        public string FirstText => _firstTextValue;

        public void Add(ReadOnlySpan<char> field)
        {
            if (_texts.Count < HeaderCellsKept)
            {
                _texts.Add(CsvFields.Shown(field.Trim()));
            }

            // A cell with control characters is binary data, not a column name: such a row is never a header. An
            // infinity however spelled ('inf' as numpy and C write it) is a number too, so that it gets the same message.
            if (float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || CsvFields.IsInfinity(field) || CsvFields.IsBinary(field))
            {
                _anyNumber = true;
            }
            else
            {
                _textCount++;
                if (_firstText < 0)
                {
                    _firstText = Count;
                    _firstTextValue = field.ToString();
                }
            }

            Count++;
        }

        /// <summary>Header or data: stated, or detected — a header only when every cell is text; a mixed row is an error.</summary>
        public void Decide(bool? hasHeader, string name, char separator, int? unreadLabel = null)
        {
            IsHeader = hasHeader ?? !_anyNumber;
            if (hasHeader is null && !IsHeader && _firstText >= 0 && !(_textCount == 1 && _firstText == unreadLabel))
            {
                try
                {
                    CsvFields.Feature(_firstTextValue, name, Line, _firstText + 1, separator);
                }
                catch (DataFormatException e)
                {
                    string problem = e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];
                    throw new DataFormatException(name, Line, _firstText + 1,
                        $"{problem} (the row also holds numbers, so it is not taken as a header; if it is one, say so: --header true)", e);
                }
            }
        }
    }
}

/// <summary>Parsing and quoting of single CSV fields, shared by the reader's paths.</summary>
/// <summary>Receives a row of features (parsed into the span <see cref="CsvReader.Stream"/> hands out), reused for the next row.</summary>
public delegate void CsvRowAction(ReadOnlySpan<float> features);

/// <summary>Where the parser puts rows: storage for row <c>r</c>'s features, its label, and "row <c>r</c> is complete".</summary>
internal interface IRowSink
{
    Span<float> Row(int row);

    void Label(int row, int label);

    void Done(int row);
}

/// <summary>Rows into one array sized from an upper bound (grown by half only if the bound was too low).</summary>
internal sealed class ArraySink(long rows, int width, bool labelled) : IRowSink
{
    private readonly int _width = width;

    public float[] Values { get; private set; } = new float[rows * width];

    public int[]? Labels { get; private set; } = labelled ? new int[rows] : null;

    public Span<float> Row(int row)
    {
        if (row == Values.Length / _width)
        {
            // Only when the line count was too low (it cannot be for well-formed input): grow by half.
            int grown = row + Math.Max(1, row / 2);
            float[] values = Values;
            Array.Resize(ref values, grown * _width);
            Values = values;
            if (Labels is not null)
            {
                int[] labels = Labels;
                Array.Resize(ref labels, grown);
                Labels = labels;
            }
        }

        return Values.AsSpan(row * _width, _width);
    }

    public void Label(int row, int label) => Labels![row] = label;

    public void Done(int row)
    {
    }
}

/// <summary>Rows one at a time into one buffer, handed on when complete; labels are dropped.</summary>
internal sealed class StreamingSink(int width, CsvRowAction onRow) : IRowSink
{
    private readonly float[] _row = new float[width];

    public Span<float> Row(int row) => _row;

    public void Label(int row, int label)
    {
    }

    public void Done(int row) => onRow(_row);
}

internal static class CsvFields
{
    private const int ShownLength = 40;

    public static float Feature(ReadOnlySpan<char> field, string name, int row, int column, char separator)
    {
        if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
        {
            if (IsInfinity(field))
            {
                // .NET reads only 'Infinity'; numpy, pandas, C and R write 'inf', 'Inf', 'INF' or '∞': the same problem, the same message.
                throw new DataFormatException(name, row, column, $"expected a finite number but found infinity ('{Shown(field)}')");
            }

            if (field.IsWhiteSpace())
            {
                throw new DataFormatException(name, row, column, "expected a number but found an empty field");
            }

            string? hint = IsBinary(field) ? " (binary data: this is not a CSV text file)" : SeparatorHint(field, separator);
            throw new DataFormatException(name, row, column, $"'{Shown(field)}' is not a number{hint}");
        }

        if (float.IsNaN(value))
        {
            throw new DataFormatException(name, row, column, $"expected a finite number but found NaN ('{Shown(field)}')");
        }

        if (float.IsInfinity(value))
        {
            bool literal = double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double wide) && double.IsInfinity(wide);
            throw new DataFormatException(name, row, column, literal
                ? $"expected a finite number but found infinity ('{Shown(field)}')"
                : $"expected a finite number but '{Shown(field)}' overflows a 32-bit float");
        }

        return value;
    }

    /// <summary>
    /// True for an infinity spelled as other tools write it and .NET does not read: an optional sign, then <c>inf</c> in any
    /// case (numpy, pandas, C's printf, R) or <c>∞</c>, surrounded by blanks or not. (<c>Infinity</c> itself parses.)
    /// </summary>
    public static bool IsInfinity(ReadOnlySpan<char> field)
    {
        ReadOnlySpan<char> text = field.Trim();
        if (text.Length > 0 && (text[0] == '+' || text[0] == '-'))
        {
            text = text[1..];
        }

        return text.Equals("inf", StringComparison.OrdinalIgnoreCase) || text.Equals("∞", StringComparison.Ordinal);
    }

    public static int Label(ReadOnlySpan<char> field, string name, int row, int column)
    {
        if (int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out int label))
        {
            return label;
        }

        // numpy's savetxt and pandas write integer labels as floats: "1.0", "1.000000000000000000e+00".
        if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            && value == Math.Floor(value) && value >= int.MinValue && value <= int.MaxValue)
        {
            return (int)value;
        }

        throw new DataFormatException(name, row, column, $"expected an integer label but found '{Shown(field)}'");
    }

    /// <summary>
    /// " (the file looks ';'-separated: --delimiter ';')" when a field holds another usual separator; for a number written
    /// with a decimal comma ("1,5" in a ';'-separated file, as spreadsheets in many locales write it), that it is one.
    /// </summary>
    public static string? SeparatorHint(ReadOnlySpan<char> field, char separator)
    {
        // "1,5" is not a ','-separated row: suggesting --delimiter ',' would send a ';'-separated file back and forth.
        int comma = field.IndexOf(',');
        if (separator != ',' && comma >= 0 && field.LastIndexOf(',') == comma
            && float.TryParse(string.Concat(field[..comma], ".", field[(comma + 1)..]), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            return " (if ',' is a decimal comma: numbers are read with a decimal point, 1.5 rather than 1,5, so save the file with '.' as the decimal separator; if it separates values: --delimiter ',')";
        }

        foreach (char candidate in ";\t,|")
        {
            if (candidate != separator && field.Contains(candidate))
            {
                string shown = candidate == '\t' ? "\\t" : candidate.ToString();
                return $" (the file looks '{shown}'-separated: --delimiter '{shown}')";
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="field"/> holds a control character other than a tab.</summary>
    public static bool IsBinary(ReadOnlySpan<char> field)
    {
        foreach (char c in field)
        {
            if (char.IsControl(c) && c != '\t')
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A field as quoted in messages: control characters escaped, at most 40 characters.</summary>
    public static string Shown(ReadOnlySpan<char> field)
    {
        var text = new StringBuilder();
        foreach (char c in field)
        {
            if (text.Length >= ShownLength)
            {
                text.Append('…');
                break;
            }

            if (char.IsControl(c))
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }
}
