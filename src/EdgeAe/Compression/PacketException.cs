namespace EdgeAe.Compression;

/// <summary>Why a packet was rejected.</summary>
public enum PacketErrorReason
{
    /// <summary>Fewer bytes than a packet of this model (a cut-off packet or the tail of a stream).</summary>
    Truncated,

    /// <summary>More bytes than one packet of this model.</summary>
    TooLong,

    /// <summary>The CRC-8 check byte does not match: corrupted bytes, or not an EdgeAe packet at all.</summary>
    ChecksumMismatch,

    /// <summary>The header names a packet format version this EdgeAe does not read.</summary>
    UnsupportedVersion,

    /// <summary>The header's bits per code value differ from this codec's.</summary>
    BitsMismatch,

    /// <summary>The packet was made by another model (its model id differs from this codec's).</summary>
    ModelMismatch,

    /// <summary>A version-3 packet whose device score is not a finite number (NaN or infinite): no EdgeAe writer makes one.</summary>
    InvalidScore,
}

/// <summary>A packet that cannot be decoded with this codec; <see cref="Reason"/> says why, the message says exactly what.</summary>
public sealed class PacketException : Exception
{
    /// <summary>A rejection for <paramref name="reason"/>, with the message saying what exactly is wrong.</summary>
    public PacketException(PacketErrorReason reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>A rejection without details.</summary>
    public PacketException()
    {
    }

    /// <summary>A rejection with a message.</summary>
    public PacketException(string message)
        : base(message)
    {
    }

    /// <summary>A rejection with a message and its cause.</summary>
    public PacketException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What is wrong with the packet.</summary>
    public PacketErrorReason Reason { get; }

    /// <summary>Index of the packet in a stream, or −1 for a single packet.</summary>
    public long PacketIndex { get; init; } = -1;
}
