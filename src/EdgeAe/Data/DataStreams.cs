using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeAe.Data;

/// <summary>Opening data files the same way for every reader: missing files and gzip are handled here.</summary>
internal static class DataStreams
{
    /// <summary>Opens <paramref name="path"/> for reading; a missing file or directory is a <see cref="FileNotFoundException"/>.</summary>
    public static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new FileNotFoundException($"Could not find file '{path}'.", path, e);
        }
    }

    /// <summary>
    /// <paramref name="stream"/> itself when it can seek, else a copy of its remaining content in memory (pipes and
    /// network streams): readers look at the first bytes, check a gzip trailer and may read the content twice.
    /// </summary>
    public static Stream Seekable(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek)
        {
            return stream;
        }

        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        buffer.Position = 0;
        return buffer;
    }

    /// <summary>
    /// Returns a stream of the content of <paramref name="stream"/>, decompressed when it starts with
    /// the gzip magic bytes 1F 8B (the name of the file plays no part). <paramref name="stream"/> is left open
    /// when the returned stream is disposed.
    /// </summary>
    public static Stream Decompressed(Stream stream) => Decompressed(Seekable(stream), out _);

    /// <inheritdoc cref="Decompressed(Stream)"/>
    /// <param name="stream">The raw content; must be seekable (see <see cref="Seekable"/>).</param>
    /// <param name="compressed">Whether the content was gzip-compressed.</param>
    /// <param name="verify">
    /// Check the gzip trailer when the decompressed content ends: a stream that stops before its trailer, or
    /// whose CRC-32 or length disagree with it, throws <see cref="TruncatedGzipException"/> at its end.
    /// </param>
    public static Stream Decompressed(Stream stream, out bool compressed, bool verify = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("The stream must be seekable; use DataStreams.Seekable.", nameof(stream));
        }

        long start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        int read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        compressed = read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        if (!compressed)
        {
            return new NonClosingStream(stream);
        }

        return verify ? new VerifiedGzipStream(stream) : new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
    }

    /// <summary>Forwards to a stream without disposing it, so that callers can dispose what <see cref="Decompressed(Stream)"/> returns.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// Decompresses gzip and, when the content ends, checks it against the file's last 8 bytes (the trailer: CRC-32
    /// and length of the decompressed data, RFC 1952). System.IO.Compression reports a stream that simply stops — a
    /// file cut at any point, even between two rows — as a normal end, so without this check a truncated file loads
    /// as a shorter data set. One gzip member per file: concatenated members (bgzip, <c>cat a.gz b.gz</c>) fail the
    /// check too and are reported with the truncation.
    /// </summary>
    private sealed class VerifiedGzipStream : Stream
    {
        /// <summary>The smallest gzip member: a 10-byte header, an empty deflate block and the 8-byte trailer.</summary>
        private const int SmallestMember = 20;

        private readonly GZipStream _gzip;
        private readonly long _compressedLength;
        private readonly uint _expectedCrc;
        private readonly uint _expectedLength;
        private uint _crc = Crc32.Initial;
        private long _length;
        private bool _checked;

        public VerifiedGzipStream(Stream raw)
        {
            long start = raw.Position;
            _compressedLength = raw.Length - start;
            if (_compressedLength >= SmallestMember)
            {
                Span<byte> trailer = stackalloc byte[8];
                raw.Position = raw.Length - 8;
                raw.ReadExactly(trailer);
                raw.Position = start;
                _expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
                _expectedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
            }

            _gzip = new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = _gzip.Read(buffer);
            if (read > 0)
            {
                _crc = Crc32.Update(_crc, buffer[..read]);
                _length += read;
            }
            else if (buffer.Length > 0 && !_checked)
            {
                _checked = true;
                Check();
            }

            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _gzip.Dispose();
            }

            base.Dispose(disposing);
        }

        private void Check()
        {
            if (_compressedLength < SmallestMember)
            {
                throw new TruncatedGzipException($"the gzip data is truncated: {_compressedLength} bytes, shorter than the smallest complete gzip file ({SmallestMember} bytes)");
            }

            uint crc = Crc32.Final(_crc);
            if (crc != _expectedCrc || (uint)_length != _expectedLength)
            {
                throw new TruncatedGzipException(FormattableString.Invariant(
                    $"the gzip data is truncated: it ends after {_length} decompressed bytes without its trailer (the last 8 bytes do not hold this data's CRC-32 and length); the file was cut off, or it holds several concatenated gzip members, which EdgeAe does not read"));
            }
        }
    }
}

/// <summary>A gzip stream that ends before its trailer, or whose trailer does not match its content.</summary>
internal sealed class TruncatedGzipException(string message) : IOException(message);

/// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as gzip uses it, slicing by 8 bytes.</summary>
internal static class Crc32
{
    public const uint Initial = 0xFFFFFFFFu;

    private static readonly uint[] Table = CreateTable();

    /// <summary>The running CRC state after <paramref name="bytes"/> (start with <see cref="Initial"/>).</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> bytes)
    {
        uint[] t = Table;
        int i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
        {
            uint a = crc ^ BinaryPrimitives.ReadUInt32LittleEndian(bytes[i..]);
            uint b = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i + 4)..]);
            crc = t[(7 * 256) + (a & 0xFF)] ^ t[(6 * 256) + ((a >> 8) & 0xFF)] ^ t[(5 * 256) + ((a >> 16) & 0xFF)] ^ t[(4 * 256) + (a >> 24)]
                ^ t[(3 * 256) + (b & 0xFF)] ^ t[(2 * 256) + ((b >> 8) & 0xFF)] ^ t[256 + ((b >> 16) & 0xFF)] ^ t[b >> 24];
        }

        for (; i < bytes.Length; i++)
        {
            crc = t[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    /// <summary>The CRC-32 value of a finished running state.</summary>
    public static uint Final(uint crc) => ~crc;

    private static uint[] CreateTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        for (int slice = 1; slice < 8; slice++)
        {
            for (int n = 0; n < 256; n++)
            {
                uint previous = table[((slice - 1) * 256) + n];
                table[(slice * 256) + n] = table[previous & 0xFF] ^ (previous >> 8);
            }
        }

        return table;
    }
}
