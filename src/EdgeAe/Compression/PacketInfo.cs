namespace EdgeAe.Compression;

/// <summary>What the header of a checked packet says (docs/packet-format.md).</summary>
/// <param name="Version">The format version: 1, or 2 for a sequenced packet.</param>
/// <param name="Bits">Bits per code value: 8 or 16.</param>
/// <param name="ModelId">The model id the packet carries (it matched the codec's).</param>
/// <param name="Sequence">The device's sequence number (version 2); 0 for a version-1 packet, which has none.</param>
public readonly record struct PacketInfo(int Version, int Bits, ushort ModelId, uint Sequence)
{
    /// <summary>True for a version-2 packet, which carries the device's <see cref="Sequence"/> number.</summary>
    public bool IsSequenced => Version == PacketFormat.SequencedVersion;
}
