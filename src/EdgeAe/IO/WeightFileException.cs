namespace EdgeAe.IO;

/// <summary>Why a weight file could not be written, read or applied to a model.</summary>
public enum WeightFileErrorReason
{
    /// <summary>The file does not start with the EdgeAe magic number.</summary>
    NotAnEdgeAeFile = 0,

    /// <summary>The file's format version (or a feature it announces) is not read by this EdgeAe.</summary>
    UnsupportedVersion = 1,

    /// <summary>The file describes a different model than the one it is loaded into.</summary>
    TopologyMismatch = 2,

    /// <summary>The file ends before its declared length.</summary>
    Truncated = 3,

    /// <summary>The stored CRC-32 does not match the content.</summary>
    ChecksumMismatch = 4,

    /// <summary>A weight, bias, offset or scale is NaN or infinite.</summary>
    NonFiniteWeight = 5,

    /// <summary>The content is inconsistent (bad codes, lengths, trailing bytes).</summary>
    Malformed = 6,

    /// <summary>The file system failed (missing folder, permissions, full disk, ...).</summary>
    Io = 7,

    /// <summary>An int8 file was loaded into a float32 model, or a float32 file into an int8 model.</summary>
    PrecisionMismatch = 8,
}

/// <summary>A weight file could not be saved, read or loaded; <see cref="Reason"/> says why.</summary>
public sealed class WeightFileException : Exception
{
    /// <summary>Creates an exception for <paramref name="reason"/>.</summary>
    public WeightFileException(WeightFileErrorReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Creates an exception with reason <see cref="WeightFileErrorReason.Malformed"/>.</summary>
    public WeightFileException()
        : this(WeightFileErrorReason.Malformed, "The weight file is malformed.")
    {
    }

    /// <summary>Creates an exception with reason <see cref="WeightFileErrorReason.Malformed"/>.</summary>
    public WeightFileException(string message)
        : this(WeightFileErrorReason.Malformed, message)
    {
    }

    /// <summary>Creates an exception with reason <see cref="WeightFileErrorReason.Io"/> wrapping <paramref name="innerException"/>.</summary>
    public WeightFileException(string message, Exception innerException)
        : this(WeightFileErrorReason.Io, message, innerException)
    {
    }

    /// <summary>Why the operation failed.</summary>
    public WeightFileErrorReason Reason { get; }
}
