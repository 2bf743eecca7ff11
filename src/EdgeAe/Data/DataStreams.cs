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
    /// Returns a stream of the content of <paramref name="stream"/>, decompressed when it starts with
    /// the gzip magic bytes 1F 8B (the name of the file plays no part). <paramref name="stream"/> is left open
    /// when the returned stream is disposed.
    /// </summary>
    public static Stream Decompressed(Stream stream) => Decompressed(stream, out _);

    /// <inheritdoc cref="Decompressed(Stream)"/>
    /// <param name="stream">The raw content.</param>
    /// <param name="compressed">Whether the content was gzip-compressed.</param>
    public static Stream Decompressed(Stream stream, out bool compressed)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            // Load-time path: buffering keeps the magic-byte check simple for pipes and network streams.
            var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            buffer.Position = 0;
            stream = buffer;
        }

        long start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        int read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        compressed = read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        return compressed ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true) : new NonClosingStream(stream);
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
}
