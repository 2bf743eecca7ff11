using EdgeAe.Compression;

namespace EdgeAe.Fleet;

/// <summary>
/// One stored sample: a row of <c>edgeae_samples</c> (docs/fleet.md, "Schema"), unique by (<see cref="Device"/>,
/// <see cref="Sequence"/>).
/// </summary>
public sealed class SampleRow
{
    /// <summary>The device id, from the topic.</summary>
    public required string Device { get; init; }

    /// <summary>The topic the packet arrived on (not a column: it names the device, and dead letters of this row keep it).</summary>
    public string Topic { get; init; } = string.Empty;

    /// <summary>The device's sequence number, from the version-2 packet header.</summary>
    public required long Sequence { get; init; }

    /// <summary>When the server received the message: microseconds since 1970-01-01 UTC.</summary>
    public required long ReceivedAtMicros { get; init; }

    /// <summary>The packet's model id.</summary>
    public required int ModelId { get; init; }

    /// <summary>The dequantised code: CodeSize little-endian float32 values.</summary>
    public required byte[] Code { get; init; }

    /// <summary>The anomaly score of the decoded sample (<see cref="ISampleScorer"/>).</summary>
    public required float Score { get; init; }

    /// <summary>
    /// The device's anomaly score of its input, from a version-3 (scored) packet: the score the threshold is calibrated
    /// for; null for a version-2 packet, which carries none.
    /// </summary>
    public float? DeviceScore { get; init; }

    /// <summary>
    /// Above the threshold: <see cref="DeviceScore"/> when the packet carries one, else <see cref="Score"/>; null when no
    /// threshold is known.
    /// </summary>
    public required bool? Flag { get; init; }

    /// <summary>The packet as received (so it can be decoded again with another model, and redeliveries compared).</summary>
    public required byte[] Packet { get; init; }

    /// <summary>The reconstruction in the data's original units (InputSize little-endian float32), when stored; else null.</summary>
    public byte[]? Reconstruction { get; init; }
}

/// <summary>Why a message went to the dead-letter table instead of the samples table.</summary>
public enum DeadLetterReason
{
    /// <summary>Fewer bytes than a packet of this model (<see cref="PacketErrorReason.Truncated"/>).</summary>
    Truncated,

    /// <summary>More bytes than a packet of this model (<see cref="PacketErrorReason.TooLong"/>).</summary>
    TooLong,

    /// <summary>The CRC-8 check byte does not match (<see cref="PacketErrorReason.ChecksumMismatch"/>).</summary>
    ChecksumMismatch,

    /// <summary>A packet format version this EdgeAe does not read (<see cref="PacketErrorReason.UnsupportedVersion"/>).</summary>
    UnsupportedVersion,

    /// <summary>Bits per code value differ from the model's (<see cref="PacketErrorReason.BitsMismatch"/>).</summary>
    BitsMismatch,

    /// <summary>The packet was made by another model (<see cref="PacketErrorReason.ModelMismatch"/>).</summary>
    ModelMismatch,

    /// <summary>A valid version-1 packet: it has no sequence number, so it cannot be stored exactly once.</summary>
    Unsequenced,

    /// <summary>The device sent another packet under a sequence number already stored (a reset counter): the first row is kept.</summary>
    SequenceReused,

    /// <summary>The topic does not name a device under the filter (or the id is longer than <see cref="DeviceTopics.MaxDeviceIdLength"/>).</summary>
    UnknownTopic,

    /// <summary>A version-3 packet whose device score is NaN or infinite (<see cref="PacketErrorReason.InvalidScore"/>).</summary>
    InvalidScore,
}

/// <summary>A message that could not be stored as a sample: a row of <c>edgeae_dead_letters</c> with the raw bytes.</summary>
public sealed record DeadLetter
{
    /// <summary>When the server received the message: microseconds since 1970-01-01 UTC.</summary>
    public required long ReceivedAtMicros { get; init; }

    /// <summary>The topic it arrived on.</summary>
    public required string Topic { get; init; }

    /// <summary>The device id from the topic, or null when the topic names none.</summary>
    public string? Device { get; init; }

    /// <summary>Why it was not stored.</summary>
    public required DeadLetterReason Reason { get; init; }

    /// <summary>The exact problem, in one line (e.g. the codec's message).</summary>
    public required string Detail { get; init; }

    /// <summary>The message payload as received.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>The dead-letter reason of a packet rejection.</summary>
    public static DeadLetterReason ReasonOf(PacketErrorReason reason) => reason switch
    {
        PacketErrorReason.Truncated => DeadLetterReason.Truncated,
        PacketErrorReason.TooLong => DeadLetterReason.TooLong,
        PacketErrorReason.ChecksumMismatch => DeadLetterReason.ChecksumMismatch,
        PacketErrorReason.UnsupportedVersion => DeadLetterReason.UnsupportedVersion,
        PacketErrorReason.BitsMismatch => DeadLetterReason.BitsMismatch,
        PacketErrorReason.ModelMismatch => DeadLetterReason.ModelMismatch,
        PacketErrorReason.InvalidScore => DeadLetterReason.InvalidScore,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Unknown packet error reason."),
    };
}
