using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using EdgeAe.Data;
using FsCheck;
using FsCheck.Fluent;

namespace EdgeAe.Tests.Data;

/// <summary>
/// Property tests of the CSV and IDX readers (FsCheck): valid files of random shape, then random cuts, random byte
/// edits, insertions and plain random bytes, plain and gzip. Each case must give exactly what a simple reference
/// reader written here gives — the same data, or a <see cref="DataFormatException"/> that names the file and, for
/// a problem in one row, that row (and column). The suite runs 2,000 CSV and 1,000 IDX cases; set
/// <c>EDGEAE_LONG_FUZZ=1</c> for 100,000 of each (<c>EDGEAE_READER_FUZZ_CASES</c> changes the count).
/// </summary>
public sealed class ReaderPropertyTests
{
    private const string Name = "fuzzed";

    private static int Cases(int suite)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("EDGEAE_READER_FUZZ_CASES"), out int cases))
        {
            return cases;
        }

        return Environment.GetEnvironmentVariable("EDGEAE_LONG_FUZZ") == "1" ? 100_000 : suite;
    }

    [Fact]
    public void Csv_files_and_their_corruptions_read_like_the_reference_reader()
    {
        int cases = Cases(2_000);
        var tally = new Tally();
        Prop.ForAll(CsvCases.ToArbitrary(), c => tally.Count(CheckCsv(c))).Check(Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true));
        TestContext.Current.SendDiagnosticMessage($"CSV property: {tally}");
        Assert.True(tally.Read > cases / 10 && tally.Rejected > cases / 10, tally.ToString());
    }

    [Fact]
    public void Idx_files_and_their_corruptions_read_like_the_reference_reader()
    {
        int cases = Cases(1_000);
        var tally = new Tally();
        Prop.ForAll(IdxCases.ToArbitrary(), c => tally.Count(CheckIdx(c))).Check(Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true));
        TestContext.Current.SendDiagnosticMessage($"IDX property: {tally}");
        Assert.True(tally.Read > cases / 10 && tally.Rejected > cases / 10, tally.ToString());
    }

    /// <summary>A file's bytes and the options it is read with.</summary>
    public sealed record Case(byte[] Bytes, CsvOptions Options, string Recipe)
    {
        public override string ToString()
            => $"{Recipe}; options {Options}; bytes {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(Bytes.Length, 400)))}";
    }

    private static bool CheckCsv(Case c)
    {
        Outcome expected = ReferenceCsv(c.Bytes, c.Options);
        Outcome actual;
        try
        {
            Dataset data = CsvReader.Read(new MemoryStream(c.Bytes), Name, c.Options);
            actual = Outcome.Of(data);
        }
        catch (DataFormatException e)
        {
            Assert.True(e.FilePath == Name && e.Message.StartsWith(Name, StringComparison.Ordinal), $"{c}: {e.Message}");
            actual = Outcome.Error(e.Row, e.Column, e.Message);
        }

        expected.AssertSame(actual, c.ToString());
        return actual.IsError;
    }

    private static bool CheckIdx(Case c)
    {
        Outcome expected = ReferenceIdx(c.Bytes);
        Outcome actual;
        try
        {
            actual = Outcome.Of(IdxReader.ReadImages(new MemoryStream(c.Bytes), Name));
        }
        catch (DataFormatException e)
        {
            Assert.True(e.FilePath == Name && e.Message.StartsWith(Name, StringComparison.Ordinal), $"{c}: {e.Message}");
            actual = Outcome.Error(e.Row, e.Column, e.Message);
        }

        expected.AssertSame(actual, c.ToString());
        return actual.IsError;
    }

    // ---- generators --------------------------------------------------------------------------------------

    private static readonly Gen<string> Cell = Gen.Frequency(
        (60, Gen.Choose(-500, 500).Select(i => i.ToString(CultureInfo.InvariantCulture))),
        (40, Gen.Choose(-99999, 99999).Select(i => (i / 1000.0).ToString("R", CultureInfo.InvariantCulture))),
        (10, Gen.Choose(-30, 30).Select(e => "1.5e" + e.ToString(CultureInfo.InvariantCulture))),
        (5, Gen.Elements(" 7", "8 ", "+3", ".5", "4.")),
        (3, Gen.Elements("", "NaN", "1e40", "-Infinity", "abc", "1O", "0x1F")));

    private static readonly Gen<Case> ValidCsv =
        from rows in Gen.Choose(1, 12)
        from columns in Gen.Choose(1, 6)
        from separator in Gen.Elements(',', ';', '\t')
        from ending in Gen.Elements("\n", "\r\n", "\r")
        from header in Gen.Choose(0, 3) // 0, 1: none; 2: text header; 3: a header with one numeric cell
        from label in Gen.Choose(0, 2) // 0: none; 1: last column; 2: first column
        from skip in Gen.Choose(0, 2)
        from cells in Gen.ArrayOf(Cell, rows * columns)
        from labels in Gen.ArrayOf(Gen.Choose(0, 9), rows)
        from finalBreak in Gen.Elements(true, true, false)
        from trailingBlank in Gen.Choose(0, 2)
        from gzip in Gen.Elements(false, false, true)
        from statedHeader in Gen.Elements<bool?>(null, null, null, true, false)
        select CsvFile(rows, columns, separator, ending, header, label, skip, cells, labels, finalBreak, trailingBlank, gzip, statedHeader);

    private static readonly Gen<Case> CsvCases = Corrupted(ValidCsv);

    private static readonly Gen<Case> ValidIdx =
        from count in Gen.Choose(1, 8)
        from rows in Gen.Choose(1, 5)
        from columns in Gen.Choose(1, 5)
        from pixels in Gen.ArrayOf(Gen.Choose(0, 255).Select(p => (byte)p), count * rows * columns)
        from gzip in Gen.Elements(false, true)
        select IdxFile(count, rows, columns, pixels, gzip);

    private static readonly Gen<Case> IdxCases = Corrupted(ValidIdx);

    /// <summary>The file as it is, or cut, edited, grown or replaced by random bytes.</summary>
    private static Gen<Case> Corrupted(Gen<Case> valid) =>
        from c in valid
        from kind in Gen.Frequency((8, Gen.Constant(0)), (4, Gen.Constant(1)), (4, Gen.Constant(2)), (2, Gen.Constant(3)), (2, Gen.Constant(4)))
        from position in Gen.Choose(0, Math.Max(c.Bytes.Length, 1))
        from edits in Gen.ArrayOf(Gen.Zip(Gen.Choose(0, Math.Max(c.Bytes.Length - 1, 0)), Interesting), 4)
        from random in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))
        from gzipMagic in Gen.Elements(false, true)
        select kind switch
        {
            0 => c,
            1 => c with { Bytes = c.Bytes[..Math.Min(position, c.Bytes.Length)], Recipe = $"{c.Recipe}, cut at {position}" },
            2 => c with { Bytes = Edit(c.Bytes, edits), Recipe = $"{c.Recipe}, edited at {string.Join(' ', edits.Select(e => e.Item1))}" },
            3 => c with { Bytes = [.. c.Bytes[..Math.Min(position, c.Bytes.Length)], .. random.Take(6), .. c.Bytes[Math.Min(position, c.Bytes.Length)..]], Recipe = $"{c.Recipe}, bytes inserted at {position}" },
            _ => c with { Bytes = gzipMagic ? [0x1F, 0x8B, .. random] : random, Recipe = "random bytes" },
        };

    private static readonly Gen<byte> Interesting = Gen.Frequency(
        (3, Gen.Elements("0123456789,;\t\r\n .-eE"u8.ToArray())),
        (1, Gen.Elements<byte>(0x00, 0xFF, 0x1F, 0x8B, 0xEF, 0xBB, 0xBF, (byte)'x')),
        (1, Gen.Choose(0, 255).Select(b => (byte)b)));

    private static byte[] Edit(byte[] bytes, (int Position, byte Value)[] edits)
    {
        byte[] copy = (byte[])bytes.Clone();
        foreach ((int position, byte value) in edits)
        {
            if (position < copy.Length)
            {
                copy[position] = value;
            }
        }

        return copy;
    }

    private static Case CsvFile(int rows, int columns, char separator, string ending, int header, int label, int skip, string[] cells, int[] labels, bool finalBreak, int trailingBlank, bool gzip, bool? statedHeader)
    {
        var text = new StringBuilder();
        for (int s = 0; s < skip; s++)
        {
            text.Append("# banner ").Append(s).Append(ending);
        }

        int all = columns + (label == 0 ? 0 : 1);
        if (header >= 2)
        {
            text.AppendJoin(separator, Enumerable.Range(0, all).Select(i => header == 3 && i == all - 1 ? "42" : $"col{i}")).Append(ending);
        }

        for (int r = 0; r < rows; r++)
        {
            IEnumerable<string> row = cells.Skip(r * columns).Take(columns);
            row = label switch
            {
                1 => row.Append(labels[r].ToString(CultureInfo.InvariantCulture)),
                2 => row.Prepend(labels[r].ToString(CultureInfo.InvariantCulture)),
                _ => row,
            };
            text.AppendJoin(separator, row);
            if (r < rows - 1 || finalBreak)
            {
                text.Append(ending);
            }
        }

        for (int b = 0; b < trailingBlank; b++)
        {
            text.Append(ending);
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        var options = new CsvOptions
        {
            Separator = separator,
            SkipRows = skip,
            HasHeader = statedHeader,
            LabelColumn = label switch { 1 => -1, 2 => 0, _ => null },
        };
        return new Case(gzip ? TempFiles.Gzip(bytes) : bytes, options, $"{rows}x{all} csv, header {header}, label {label}, skip {skip}, gzip {gzip}");
    }

    private static Case IdxFile(int count, int rows, int columns, byte[] pixels, bool gzip)
    {
        var bytes = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), columns);
        pixels.CopyTo(bytes, 16);
        return new Case(gzip ? TempFiles.Gzip(bytes) : bytes, CsvOptions.Default, $"{count}x{rows}x{columns} idx, gzip {gzip}");
    }

    // ---- reference readers -------------------------------------------------------------------------------

    /// <summary>The content after gzip (checked against its trailer as RFC 1952 says), or null when the gzip is bad.</summary>
    private static byte[]? Content(byte[] bytes)
    {
        if (bytes.Length < 2 || bytes[0] != 0x1F || bytes[1] != 0x8B)
        {
            return bytes;
        }

        var output = new MemoryStream();
        try
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            gzip.CopyTo(output);
        }
        catch (InvalidDataException)
        {
            return null;
        }

        byte[] content = output.ToArray();
        bool complete = bytes.Length >= 20
            && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 8)) == System.IO.Hashing.Crc32.HashToUInt32(content)
            && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)) == (uint)content.Length;
        return complete ? content : null;
    }

    /// <summary>CSV by the documented rules, on whole strings: split lines, split fields, parse.</summary>
    private static Outcome ReferenceCsv(byte[] bytes, CsvOptions options)
    {
        byte[]? content = Content(bytes);
        if (content is null)
        {
            return Outcome.Error(null, null);
        }

        string text = new StreamReader(new MemoryStream(content), Encoding.UTF8, detectEncodingFromByteOrderMarks: true).ReadToEnd();
        List<string> lines = [.. text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n')];
        if (lines[^1].Length == 0 && (text.EndsWith('\n') || text.EndsWith('\r') || text.Length == 0))
        {
            lines.RemoveAt(lines.Count - 1); // a final line break starts no line
        }

        char separator = options.Separator;
        bool Blank(string line) => !line.Contains(separator) && string.IsNullOrWhiteSpace(line);
        static bool IsNumber(string cell) => float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        static bool IsBinary(string cell) => cell.Any(c => char.IsControl(c) && c != '\t');

        if (lines.Count < options.SkipRows)
        {
            return Outcome.Error(null, null);
        }

        int first = options.SkipRows;
        while (first < lines.Count && Blank(lines[first]))
        {
            first++;
        }

        if (first == lines.Count)
        {
            return Outcome.Error(null, null);
        }

        if (first > options.SkipRows)
        {
            return Outcome.Error(options.SkipRows + 1, null);
        }

        string[] cells = lines[first].Split(separator);
        bool header = options.HasHeader ?? cells.All(c => !IsNumber(c) && !IsBinary(c));
        if (options.HasHeader is null && !header)
        {
            int text0 = Array.FindIndex(cells, c => !IsNumber(c) && !IsBinary(c));
            if (text0 >= 0)
            {
                return Outcome.Error(first + 1, text0 + 1);
            }
        }

        int columns = cells.Length;
        int labelIndex = -1;
        if (options.LabelColumn is int requested)
        {
            labelIndex = requested < 0 ? columns + requested : requested;
            if (labelIndex < 0 || labelIndex >= columns)
            {
                return Outcome.Error(first + 1, null);
            }
        }

        int width = columns - (labelIndex >= 0 ? 1 : 0);
        if (width == 0)
        {
            return Outcome.Error(first + 1, null);
        }

        var values = new List<float>();
        var labels = new List<int>();
        int blank = -1;
        for (int l = first + (header ? 1 : 0); l < lines.Count; l++)
        {
            if (Blank(lines[l]))
            {
                blank = blank < 0 ? l : blank;
                continue;
            }

            if (blank >= 0)
            {
                return Outcome.Error(blank + 1, null);
            }

            string[] fields = lines[l].Split(separator);
            for (int c = 0; c < fields.Length; c++)
            {
                if (c == columns)
                {
                    return Outcome.Error(l + 1, null);
                }

                if (c == labelIndex)
                {
                    // An integer, also in float notation (1.0, 1e0: numpy and pandas write integer labels so).
                    if (!int.TryParse(fields[c], NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                    {
                        if (!double.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double real)
                            || real != Math.Floor(real) || real < int.MinValue || real > int.MaxValue)
                        {
                            return Outcome.Error(l + 1, c + 1);
                        }

                        value = (int)real;
                    }

                    labels.Add(value);
                }
                else
                {
                    if (!float.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                    {
                        return Outcome.Error(l + 1, c + 1);
                    }

                    values.Add(value);
                }
            }

            if (fields.Length != columns)
            {
                return Outcome.Error(l + 1, null);
            }
        }

        return values.Count == 0 ? Outcome.Error(null, null) : new Outcome(false, null, null, [.. values], values.Count / width, width, labelIndex >= 0 ? [.. labels] : null);
    }

    /// <summary>IDX images by the format's definition.</summary>
    private static Outcome ReferenceIdx(byte[] bytes)
    {
        byte[]? content = Content(bytes);
        if (content is null || content.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(content) != IdxReader.ImagesMagic)
        {
            return Outcome.Error(null, null);
        }

        long count = BinaryPrimitives.ReadUInt32BigEndian(content.AsSpan(4));
        long rows = BinaryPrimitives.ReadUInt32BigEndian(content.AsSpan(8));
        long columns = BinaryPrimitives.ReadUInt32BigEndian(content.AsSpan(12));
        if (count is 0 or > int.MaxValue || rows is 0 or > int.MaxValue || columns is 0 or > int.MaxValue
            || count * rows > Array.MaxLength || count * rows * columns > Array.MaxLength || content.Length != 16 + (count * rows * columns))
        {
            return Outcome.Error(null, null);
        }

        float[] values = content[16..].Select(b => (float)b).ToArray();
        return new Outcome(false, null, null, values, (int)count, (int)(rows * columns), null);
    }

    /// <summary>What a read gave: data, or an error with its row and column.</summary>
    private sealed record Outcome(bool IsError, int? Row, int? Column, float[] Values, int Count, int Width, int[]? Labels, string Message = "")
    {
        public static Outcome Error(int? row, int? column, string message = "") => new(true, row, column, [], 0, 0, null, message);

        public static Outcome Of(Dataset data) => new(false, null, null, data.Values.ToArray(), data.Count, data.Width, data.Labels);

        public void AssertSame(Outcome actual, string description)
        {
            string Show(Outcome o) => o.IsError ? $"error at row {o.Row?.ToString() ?? "-"}, column {o.Column?.ToString() ?? "-"} {o.Message}" : $"{o.Count}x{o.Width} data";
            Assert.True(IsError == actual.IsError, $"{description}\nexpected {Show(this)}\nactual   {Show(actual)}");
            if (IsError)
            {
                Assert.True(Row == actual.Row && Column == actual.Column, $"{description}\nexpected {Show(this)}\nactual   {Show(actual)}");
            }
            else
            {
                Assert.True(Count == actual.Count && Width == actual.Width && Values.AsSpan().SequenceEqual(actual.Values)
                    && (Labels ?? []).AsSpan().SequenceEqual(actual.Labels ?? []), $"{description}\nexpected {Show(this)}\nactual   {Show(actual)}");
            }
        }
    }

    private sealed class Tally
    {
        private int _read;
        private int _rejected;

        public int Read => _read;

        public int Rejected => _rejected;

        public bool Count(bool rejected)
        {
            _ = rejected ? Interlocked.Increment(ref _rejected) : Interlocked.Increment(ref _read);
            return true;
        }

        public override string ToString() => $"{_read + _rejected} cases: {_read} read, {_rejected} rejected with a DataFormatException, 0 other outcomes";
    }
}
