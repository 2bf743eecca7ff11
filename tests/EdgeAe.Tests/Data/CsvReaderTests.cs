using EdgeAe.Data;

namespace EdgeAe.Tests.Data;

public sealed class CsvReaderTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static DataFormatException AssertBad(string path, CsvOptions? options = null)
        => Assert.Throws<DataFormatException>(() => CsvReader.Read(path, options));

    [Fact]
    public void Reads_plain_numbers_without_header_or_labels()
    {
        string path = _files.Text("plain.csv", "1,2.5,-3\n4e1,0.125, 6 \n");
        Dataset data = CsvReader.Read(path);
        Assert.Equal(2, data.Count);
        Assert.Equal(3, data.Width);
        Assert.Null(data.Labels);
        Assert.Equal([1f, 2.5f, -3f, 40f, 0.125f, 6f], data.Values.ToArray());
    }

    [Fact]
    public void Gzip_is_detected_by_magic_bytes_not_extension()
    {
        string gzipped = _files.GzipText("looks-plain.csv", "1,2\n3,4\n");
        string plain = _files.Text("looks-gzipped.csv.gz", "5,6\n");
        Assert.Equal([1f, 2f, 3f, 4f], CsvReader.Read(gzipped).Values.ToArray());
        Assert.Equal([5f, 6f], CsvReader.Read(plain).Values.ToArray());
    }

    [Fact]
    public void Header_is_auto_detected_when_the_first_row_has_a_non_number()
    {
        string withHeader = _files.Text("header.csv", "a,b,label\n1,2,7\n3,4,8\n");
        Dataset data = CsvReader.Read(withHeader, new CsvOptions { LabelColumn = -1 });
        Assert.Equal(2, data.Count);
        Assert.Equal(2, data.Width);
        Assert.Equal([1f, 2f, 3f, 4f], data.Values.ToArray());
        Assert.Equal([7, 8], data.Labels!);

        string numeric = _files.Text("numeric.csv", "1,2\n3,4\n");
        Assert.Equal(2, CsvReader.Read(numeric).Count);
    }

    [Fact]
    public void Explicit_header_skips_a_numeric_first_row()
    {
        string path = _files.Text("numeric-header.csv", "10,20\n1,2\n");
        Dataset data = CsvReader.Read(path, new CsvOptions { HasHeader = true });
        Assert.Equal([1f, 2f], data.Values.ToArray());
    }

    [Fact]
    public void Explicit_no_header_reports_a_text_first_row()
    {
        string path = _files.Text("text-first.csv", "x,y\n1,2\n");
        DataFormatException e = AssertBad(path, new CsvOptions { HasHeader = false });
        Assert.Equal(1, e.Row);
        Assert.Equal(1, e.Column);
        Assert.Contains("text-first.csv row 1, column 1: 'x' is not a number", e.Message);
    }

    [Theory]
    [InlineData(0, new[] { 2f, 3f, 5f, 6f }, new[] { 1, 4 })]
    [InlineData(1, new[] { 1f, 3f, 4f, 6f }, new[] { 2, 5 })]
    [InlineData(-1, new[] { 1f, 2f, 4f, 5f }, new[] { 3, 6 })]
    [InlineData(-3, new[] { 2f, 3f, 5f, 6f }, new[] { 1, 4 })]
    public void Label_column_is_taken_out_of_the_features(int labelColumn, float[] values, int[] labels)
    {
        string path = _files.Text("labels.csv", "1,2,3\n4,5,6\n");
        Dataset data = CsvReader.Read(path, new CsvOptions { LabelColumn = labelColumn });
        Assert.Equal(2, data.Width);
        Assert.Equal(values, data.Values.ToArray());
        Assert.Equal(labels, data.Labels!);
    }

    [Fact]
    public void Other_separators_and_invariant_culture()
    {
        string path = _files.Text("semicolon.csv", "1.5;2\n3;4.25\n");
        Dataset data = CsvReader.Read(path, new CsvOptions { Separator = ';' });
        Assert.Equal([1.5f, 2f, 3f, 4.25f], data.Values.ToArray());
    }

    [Fact]
    public void A_decimal_comma_is_named_rather_than_sending_a_semicolon_file_to_the_comma_separator()
    {
        // A spreadsheet in a decimal-comma locale writes "1,5;2,25": read with ';' the field "1,5" used to get
        // "(the file looks ','-separated: --delimiter ',')", and read with ',' the field "5;2" the hint back to ';'.
        string path = _files.Text("euro.csv", "0,5;1\n1,5;2,25\n");
        DataFormatException e = AssertBad(path, new CsvOptions { Separator = ';', HasHeader = false });
        Assert.Contains("'0,5' is not a number (if ',' is a decimal comma: numbers are read with a decimal point, 1.5 rather than 1,5", e.Message);
        Assert.DoesNotContain("looks ','-separated", e.Message);
        Assert.Contains("(the file looks ';'-separated: --delimiter ';')", AssertBad(path).Message);

        // Several commas in a field are a ','-separated file read with another separator.
        Assert.Contains("(the file looks ','-separated: --delimiter ',')", AssertBad(_files.Text("commas.csv", "1,2,3\n4,5,6\n"), new CsvOptions { Separator = ';' }).Message);
    }

    [Fact]
    public void A_single_row_taken_as_a_header_says_why_and_how_to_read_it_as_data()
    {
        // One sample written with ';' (or decimal commas) has no cell that reads as a number: it was "only a header".
        DataFormatException e = AssertBad(_files.Text("one.csv", "0.5;1;2;3\n"));
        Assert.Contains("one.csv: expected at least one data row but found only a header (row 1 was taken as a header because none of its cells is a number (the file looks ';'-separated: --delimiter ';'); --header false reads it as data)", e.Message);
        Assert.Contains("(if ',' is a decimal comma", AssertBad(_files.Text("comma.csv", "0,5;1,5\n"), new CsvOptions { Separator = ';' }).Message);

        // A header that was stated needs no explanation.
        Assert.EndsWith("expected at least one data row but found only a header", AssertBad(_files.Text("stated.csv", "a,b\n"), new CsvOptions { HasHeader = true }).Message);
    }

    [Fact]
    public void Trailing_blank_lines_and_crlf_are_ignored()
    {
        string path = _files.Text("trailing.csv", "1,2\r\n3,4\r\n\r\n  \n\n");
        Assert.Equal(2, CsvReader.Read(path).Count);
    }

    [Fact]
    public void Blank_line_in_the_middle_is_reported()
    {
        string path = _files.Text("gap.csv", "1,2\n\n3,4\n");
        DataFormatException e = AssertBad(path);
        Assert.Equal(2, e.Row);
        Assert.Contains("gap.csv row 2: blank line before row 3", e.Message);
    }

    [Fact]
    public void Wrong_column_count_names_row_and_expected_count()
    {
        string path = _files.Text("digits.csv", "1,2,3\n4,5,6\n7,8\n");
        DataFormatException e = AssertBad(path);
        Assert.Equal(path, e.FilePath);
        Assert.Equal(3, e.Row);
        Assert.Null(e.Column);
        Assert.Contains("digits.csv row 3: expected 3 columns but found 2", e.Message);
    }

    [Fact]
    public void Wrong_column_count_counts_rows_from_the_header()
    {
        string path = _files.GzipText("wide.csv.gz", "a,b\n1,2\n3,4,5\n");
        DataFormatException e = AssertBad(path);
        Assert.Equal(3, e.Row);
        Assert.Contains("wide.csv.gz row 3: expected 2 columns but found 3", e.Message);
    }

    [Fact]
    public void Non_number_names_row_column_and_text()
    {
        string path = _files.Text("x.csv", "1,2,3\n4,5,6\n7,abc,9\n");
        DataFormatException e = AssertBad(path);
        Assert.Equal(3, e.Row);
        Assert.Equal(2, e.Column);
        Assert.Contains("x.csv row 3, column 2: 'abc' is not a number", e.Message);
    }

    [Fact]
    public void Empty_field_is_reported()
    {
        string path = _files.Text("hole.csv", "1,2\n3,\n");
        DataFormatException e = AssertBad(path);
        Assert.Contains("hole.csv row 2, column 2: expected a number but found an empty field", e.Message);
    }

    [Theory]
    [InlineData("NaN", "found NaN")]
    [InlineData("Infinity", "found infinity")]
    [InlineData("-Infinity", "found infinity")]
    [InlineData("inf", "found infinity ('inf')")]
    [InlineData("-inf", "found infinity ('-inf')")]
    [InlineData("+inf", "found infinity ('+inf')")]
    [InlineData("Inf", "found infinity ('Inf')")]
    [InlineData(" INF ", "found infinity (' INF ')")]
    [InlineData("∞", "found infinity ('∞')")]
    [InlineData("-∞", "found infinity ('-∞')")]
    [InlineData("1e40", "'1e40' overflows a 32-bit float")]
    public void Non_finite_features_are_reported_with_row_and_column(string field, string found)
    {
        string path = _files.Text("nonfinite.csv", $"1,2,3\n4,{field},6\n");
        DataFormatException e = AssertBad(path);
        Assert.Equal(2, e.Row);
        Assert.Equal(2, e.Column);
        Assert.Contains("nonfinite.csv row 2, column 2: expected a finite number but", e.Message);
        Assert.Contains(found, e.Message);
    }

    [Theory]
    [InlineData("inf")]
    [InlineData("-inf")]
    [InlineData("Infinity")]
    public void An_infinity_in_the_first_row_is_an_infinity_not_text_or_a_header(string field)
    {
        // numpy's savetxt writes inf and -inf; .NET reads only Infinity. Either spelling is the same problem, in any row.
        DataFormatException mixed = AssertBad(_files.Text("first.csv", $"1,{field},3\n4,5,6\n"));
        Assert.Equal($"first.csv row 1, column 2: expected a finite number but found infinity ('{field}')", mixed.Message[mixed.Message.IndexOf("first.csv", StringComparison.Ordinal)..]);

        // A first row of nothing but infinities is data, not a header of column names.
        DataFormatException all = AssertBad(_files.Text("all.csv", $"{field},{field}\n4,5\n"));
        Assert.Equal(1, all.Row);
        Assert.Equal(1, all.Column);
        Assert.Contains($"expected a finite number but found infinity ('{field}')", all.Message);
    }

    [Fact]
    public void Integer_labels_written_as_floats_by_numpy_or_pandas_are_read()
    {
        // np.savetxt(path, np.column_stack([X, y]), delimiter=",") writes the label 1 as 1.000000000000000000e+00.
        string path = _files.Text("savetxt.csv", "1.000000000000000000e+00,2.000000000000000000e+00,1.000000000000000000e+00\n4,5,0.0\n7,8,-3.\n");
        Dataset data = CsvReader.Read(path, new CsvOptions { LabelColumn = -1 });
        Assert.Equal(new[] { 1, 0, -3 }, data.Labels);
        Assert.Equal(new[] { 1f, 2f, 4f, 5f, 7f, 8f }, data.Values.ToArray());
        Assert.Contains("expected an integer label but found '1e10'", AssertBad(_files.Text("huge.csv", "1,2,0\n1,2,1e10\n"), new CsvOptions { LabelColumn = -1 }).Message);
        Assert.Contains("expected an integer label but found 'NaN'", AssertBad(_files.Text("nan.csv", "1,2,0\n1,2,NaN\n"), new CsvOptions { LabelColumn = -1 }).Message);
    }

    [Fact]
    public void A_label_column_read_without_labels_may_hold_class_names()
    {
        // df.to_csv(index=False) of a frame with a "class" column: the commands only drop it.
        string path = _files.Text("classes.csv", "a,b,class\n1,2,normal\n3,4,bearing fault\n");
        Dataset data = CsvReader.Read(path, new CsvOptions { LabelColumn = -1, ReadLabels = false });
        Assert.Equal([1f, 2f, 3f, 4f], data.Values.ToArray());
        Assert.Null(data.Labels);
        Assert.Contains("expected an integer label but found 'normal'", AssertBad(path, new CsvOptions { LabelColumn = -1 }).Message);

        // Without a header, a first row of numbers and a class name is data, not a row that mixes numbers and text.
        string headerless = _files.Text("headerless.csv", "1,normal,2\n3,fault,4\n");
        data = CsvReader.Read(headerless, new CsvOptions { LabelColumn = 1, ReadLabels = false });
        Assert.Equal([1f, 2f, 3f, 4f], data.Values.ToArray());
        Assert.Contains("'normal' is not a number (the row also holds numbers", AssertBad(headerless, new CsvOptions { LabelColumn = 0, ReadLabels = false }).Message);
    }

    [Fact]
    public void Non_integer_label_is_reported()
    {
        string path = _files.Text("badlabel.csv", "1,2,3\n4,5,6.5\n");
        DataFormatException e = AssertBad(path, new CsvOptions { LabelColumn = -1 });
        Assert.Equal(2, e.Row);
        Assert.Equal(3, e.Column);
        Assert.Contains("badlabel.csv row 2, column 3: expected an integer label but found '6.5'", e.Message);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-4)]
    public void Label_column_outside_the_row_is_reported(int labelColumn)
    {
        string path = _files.Text("narrow.csv", "1,2,3\n");
        DataFormatException e = AssertBad(path, new CsvOptions { LabelColumn = labelColumn });
        Assert.Equal(1, e.Row);
        Assert.Contains($"narrow.csv row 1: label column {labelColumn} does not exist", e.Message);
        Assert.Contains("3 columns", e.Message);
    }

    [Fact]
    public void Label_only_file_has_no_features()
    {
        string path = _files.Text("labelonly.csv", "1\n2\n");
        DataFormatException e = AssertBad(path, new CsvOptions { LabelColumn = 0 });
        Assert.Contains("labelonly.csv row 1: expected at least one feature column", e.Message);
    }

    [Theory]
    [InlineData("", "an empty file")]
    [InlineData("\n\n", "only blank lines")]
    [InlineData("a,b\n", "only a header")]
    public void Empty_data_set_is_reported(string content, string found)
    {
        string path = _files.Text("empty.csv", content);
        DataFormatException e = AssertBad(path);
        Assert.Null(e.Row);
        Assert.Contains("empty.csv: expected at least one data row but found " + found, e.Message);
    }

    [Fact]
    public void Missing_file_is_FileNotFoundException_with_the_path()
    {
        string path = _files.Path("missing.csv");
        var e = Assert.Throws<FileNotFoundException>(() => CsvReader.Read(path));
        Assert.Equal(path, e.FileName);
        Assert.Contains("missing.csv", e.Message);

        string inMissingDirectory = _files.Path(Path.Combine("nowhere", "missing.csv"));
        e = Assert.Throws<FileNotFoundException>(() => CsvReader.Read(inMissingDirectory));
        Assert.Equal(inMissingDirectory, e.FileName);
    }

    [Fact]
    public void Corrupt_gzip_is_a_DataFormatException()
    {
        byte[] gzip = TempFiles.Gzip("1,2\n3,4\n"u8.ToArray());
        for (int i = 10; i < gzip.Length - 8; i++)
        {
            gzip[i] ^= 0x5A;
        }

        string path = _files.Bytes("corrupt.csv.gz", gzip);
        DataFormatException e = AssertBad(path);
        Assert.Contains("corrupt.csv.gz", e.Message);
    }

    [Fact]
    public void Stream_read_uses_the_display_name_and_leaves_the_stream_open()
    {
        using var stream = new MemoryStream("1,2\n3\n"u8.ToArray());
        DataFormatException e = Assert.Throws<DataFormatException>(() => CsvReader.Read(stream, "in-memory"));
        Assert.Equal("in-memory", e.FilePath);
        Assert.StartsWith("in-memory row 2: expected 2 columns but found 1", e.Message);

        using var good = new MemoryStream(TempFiles.Gzip("1,2\n"u8.ToArray()));
        Assert.Equal(1, CsvReader.Read(good, "good").Count);
        Assert.True(good.CanRead);
    }

    [Fact]
    public void Non_seekable_streams_are_read_plain_and_gzip()
    {
        // A decompressing GZipStream cannot seek; its content is itself gzip in the second case.
        using var plain = new System.IO.Compression.GZipStream(
            new MemoryStream(TempFiles.Gzip("1,2\n"u8.ToArray())), System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal([1f, 2f], CsvReader.Read(plain, "plain").Values.ToArray());

        using var nested = new System.IO.Compression.GZipStream(
            new MemoryStream(TempFiles.Gzip(TempFiles.Gzip("3,4\n"u8.ToArray()))), System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal([3f, 4f], CsvReader.Read(nested, "nested").Values.ToArray());
    }
}
