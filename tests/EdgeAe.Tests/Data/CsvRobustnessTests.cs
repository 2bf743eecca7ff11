using System.IO.Compression;
using System.Text;
using EdgeAe.Data;

namespace EdgeAe.Tests.Data;

/// <summary>
/// Issue 13's reader points: header detection never drops a data row, --skip-rows and --delimiter, truncated gzip,
/// the streaming parse (memory, a row longer than expected), line endings across the read window.
/// </summary>
public sealed class CsvRobustnessTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_first_data_row_with_a_typo_is_an_error_not_a_header()
    {
        // Point 11: "1,2,1O,4" used to be taken as a header and dropped ("trains on 199 samples").
        string path = _files.Text("typo.csv", "1,2,1O,4\n5,6,7,8\n");
        var e = Assert.Throws<DataFormatException>(() => CsvReader.Read(path));
        Assert.Equal(1, e.Row);
        Assert.Equal(3, e.Column);
        Assert.Contains("'1O' is not a number", e.Message);
        Assert.Contains("not taken as a header", e.Message);
    }

    [Fact]
    public void A_row_of_text_only_is_a_header_and_the_layout_says_so()
    {
        string path = _files.Text("named.csv", "temperature, pressure ,flow\n1,2,3\n4,5,6\n");
        Dataset data = CsvReader.Read(path, null, out CsvLayout layout);
        Assert.Equal(2, data.Count);
        Assert.Equal(1, layout.HeaderRow);
        Assert.True(layout.HeaderDetected);
        Assert.Equal(["temperature", "pressure", "flow"], layout.Header);
        Assert.Equal(2, layout.FirstDataRow);

        Dataset plain = CsvReader.Read(_files.Text("plain.csv", "1,2\n3,4\n"), null, out CsvLayout none);
        Assert.Equal(2, plain.Count);
        Assert.Null(none.HeaderRow);
        Assert.False(none.HeaderDetected);
        Assert.Equal(1, none.FirstDataRow);
    }

    [Fact]
    public void Skipped_rows_come_before_the_header_and_count_in_row_numbers()
    {
        string path = _files.Text("banner.csv", "# exported 2026-11-30\n# units: counts\na,b\n1,2\n3,x\n");
        var e = Assert.Throws<DataFormatException>(() => CsvReader.Read(path, new CsvOptions { SkipRows = 2 }));
        Assert.Equal(5, e.Row);
        Assert.Equal(2, e.Column);

        File.WriteAllText(path, "# exported\n# units\na,b\n1,2\n3,4\n");
        Dataset data = CsvReader.Read(path, new CsvOptions { SkipRows = 2 }, out CsvLayout layout);
        Assert.Equal([1f, 2f, 3f, 4f], data.Values.ToArray());
        Assert.Equal(3, layout.HeaderRow);
        Assert.Equal(4, layout.FirstDataRow);

        var tooMany = Assert.Throws<DataFormatException>(() => CsvReader.Read(path, new CsvOptions { SkipRows = 9 }));
        Assert.Contains("expected data after the 9 skipped rows but the file has 5 lines", tooMany.Message);
    }

    [Theory]
    [InlineData(';', "1;2;3\n4;5;6\n", "--delimiter ';'")]
    [InlineData('\t', "1\t2\t3\n4\t5\t6\n", "--delimiter '\\t'")]
    public void Another_separator_is_hinted_and_read_when_given(char separator, string content, string hint)
    {
        string path = _files.Text("separated.csv", content);
        var e = Assert.Throws<DataFormatException>(() => CsvReader.Read(path));
        Assert.Contains(hint, e.Message);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], CsvReader.Read(path, new CsvOptions { Separator = separator }).Values.ToArray());
    }

    [Fact]
    public void A_gzip_file_cut_between_two_rows_is_reported_as_truncated()
    {
        // Point 10: a stream cut at a flush point (here: after 97 of 200 rows) used to load 97 rows silently.
        var text = new StringBuilder();
        for (int r = 0; r < 200; r++)
        {
            text.AppendLine(string.Join(',', Enumerable.Range(r, 8)));
        }

        byte[] rows = Encoding.UTF8.GetBytes(text.ToString());
        int cut = rows.AsSpan().IndexOf(Encoding.UTF8.GetBytes("97,98,99")); // the start of row 98
        using var partial = new MemoryStream();
        using (var gzip = new GZipStream(partial, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(rows, 0, cut);
            gzip.Flush(); // a sync flush: every byte so far is decodable, the trailer never comes
        }

        byte[] flushed = partial.ToArray();
        var e = Assert.Throws<DataFormatException>(() => CsvReader.Read(_files.Bytes("cut.csv.gz", flushed.AsSpan(0, FlushedPrefix(flushed)).ToArray())));
        Assert.Contains("truncated", e.Message);
        Assert.Null(e.Row);

        // Every cut of a complete file is an error too, never a shorter data set.
        byte[] whole = TempFiles.Gzip(rows);
        Assert.Equal(200, CsvReader.Read(_files.Bytes("whole.csv.gz", whole)).Count);
        for (int length = 0; length < whole.Length; length += 7)
        {
            Assert.Throws<DataFormatException>(() => CsvReader.Read(new MemoryStream(whole, 0, length), "cut"));
        }
    }

    [Fact]
    public void A_row_longer_than_expected_fails_at_its_first_extra_field_without_reading_it_all()
    {
        // Point 13: one 200 MB line of 100 M fields took 6.7 GB and 39 s before failing on the width.
        const int fields = 2_000_000;
        var line = new StringBuilder(fields * 2);
        for (int i = 0; i < fields; i++)
        {
            line.Append(i == 0 ? "" : ",").Append(i % 10);
        }

        string path = _files.Text("one-line.csv", line.ToString());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => CsvReader.Read(path, new CsvOptions { ExpectedWidth = 64 }));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1, e.Row);
        Assert.Contains("expected 64 columns (64 values per sample) but the row is longer", e.Message);
        Assert.True(allocated < 2_000_000, $"allocated {allocated:N0} bytes before failing");
    }

    [Fact]
    public void Parsing_allocates_the_float_data_and_a_constant_not_a_multiple()
    {
        // Point 13: a 200 MB CSV peaked at 7x its size (strings per line and field, a growing list, a copy).
        const int rows = 20_000, width = 50;
        var text = new StringBuilder();
        var random = new Random(3);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < width; c++)
            {
                text.Append(c == 0 ? "" : ",").Append((random.NextDouble() * 100).ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
            }

            text.Append('\n');
        }

        string path = _files.Text("big.csv", text.ToString());
        CsvReader.Read(_files.Text("warm.csv", "1,2\n")); // static tables, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        Dataset data = CsvReader.Read(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long floats = (long)rows * width * sizeof(float);
        Assert.Equal(rows, data.Count);
        Assert.True(allocated < floats + 1_500_000, $"allocated {allocated:N0} bytes for {floats:N0} bytes of float data");
    }

    [Fact]
    public void A_wide_first_row_followed_by_many_lines_does_not_size_the_array_by_their_product()
    {
        // 2,000 columns, then 20,000 blank or one-field lines: rows × columns would be 40 M floats (160 MB).
        string wide = string.Join(',', Enumerable.Repeat("1", 2000));
        string blanks = _files.Text("blanks.csv", wide + "\n" + wide + "\n" + new string('\n', 20_000));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(2, CsvReader.Read(blanks).Count);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 3_000_000);

        string shortLines = _files.Text("short.csv", wide + "\n" + string.Concat(Enumerable.Repeat("7\n", 20_000)));
        before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => CsvReader.Read(shortLines));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 3_000_000);
        Assert.Contains("row 2: expected 2000 columns but found 1", e.Message);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void Line_endings_are_read_across_many_window_refills(string ending)
    {
        var text = new StringBuilder();
        var expected = new List<float>();
        for (int r = 0; r < 30_000; r++)
        {
            text.Append(r).Append(',').Append(r % 97).Append(ending);
            expected.Add(r);
            expected.Add(r % 97);
        }

        Dataset data = CsvReader.Read(_files.Text("endings.csv", text.ToString()));
        Assert.Equal(expected, data.Values.ToArray());
    }

    [Fact]
    public void A_field_longer_than_the_window_is_an_error_and_binary_bytes_are_shown_escaped()
    {
        var e = Assert.Throws<DataFormatException>(() => CsvReader.Read(_files.Text("long.csv", "1," + new string('7', 70_000) + "\n")));
        Assert.Contains("a field is longer than 65536 characters", e.Message);

        var binary = Assert.Throws<DataFormatException>(() => CsvReader.Read(_files.Bytes("binary.csv", [0x00, 0x01, 0x7F, 0x10])));
        Assert.Contains("\\x00\\x01\\x7F\\x10", binary.Message);
    }

    [Fact]
    public void The_gzip_check_uses_the_standard_crc32()
    {
        byte[] bytes = new byte[1000];
        new Random(1).NextBytes(bytes);
        for (int length = 0; length < 40; length++)
        {
            Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, length)), Crc32.Final(Crc32.Update(Crc32.Initial, bytes.AsSpan(0, length))));
        }

        uint split = Crc32.Update(Crc32.Update(Crc32.Initial, bytes.AsSpan(0, 333)), bytes.AsSpan(333));
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(bytes), Crc32.Final(split));
    }

    /// <summary>The length of a gzip stream written up to a sync flush: everything before GZipStream's final block and trailer.</summary>
    private static int FlushedPrefix(byte[] complete)
    {
        // The disposed GZipStream appended the final empty block and the 8-byte trailer after the flush marker 00 00 FF FF.
        for (int i = complete.Length - 4; i >= 0; i--)
        {
            if (complete[i] == 0x00 && complete[i + 1] == 0x00 && complete[i + 2] == 0xFF && complete[i + 3] == 0xFF)
            {
                return i + 4;
            }
        }

        throw new InvalidOperationException("no sync flush marker found");
    }
}
