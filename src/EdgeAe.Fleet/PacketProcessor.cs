using System.Runtime.InteropServices;
using EdgeAe.Compression;
using EdgeAe.Data;

namespace EdgeAe.Fleet;

/// <summary>
/// Turns one MQTT message into a <see cref="SampleRow"/> or a <see cref="DeadLetter"/>: device id from the topic,
/// packet checked and decoded with the model's codec, the decoded sample scored, the flag set against the threshold —
/// by the device's score of its input when the packet carries one (version 3), else by the decoded sample's score.
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

    // ProcessBatch: up to one model batch of good packets waiting to be decoded and scored together.
    private readonly float[] _codes;
    private readonly float[] _samples;
    private readonly float[] _scores;
    private readonly Pending[] _pending;
    private int _pendingCount;

    /// <summary>
    /// A processor decoding with <paramref name="codec"/>, scoring with <paramref name="scorer"/>; the flag is
    /// device score &gt; <paramref name="threshold"/> for a packet that carries the device's score (version 3), else
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
        int block = codec.Model.Topology.MaxBatchSize;
        _codes = new float[block * _code.Length];
        _samples = new float[block * _sample.Length];
        _scores = new float[block];
        _pending = new Pending[block];
    }

    /// <summary>The codec the packets are checked and decoded with.</summary>
    public PacketCodec Codec => _codec;

    /// <summary>Processes one message received at <paramref name="receivedAtMicros"/> (µs since the Unix epoch, UTC).</summary>
    public (SampleRow? Row, DeadLetter? DeadLetter) Process(string topic, ReadOnlySpan<byte> payload, long receivedAtMicros)
    {
        ArgumentNullException.ThrowIfNull(topic);
        DeadLetter? dead = Check(topic, payload, receivedAtMicros, _code, out string? device, out PacketInfo info);
        if (dead is not null)
        {
            return (null, dead);
        }

        _codec.Model.Decode(_code, _sample);
        float score = _scorer.Score(_sample);
        return (Row(device!, topic, info, payload, receivedAtMicros, _code, _sample, score), null);
    }

    /// <summary>
    /// Processes <paramref name="messages"/> in order: the rows and dead letters <see cref="Process"/> gives each, appended
    /// to <paramref name="rows"/> and <paramref name="deadLetters"/> in the messages' order. The good packets are decoded
    /// and scored a model batch at a time (<see cref="IAutoencoder.DecodeBatch"/>, <see cref="ISampleScorer.ScoreBatch"/>),
    /// which gives the same floats as one at a time, in 0.61–0.70 of the model's time for 784 → 64 → 784
    /// (docs/BENCHMARKS.md, ServerScoring).
    /// </summary>
    public void ProcessBatch(IReadOnlyList<FleetMessage> messages, List<SampleRow> rows, List<DeadLetter> deadLetters)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(deadLetters);
        int codeSize = _code.Length;
        _pendingCount = 0;
        try
        {
            for (int i = 0; i < messages.Count; i++)
            {
                FleetMessage message = messages[i];
                ArgumentNullException.ThrowIfNull(message.Topic, nameof(messages));
                Span<float> code = _codes.AsSpan(_pendingCount * codeSize, codeSize);
                DeadLetter? dead = Check(message.Topic, message.Payload.Span, message.ReceivedAtMicros, code, out string? device, out PacketInfo info);
                if (dead is not null)
                {
                    deadLetters.Add(dead);
                    continue;
                }

                _pending[_pendingCount++] = new Pending(message, device!, info);
                if (_pendingCount == _pending.Length)
                {
                    Flush(rows);
                }
            }

            if (_pendingCount > 0)
            {
                Flush(rows);
            }
        }
        finally
        {
            Array.Clear(_pending, 0, _pending.Length); // no payloads kept alive between batches
            _pendingCount = 0;
        }
    }

    /// <summary>The pending packets' samples and scores, then their rows.</summary>
    private void Flush(List<SampleRow> rows)
    {
        int n = _pendingCount, codeSize = _code.Length, width = _sample.Length;
        Span<float> samples = _samples.AsSpan(0, n * width);
        _codec.Model.DecodeBatch(_codes.AsSpan(0, n * codeSize), samples);
        _scorer.ScoreBatch(samples, _scores.AsSpan(0, n));
        for (int k = 0; k < n; k++)
        {
            Pending p = _pending[k];
            rows.Add(Row(p.Device, p.Message.Topic, p.Info, p.Message.Payload.Span, p.Message.ReceivedAtMicros,
                _codes.AsSpan(k * codeSize, codeSize), samples.Slice(k * width, width), _scores[k]));
        }

        _pendingCount = 0;
    }

    /// <summary>The device and packet checks; the dequantised code goes to <paramref name="code"/>. Null when the packet is good.</summary>
    private DeadLetter? Check(string topic, ReadOnlySpan<byte> payload, long receivedAtMicros, Span<float> code, out string? device, out PacketInfo info)
    {
        info = default;
        device = _topics.DeviceOf(topic);
        if (device is null)
        {
            return Dead(topic, device, payload, receivedAtMicros, DeadLetterReason.UnknownTopic, $"topic '{Shorten(topic)}' names no device under {_topics.Filter} (or an id over {DeviceTopics.MaxDeviceIdLength} characters)");
        }

        try
        {
            info = _codec.DecodeCode(payload, code);
        }
        catch (PacketException e)
        {
            return Dead(topic, device, payload, receivedAtMicros, DeadLetter.ReasonOf(e.Reason), e.Message);
        }

        if (!info.IsSequenced)
        {
            return Dead(topic, device, payload, receivedAtMicros, DeadLetterReason.Unsequenced, "a version-1 packet carries no sequence number; devices publish version-2 (sequenced) or version-3 (scored) packets so that each is stored once");
        }

        return null;
    }

    private SampleRow Row(string device, string topic, PacketInfo info, ReadOnlySpan<byte> payload, long receivedAtMicros, ReadOnlySpan<float> code, ReadOnlySpan<float> sample, float score) => new()
    {
        Device = device,
        Topic = topic,
        Sequence = info.Sequence,
        ReceivedAtMicros = receivedAtMicros,
        ModelId = info.ModelId,
        Code = MemoryMarshal.AsBytes(code).ToArray(),
        Score = score,
        DeviceScore = info.DeviceScore,

        // The threshold is calibrated on scores of inputs (edgeae calibrate): the device's score is that quantity.
        Flag = _threshold is { } threshold ? (info.DeviceScore ?? score) > threshold : null,
        Packet = payload.ToArray(),
        Reconstruction = _reconstructionUnits is { } units ? InOriginalUnits(units, sample) : null,
    };

    private static DeadLetter Dead(string topic, string? device, ReadOnlySpan<byte> payload, long receivedAtMicros, DeadLetterReason reason, string detail) => new()
    {
        ReceivedAtMicros = receivedAtMicros,
        Topic = topic,
        Device = device,
        Reason = reason,
        Detail = detail,
        Payload = payload.ToArray(),
    };

    private static byte[] InOriginalUnits(Normalization units, ReadOnlySpan<float> sample)
    {
        var values = new float[sample.Length];
        for (int a = 0; a < values.Length; a++)
        {
            values[a] = units.Kind == NormalizationKind.None ? sample[a] : (sample[a] * units.Scale[a]) + units.Offset[a];
        }

        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private static string Shorten(string topic) => topic.Length <= 120 ? topic : topic[..120] + "…";

    private readonly record struct Pending(FleetMessage Message, string Device, PacketInfo Info);
}

/// <summary>One received MQTT message for <see cref="PacketProcessor.ProcessBatch"/>.</summary>
/// <param name="Topic">The topic it arrived on (names the device).</param>
/// <param name="Payload">The packet.</param>
/// <param name="ReceivedAtMicros">When it was received: microseconds since the Unix epoch, UTC.</param>
public readonly record struct FleetMessage(string Topic, ReadOnlyMemory<byte> Payload, long ReceivedAtMicros);
