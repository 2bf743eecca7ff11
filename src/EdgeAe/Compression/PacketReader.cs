namespace EdgeAe.Compression;

/// <summary>
/// Reads fixed-length packets back to back from a stream (a file of packets, a socket). A stream that ends inside a
/// packet is reported as <see cref="PacketErrorReason.Truncated"/>, never returned as a short packet.
/// </summary>
public sealed class PacketReader
{
    private readonly Stream _stream;

    /// <summary>A reader of <paramref name="packetLength"/>-byte packets from <paramref name="stream"/> (left open).</summary>
    public PacketReader(Stream stream, int packetLength)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(packetLength, PacketFormat.Overhead + 1);
        _stream = stream;
        PacketLength = packetLength;
    }

    /// <summary>Bytes per packet.</summary>
    public int PacketLength { get; }

    /// <summary>Whole packets read so far.</summary>
    public long PacketsRead { get; private set; }

    /// <summary>Reads the next packet into <paramref name="packet"/> (PacketLength bytes); false at the end of the stream.</summary>
    public bool TryRead(Span<byte> packet)
    {
        if (packet.Length != PacketLength)
        {
            throw new ArgumentException($"Expected {PacketLength} bytes in 'packet' but found {packet.Length}.", nameof(packet));
        }

        int read = _stream.ReadAtLeast(packet, PacketLength, throwOnEndOfStream: false);
        if (read == 0)
        {
            return false;
        }

        if (read < PacketLength)
        {
            throw new PacketException(PacketErrorReason.Truncated, $"the stream ends inside packet {PacketsRead}: {read} of {PacketLength} bytes") { PacketIndex = PacketsRead };
        }

        PacketsRead++;
        return true;
    }

    /// <summary>Every remaining packet, each in a new array (checks happen in <see cref="PacketCodec"/>).</summary>
    public IEnumerable<byte[]> ReadAll()
    {
        while (true)
        {
            var packet = new byte[PacketLength];
            if (!TryRead(packet))
            {
                yield break;
            }

            yield return packet;
        }
    }
}
