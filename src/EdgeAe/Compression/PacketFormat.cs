namespace EdgeAe.Compression;

/// <summary>
/// The packet layout, version 1 (docs/packet-format.md): one header byte (version in the high nibble, bits code
/// in the low nibble), the u16 little-endian model id, the packed code values, and a CRC-8 check byte over all
/// bytes before it. Overhead: 4 bytes per packet, whatever the code size.
/// </summary>
public static class PacketFormat
{
    /// <summary>The packet format version.</summary>
    public const int Version = 1;

    /// <summary>Bytes before the code values: header and model id.</summary>
    public const int HeaderLength = 3;

    /// <summary>Bytes of framing per packet: header, model id and check byte.</summary>
    public const int Overhead = HeaderLength + 1;

    /// <summary>The header byte of a version-1 packet with <paramref name="bits"/> (8 or 16) per code value: 0x11 or 0x12.</summary>
    public static byte HeaderByte(int bits) => (byte)((Version << 4) | (bits == 16 ? 2 : 1));

    /// <summary>The length of a packet of <paramref name="codeSize"/> values at <paramref name="bits"/> bits.</summary>
    public static int PacketLength(int codeSize, int bits) => Overhead + (codeSize * (bits / 8));

    /// <summary>
    /// The 16-bit model id of a weight file: its CRC-32 folded, <c>(crc ^ (crc &gt;&gt; 16)) &amp; 0xFFFF</c>. The CRC-32
    /// covers topology, parameters, normalisation and code ranges, so any retrained or changed model gets a new id
    /// (two different files share an id with probability 1/65,536).
    /// </summary>
    public static ushort ModelId(uint weightFileCrc32) => (ushort)(weightFileCrc32 ^ (weightFileCrc32 >> 16));

    /// <summary>CRC-8/SMBUS: polynomial x⁸ + x² + x + 1 (0x07), initial value 0, no reflection, no final XOR (check value of "123456789": 0xF4).</summary>
    public static byte Crc8(ReadOnlySpan<byte> bytes)
    {
        int crc = 0;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;
            }
        }

        return (byte)crc;
    }
}
