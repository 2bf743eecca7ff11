namespace EdgeAe.Compression;

/// <summary>
/// Reads packets back to back from a stream (a file of packets, a socket): fixed-length packets, or packets framed by
/// their header's version (version 1, 2 or 3 of one model). A stream that ends inside a packet is reported as
/// <see cref="PacketErrorReason.Truncated"/>, never returned as a short packet.
/// </summary>
public sealed class PacketReader
{
    private readonly Stream _stream;
    private readonly int _sequencedLength;
    private readonly Func<byte, int>? _frameLength;
    private int _lastLength;

    /// <summary>A reader of <paramref name="packetLength"/>-byte packets from <paramref name="stream"/> (left open).</summary>
    public PacketReader(Stream stream, int packetLength)
        : this(stream, packetLength, 0)
    {
    }

    /// <summary>
    /// A reader that frames each packet by its header: <paramref name="packetLength"/> bytes for a version-1 header,
    /// <paramref name="sequencedPacketLength"/> for a version-2 header, 4 bytes more for a version-3 (scored) header, and
    /// the previous packet's length for any other header (the codec's checks then report that packet).
    /// </summary>
    public PacketReader(Stream stream, int packetLength, int sequencedPacketLength)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(packetLength, PacketFormat.Overhead + 1);
        if (sequencedPacketLength != 0 && sequencedPacketLength != packetLength + (PacketFormat.SequencedOverhead - PacketFormat.Overhead))
        {
            throw new ArgumentOutOfRangeException(nameof(sequencedPacketLength), sequencedPacketLength, $"A sequenced packet is {PacketFormat.SequencedOverhead - PacketFormat.Overhead} bytes longer than a version-1 packet of the same model ({packetLength}).");
        }

        _stream = stream;
        PacketLength = packetLength;
        _sequencedLength = sequencedPacketLength;
        _lastLength = packetLength;
    }

    /// <summary>
    /// A reader that frames each packet by <paramref name="frameLength"/> of its header byte (0: the previous packet's
    /// length), for a codec that frames by the header's bits as well as its version; the buffer given to
    /// <see cref="TryRead(Span{byte}, out int)"/> must hold the longest frame.
    /// </summary>
    internal PacketReader(Stream stream, int packetLength, int sequencedPacketLength, Func<byte, int> frameLength)
        : this(stream, packetLength, sequencedPacketLength)
    {
        _frameLength = frameLength;
    }

    /// <summary>Bytes per (version-1) packet.</summary>
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

    /// <summary>
    /// Reads the next packet, framed by its header, into the start of <paramref name="buffer"/> (at least the sequenced
    /// length; the scored length, 4 bytes more, to read version-3 packets) and gives its <paramref name="length"/>; false
    /// at the end of the stream. Needs the framing constructor.
    /// </summary>
    public bool TryRead(Span<byte> buffer, out int length)
    {
        if (_sequencedLength == 0)
        {
            throw new InvalidOperationException("This reader reads fixed-length packets: construct it with the sequenced packet length to frame packets by their header.");
        }

        if (buffer.Length < _sequencedLength)
        {
            throw new ArgumentException($"Expected at least {_sequencedLength} bytes in 'buffer' but found {buffer.Length}.", nameof(buffer));
        }

        length = 0;
        int read = _stream.ReadAtLeast(buffer[..1], 1, throwOnEndOfStream: false);
        if (read == 0)
        {
            return false;
        }

        length = _frameLength?.Invoke(buffer[0]) is int framed and > 0 ? framed : PacketFormat.VersionOf(buffer[0]) switch
        {
            PacketFormat.Version => PacketLength,
            PacketFormat.SequencedVersion => _sequencedLength,
            PacketFormat.ScoredVersion => _sequencedLength + (PacketFormat.ScoredOverhead - PacketFormat.SequencedOverhead),
            _ => _lastLength,
        };
        if (length > buffer.Length)
        {
            throw new ArgumentException($"Expected at least {length} bytes in 'buffer' but found {buffer.Length}.", nameof(buffer));
        }

        read += _stream.ReadAtLeast(buffer[1..length], length - 1, throwOnEndOfStream: false);
        if (read < length)
        {
            throw new PacketException(PacketErrorReason.Truncated, $"the stream ends inside packet {PacketsRead}: {read} of {length} bytes") { PacketIndex = PacketsRead };
        }

        _lastLength = length;
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
