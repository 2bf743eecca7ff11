using System.Runtime.InteropServices;
using EdgeAe.Compression;
using EdgeAe.Data;

namespace EdgeAe.Fleet;

/// <summary>
/// Turns one MQTT message into a <see cref="SampleRow"/> or a <see cref="DeadLetter"/>: device id from the topic,
/// packet checked and decoded with the model's codec, the decoded sample scored, the flag set against the threshold.
/// Never throws for bad traffic — every failure becomes a dead letter with its reason. Not thread-safe (one model).
/// </summary>
public sealed class PacketProcessor
{
    private readonly PacketCodec _codec;
    private readonly ISampleScorer _scorer;
    private readonly DeviceTopics _topics;
    private readonly float? _threshold;
    private readonly Normalization? _reconstructionUnits;
    private readonly float[] _code;
    private readonly float[] _sample;

    /// <summary>
    /// A processor decoding with <paramref name="codec"/>, scoring with <paramref name="scorer"/>; the flag is
    /// score &gt; <paramref name="threshold"/> (null: no threshold known, flag null). With
    /// <paramref name="storeReconstructionIn"/> each row also carries the reconstruction, in the units that
    /// normalisation undoes (the data's original units).
    /// </summary>
    public PacketProcessor(PacketCodec codec, ISampleScorer scorer, DeviceTopics topics, float? threshold, Normalization? storeReconstructionIn = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(topics);
        if (threshold is { } t && !float.IsFinite(t))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be a finite number.");
        }

        _codec = codec;
        _scorer = scorer;
        _topics = topics;
        _threshold = threshold;
        _reconstructionUnits = storeReconstructionIn;
        _code = new float[codec.Quantizer.CodeSize];
        _sample = new float[codec.Model.Topology.InputSize];
    }

    /// <summary>The codec the packets are checked and decoded with.</summary>
    public PacketCodec Codec => _codec;

    /// <summary>Processes one message received at <paramref name="receivedAtMicros"/> (µs since the Unix epoch, UTC).</summary>
    public (SampleRow? Row, DeadLetter? DeadLetter) Process(string topic, ReadOnlySpan<byte> payload, long receivedAtMicros)
    {
        ArgumentNullException.ThrowIfNull(topic);
        string? device = _topics.DeviceOf(topic);
        if (device is null)
        {
            return (null, Dead(topic, device, payload, receivedAtMicros, DeadLetterReason.UnknownTopic, $"topic '{Shorten(topic)}' names no device under {_topics.Filter} (or an id over {DeviceTopics.MaxDeviceIdLength} characters)"));
        }

        PacketInfo info;
        try
        {
            info = _codec.DecodeCode(payload, _code);
        }
        catch (PacketException e)
        {
            return (null, Dead(topic, device, payload, receivedAtMicros, DeadLetter.ReasonOf(e.Reason), e.Message));
        }

        if (!info.IsSequenced)
        {
            return (null, Dead(topic, device, payload, receivedAtMicros, DeadLetterReason.Unsequenced, "a version-1 packet carries no sequence number; devices publish version-2 (sequenced) packets so that each is stored once"));
        }

        _codec.Model.Decode(_code, _sample);
        float score = _scorer.Score(_sample);
        return (new SampleRow
        {
            Device = device,
            Topic = topic,
            Sequence = info.Sequence,
            ReceivedAtMicros = receivedAtMicros,
            ModelId = info.ModelId,
            Code = MemoryMarshal.AsBytes(_code.AsSpan()).ToArray(),
            Score = score,
            Flag = _threshold is { } threshold ? score > threshold : null,
            Packet = payload.ToArray(),
            Reconstruction = _reconstructionUnits is { } units ? InOriginalUnits(units) : null,
        }, null);
    }

    private static DeadLetter Dead(string topic, string? device, ReadOnlySpan<byte> payload, long receivedAtMicros, DeadLetterReason reason, string detail) => new()
    {
        ReceivedAtMicros = receivedAtMicros,
        Topic = topic,
        Device = device,
        Reason = reason,
        Detail = detail,
        Payload = payload.ToArray(),
    };

    private byte[] InOriginalUnits(Normalization units)
    {
        var values = new float[_sample.Length];
        for (int a = 0; a < values.Length; a++)
        {
            values[a] = units.Kind == NormalizationKind.None ? _sample[a] : (_sample[a] * units.Scale[a]) + units.Offset[a];
        }

        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private static string Shorten(string topic) => topic.Length <= 120 ? topic : topic[..120] + "…";
}
