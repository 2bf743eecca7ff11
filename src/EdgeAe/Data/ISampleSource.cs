namespace EdgeAe.Data;

/// <summary>
/// Samples the trainer reads by index: an in-memory <see cref="Dataset"/> or a memory-mapped <see cref="DataCache"/>.
/// A span returned by the indexer is valid until the next call on the same source.
/// </summary>
public interface ISampleSource
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Floats per sample.</summary>
    int Width { get; }

    /// <summary>Sample <paramref name="index"/>.</summary>
    ReadOnlySpan<float> this[int index] { get; }
}
