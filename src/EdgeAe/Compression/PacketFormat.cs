using System.Buffers.Binary;

namespace EdgeAe.Compression;

/// <summary>
/// The packet layouts (docs/packet-format.md). Version 1: one header byte (version in the high nibble, bits code in
/// the low nibble), the u16 little-endian model id, the packed code values, and a CRC-8 check byte over all bytes
/// before it — 4 bytes of overhead. Version 2 (a <em>sequenced</em> packet, for devices that publish over a transport
/// that may redeliver, such as MQTT at QoS 1) adds the device's u32 little-endian sequence number after the model id
/// — 8 bytes of overhead. Version 3 (a <em>scored</em> packet) adds, after the sequence number, the device's anomaly
/// score of its input as a float32 little-endian — 12 bytes of overhead. All three are read everywhere; the version in
/// the header decides the length.
/// </summary>
public static class PacketFormat
{
    /// <summary>Format version 1: header, model id, code, check byte.</summary>
    public const int Version = 1;

    /// <summary>Format version 2: header, model id, the device's sequence number, code, check byte.</summary>
    public const int SequencedVersion = 2;

    /// <summary>Format version 3: header, model id, sequence number, the device's anomaly score, code, check byte.</summary>
    public const int ScoredVersion = 3;

    /// <summary>The newest format version this EdgeAe reads and writes; every version from 1 to it is read.</summary>
    public const int NewestVersion = ScoredVersion;

    /// <summary>Bytes before the code values of a version-1 packet: header and model id.</summary>
    public const int HeaderLength = 3;

    /// <summary>Bytes of framing per version-1 packet: header, model id and check byte.</summary>
    public const int Overhead = HeaderLength + 1;

    /// <summary>Bytes before the code values of a version-2 packet: header, model id and sequence number.</summary>
    public const int SequencedHeaderLength = HeaderLength + 4;

    /// <summary>Bytes of framing per version-2 packet: header, model id, sequence number and check byte.</summary>
    public const int SequencedOverhead = SequencedHeaderLength + 1;

    /// <summary>Bytes before the code values of a version-3 packet: header, model id, sequence number and score.</summary>
    public const int ScoredHeaderLength = SequencedHeaderLength + 4;

    /// <summary>Bytes of framing per version-3 packet: header, model id, sequence number, score and check byte.</summary>
    public const int ScoredOverhead = ScoredHeaderLength + 1;

    /// <summary>The header byte of a version-1 packet with <paramref name="bits"/> (8 or 16) per code value: 0x11 or 0x12.</summary>
    public static byte HeaderByte(int bits) => HeaderByte(bits, Version);

    /// <summary>The header byte of a packet of <paramref name="version"/> (1, 2 or 3) with <paramref name="bits"/> per code value: 0x11, 0x12, 0x21, 0x22, 0x31 or 0x32.</summary>
    public static byte HeaderByte(int bits, int version) => (byte)((version << 4) | (bits == 16 ? 2 : 1));

    /// <summary>The length of a version-1 packet of <paramref name="codeSize"/> values at <paramref name="bits"/> bits.</summary>
    public static int PacketLength(int codeSize, int bits) => Overhead + (codeSize * (bits / 8));

    /// <summary>The length of a packet of <paramref name="version"/> (1, 2 or 3) with <paramref name="codeSize"/> values at <paramref name="bits"/> bits.</summary>
    public static int PacketLength(int codeSize, int bits, int version) => OverheadOf(version) + (codeSize * (bits / 8));

    /// <summary>Bytes before the code values in a packet of <paramref name="version"/>: 3 (version 1), 7 (version 2) or 11 (version 3).</summary>
    public static int HeaderLengthOf(int version) => version switch
    {
        Version => HeaderLength,
        SequencedVersion => SequencedHeaderLength,
        ScoredVersion => ScoredHeaderLength,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "Packet format versions are 1, 2 and 3."),
    };

    /// <summary>Bytes of framing in a packet of <paramref name="version"/>: 4 (version 1), 8 (version 2) or 12 (version 3).</summary>
    public static int OverheadOf(int version) => HeaderLengthOf(version) + 1;

    /// <summary>The format version a header byte names (its high nibble); only 1, 2 and 3 are readable.</summary>
    public static int VersionOf(byte header) => header >> 4;

    /// <summary>True for a version this EdgeAe reads (1, 2 or 3).</summary>
    public static bool IsKnownVersion(int version) => version is Version or SequencedVersion or ScoredVersion;

    /// <summary>The sequence number of a version-2 or version-3 packet (bytes 3–6, little-endian); the caller has checked the packet.</summary>
    public static uint SequenceOf(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadUInt32LittleEndian(packet.Slice(HeaderLength, 4));

    /// <summary>The device's anomaly score in a version-3 packet (bytes 7–10, IEEE-754 float32 little-endian); the caller has checked the packet.</summary>
    public static float DeviceScoreOf(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadSingleLittleEndian(packet.Slice(SequencedHeaderLength, 4));

    /// <summary>
    /// Gives an already written version-2 or version-3 packet another sequence number and recomputes its check byte: the
    /// same bytes a device writes when it encodes the same input with that sequence number (neither the code nor the
    /// score depends on it).
    /// </summary>
    public static void Resequence(Span<byte> packet, uint sequence)
    {
        int version = packet.IsEmpty ? 0 : VersionOf(packet[0]);
        if (version is not (SequencedVersion or ScoredVersion) || packet.Length < OverheadOf(version))
        {
            throw new ArgumentException("Expected a version-2 (sequenced) or version-3 (scored) packet.", nameof(packet));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(packet.Slice(HeaderLength, 4), sequence);
        packet[^1] = Crc8(packet[..^1]);
    }

    /// <summary>
    /// The 16-bit model id of a weight file: its CRC-32 folded, <c>(crc ^ (crc &gt;&gt; 16)) &amp; 0xFFFF</c>. The CRC-32
    /// covers topology, parameters, normalisation and code ranges, so any retrained or changed model gets a new id
    /// (two different files share an id with probability 1/65,536).
    /// </summary>
    public static ushort ModelId(uint weightFileCrc32) => (ushort)(weightFileCrc32 ^ (weightFileCrc32 >> 16));

    /// <summary>CRC-8/SMBUS: polynomial x⁸ + x² + x + 1 (0x07), initial value 0, no reflection, no final XOR (check value of "123456789": 0xF4).</summary>
    public static byte Crc8(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> table = Crc8Table;
        int crc = 0;
        foreach (byte b in bytes)
        {
            crc = table[crc ^ b];
        }

        return (byte)crc;
    }

    /// <summary>The CRC-8 of each byte value, one table step per byte instead of eight shifts (the firmware flavour shifts: same result).</summary>
    private static ReadOnlySpan<byte> Crc8Table => s_crc8Table;

    private static readonly byte[] s_crc8Table = BuildCrc8Table();

    private static byte[] BuildCrc8Table()
    {
        var table = new byte[256];
        for (int value = 0; value < 256; value++)
        {
            int crc = value;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;
            }

            table[value] = (byte)crc;
        }

        return table;
    }
}
