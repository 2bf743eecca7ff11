namespace EdgeAe.Compression;

/// <summary>What the header of a checked packet says (docs/packet-format.md).</summary>
/// <param name="Version">The format version: 1, 2 for a sequenced packet, 3 for a scored packet.</param>
/// <param name="Bits">Bits per code value: 8 or 16.</param>
/// <param name="ModelId">The model id the packet carries (it matched the codec's).</param>
/// <param name="Sequence">The device's sequence number (versions 2 and 3); 0 for a version-1 packet, which has none.</param>
/// <param name="DeviceScore">
/// The device's anomaly score of its input (version 3, always finite); null for versions 1 and 2, which carry none.
/// </param>
public readonly record struct PacketInfo(int Version, int Bits, ushort ModelId, uint Sequence, float? DeviceScore = null)
{
    /// <summary>True for a version-2 or version-3 packet, which carries the device's <see cref="Sequence"/> number.</summary>
    public bool IsSequenced => Version is PacketFormat.SequencedVersion or PacketFormat.ScoredVersion;
}
