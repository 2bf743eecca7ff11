using System.Buffers.Binary;
using EdgeAe.Data;

namespace EdgeAe.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static byte[] Idx(int magic, int[] sizes, byte[] body)
    {
        var bytes = new byte[4 + 4 * sizes.Length + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < sizes.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), sizes[d]);
        }

        body.CopyTo(bytes.AsSpan(4 + 4 * sizes.Length));
        return bytes;
    }

    /// <summary>3 images of 2×2 pixels: image k has pixels 10k+1 .. 10k+4, the last one 255.</summary>
    private static byte[] Images() => Idx(0x803, [3, 2, 2], [1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 255]);

    private static byte[] Labels(params byte[] labels) => Idx(0x801, [labels.Length], labels);

    private DataFormatException AssertBadImages(string name, byte[] content)
    {
        string path = _files.Bytes(name, content);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.Equal(path, e.FilePath);
        Assert.Null(e.Row);
        Assert.Null(e.Column);
        Assert.Contains(name, e.Message);
        return e;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_raw_and_gzip(bool gzip)
    {
        byte[] content = Images();
        string path = _files.Bytes("images.idx", gzip ? TempFiles.Gzip(content) : content);
        Dataset data = IdxReader.ReadImages(path);
        Assert.Equal(3, data.Count);
        Assert.Equal(4, data.Width);
        Assert.Null(data.Labels);
        Assert.Equal([21f, 22f, 23f, 255f], data[2].ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_labels_raw_and_gzip(bool gzip)
    {
        byte[] content = Labels(7, 0, 9);
        string path = _files.Bytes("labels.idx.gz", gzip ? TempFiles.Gzip(content) : content);
        Assert.Equal([7, 0, 9], IdxReader.ReadLabels(path));
    }

    [Fact]
    public void Reads_images_with_labels()
    {
        string images = _files.Bytes("images.idx", TempFiles.Gzip(Images()));
        string labels = _files.Bytes("labels.idx", Labels(3, 1, 4));
        Dataset data = IdxReader.ReadImages(images, labels);
        Assert.Equal(3, data.Count);
        Assert.Equal([3, 1, 4], data.Labels!);
        Assert.Equal([1f, 2f, 3f, 4f], data[0].ToArray());
    }

    [Fact]
    public void Label_count_mismatch_is_reported_against_the_labels_file()
    {
        string images = _files.Bytes("images.idx", Images());
        string labels = _files.Bytes("few-labels.idx", Labels(3, 1));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(images, labels));
        Assert.Equal(labels, e.FilePath);
        Assert.Contains("few-labels.idx: expected 3 labels, one per image in", e.Message);
        Assert.Contains("images.idx", e.Message);
        Assert.Contains("but found 2", e.Message);
    }

    [Fact]
    public void Labels_file_read_as_images_has_the_wrong_magic()
    {
        DataFormatException e = AssertBadImages("train.idx", Labels(1, 2, 3));
        Assert.Contains("train.idx: wrong magic number 0x00000801, expected 0x00000803 (unsigned-byte images)", e.Message);
        Assert.Contains("labels file", e.Message);
    }

    [Fact]
    public void Images_file_read_as_labels_has_the_wrong_magic()
    {
        string path = _files.Bytes("labels.idx", Images());
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path));
        Assert.Contains("labels.idx: wrong magic number 0x00000803, expected 0x00000801 (unsigned-byte labels)", e.Message);
    }

    [Fact]
    public void Other_element_type_is_reported()
    {
        DataFormatException e = AssertBadImages("float.idx", Idx(0xD03, [1, 1, 1], [0, 0, 0, 0]));
        Assert.Contains("wrong magic number 0x00000D03, expected 0x00000803", e.Message);
        Assert.Contains("element type 0x0D (32-bit float)", e.Message);
    }

    [Fact]
    public void Other_dimension_count_is_reported()
    {
        DataFormatException e = AssertBadImages("twodims.idx", Idx(0x802, [2, 2], [1, 2, 3, 4]));
        Assert.Contains("wrong magic number 0x00000802, expected 0x00000803", e.Message);
        Assert.Contains("found 2 dimensions, expected 3", e.Message);
    }

    [Fact]
    public void Non_idx_content_is_reported()
    {
        DataFormatException e = AssertBadImages("text.idx", "hello, world"u8.ToArray());
        Assert.Contains("wrong magic number 0x68656C6C, expected 0x00000803", e.Message);
        Assert.Contains("not an IDX file", e.Message);
    }

    [Fact]
    public void Zero_size_is_reported()
    {
        DataFormatException e = AssertBadImages("zero.idx", Idx(0x803, [0, 2, 2], []));
        Assert.Contains("zero.idx: dimension 1 of 3 declares size 0", e.Message);
    }

    [Fact]
    public void Truncated_magic_and_header_are_reported()
    {
        DataFormatException e = AssertBadImages("tiny.idx", [0, 0, 8]);
        Assert.Contains("tiny.idx: truncated at byte 3 (expected a 4-byte IDX magic number)", e.Message);

        e = AssertBadImages("header.idx", Images()[..10]);
        Assert.Contains("header.idx: truncated at byte 10 (expected a 16-byte header)", e.Message);
    }

    [Fact]
    public void Truncated_body_names_the_offset_and_the_expected_length()
    {
        byte[] content = Images();
        DataFormatException e = AssertBadImages("train.idx", content[..^5]);
        Assert.Contains("train.idx: truncated at byte 23 (expected 28 bytes)", e.Message);

        e = AssertBadImages("train.idx.gz", TempFiles.Gzip(content[..^5]));
        Assert.Contains("train.idx.gz: truncated at byte 23 of the decompressed content (expected 28 bytes)", e.Message);
    }

    [Fact]
    public void Trailing_garbage_is_reported()
    {
        DataFormatException e = AssertBadImages("long.idx", [.. Images(), 1, 2, 3]);
        Assert.Contains("long.idx: 3 bytes of trailing data after byte 28 (expected 28 bytes)", e.Message);
    }

    [Fact]
    public void Truncated_gzip_stream_is_a_DataFormatException()
    {
        byte[] gzip = TempFiles.Gzip(Images());
        AssertBadImages("cut.idx.gz", gzip[..(gzip.Length / 2)]);
    }

    [Fact]
    public void Missing_file_is_FileNotFoundException_with_the_path()
    {
        string path = _files.Path("absent.idx");
        var e = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadLabels(path));
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void Stream_reads_use_the_display_name()
    {
        using var stream = new MemoryStream(Labels(1, 2));
        Assert.Equal([1, 2], IdxReader.ReadLabels(stream, "mem"));

        using var images = new MemoryStream(Labels(1, 2));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(images, "mem-images"));
        Assert.Equal("mem-images", e.FilePath);
        Assert.StartsWith("mem-images: wrong magic number", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_header_declaring_more_than_the_file_can_hold_fails_before_allocating(bool gzip)
    {
        // Found by ReaderPropertyTests: an edited header claiming 60,000 × 28 × 28 elements in a 100-byte file made
        // the reader allocate the whole body first (up to 8 GB for 2^31 elements).
        byte[] content = new byte[100];
        content[2] = 0x08;
        content[3] = 0x03;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4), 60000);
        content[11] = 28;
        content[15] = 28;
        byte[] file = gzip ? TempFiles.Gzip(content) : content;
        long before = GC.GetAllocatedBytesForCurrentThread();
        DataFormatException e = AssertBadImages(gzip ? "claims.idx.gz" : "claims.idx", file);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 2_000_000);
        Assert.Contains(gzip ? "more than" : "truncated at byte 100 (expected 47040016 bytes)", e.Message);
    }
}
