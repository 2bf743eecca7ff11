using System.Runtime.InteropServices;
using EdgeAe.Compression;
using EdgeAe.Fleet.Tests.Fixtures;

namespace EdgeAe.Fleet.Tests;

/// <summary>One message → one row or one dead letter with its reason; nothing thrown for bad traffic.</summary>
public sealed class ProcessorTests(TrainedDigits digits) : IClassFixture<TrainedDigits>
{
    private static readonly DeviceTopics Topics = DeviceTopics.Parse(DeviceTopics.DefaultFilter);

    [Fact]
    public void A_sequenced_packet_becomes_a_row_with_its_code_score_and_flag()
    {
        (FleetDigitsAe model, PacketCodec codec) = digits.Load();
        var processor = new PacketProcessor(codec, new ModelScorer(model), Topics, threshold: 0.25f, storeReconstructionIn: EdgeAe.Data.Normalization.None);
        var reference = new FleetDigitsAe();
        reference.Parameters.Clear();
        model.Parameters.CopyTo(reference.Parameters);
        var code = new float[16];
        var decoded = new float[64];
        var again = new float[64];
        for (int i = 0; i < 50; i++)
        {
            var packet = new byte[codec.SequencedPacketLength];
            codec.Encode(digits.Data[i], (uint)(1000 + i), packet);
            (SampleRow? row, DeadLetter? dead) = processor.Process("devices/pump-7/ae", packet, 1_700_000_000_000_000 + i);
            Assert.Null(dead);
            Assert.NotNull(row);
            Assert.Equal(("pump-7", 1000L + i, 1_700_000_000_000_000 + i, (int)codec.ModelId), (row.Device, row.Sequence, row.ReceivedAtMicros, row.ModelId));
            Assert.Equal(packet, row.Packet);

            // The code is the packet's dequantised code; the score is the model's mean per-element loss of the decoded sample.
            codec.DecodeCode(packet, code);
            Assert.Equal(code, MemoryMarshal.Cast<byte, float>(row.Code).ToArray());
            reference.Decode(code, decoded);
            float expected = reference.Reconstruct(decoded, again) / 64f;
            Assert.Equal(expected, row.Score);
            Assert.Equal(row.Score > 0.25f, row.Flag);
            Assert.Equal(decoded, MemoryMarshal.Cast<byte, float>(row.Reconstruction).ToArray());
        }

        // Without a threshold the flag is unknown, not false.
        var unflagged = new PacketProcessor(codec, new ModelScorer(model), Topics, threshold: null);
        var one = new byte[codec.SequencedPacketLength];
        codec.Encode(digits.Data[0], 1, one);
        Assert.Null(unflagged.Process("devices/a/ae", one, 0).Row!.Flag);
        Assert.Null(unflagged.Process("devices/a/ae", one, 0).Row!.Reconstruction);
    }

    [Fact]
    public void A_scored_packet_is_flagged_by_the_devices_score_and_a_sequenced_one_by_the_servers()
    {
        (FleetDigitsAe model, PacketCodec codec) = digits.Load();
        const float Threshold = 0.25f;
        var processor = new PacketProcessor(codec, new ModelScorer(model), Topics, Threshold);
        var v2 = new byte[codec.SequencedPacketLength];
        var v3 = new byte[codec.ScoredPacketLength];
        var messages = new List<FleetMessage>();
        int disagree = 0;
        for (int i = 0; i < 100; i++)
        {
            codec.Encode(digits.Data[i], (uint)i, v2);
            codec.Encode(digits.Data[i], (uint)i, v3, out float deviceScore);
            SampleRow sequenced = processor.Process("devices/a/ae", v2, 0).Row!;
            SampleRow scored = processor.Process("devices/b/ae", v3, 0).Row!;
            Assert.Null(sequenced.DeviceScore);
            Assert.Equal(sequenced.Score > Threshold, sequenced.Flag);
            Assert.Equal(sequenced.Score, scored.Score); // the server's score of the decoded sample, as before
            Assert.Equal(model.ScorePortable(digits.Data[i]), scored.DeviceScore);
            Assert.Equal(deviceScore > Threshold, scored.Flag);
            disagree += scored.Score > Threshold != scored.Flag ? 1 : 0;
            messages.Add(new FleetMessage("devices/b/ae", v3.ToArray(), i));
        }

        // The two scores measure different things (docs/fleet.md): the threshold sits between them for some samples.
        Assert.True(disagree > 0, "no sample whose device score and server score fall on different sides of the threshold");

        // The batch path gives the same rows.
        var rows = new List<SampleRow>();
        processor.ProcessBatch(messages, rows, []);
        Assert.Equal(100, rows.Count);
        Assert.All(rows, (row, i) => Assert.Equal((model.ScorePortable(digits.Data[i]), model.ScorePortable(digits.Data[i]) > Threshold), (row.DeviceScore!.Value, row.Flag!.Value)));
    }

    [Fact]
    public void Every_bad_message_becomes_a_dead_letter_with_its_reason_and_bytes()
    {
        (_, PacketCodec codec) = digits.Load();
        var processor = new PacketProcessor(codec, new ModelScorer(codec.Model), Topics, threshold: null);
        var good = new byte[codec.SequencedPacketLength];
        codec.Encode(digits.Data[3], 42, good);
        var v1 = new byte[codec.PacketLength];
        codec.Encode(digits.Data[3], v1);
        var otherModel = new PacketCodec(codec.Model, codec.Quantizer, (ushort)(codec.ModelId ^ 0x0101));
        var foreign = new byte[codec.SequencedPacketLength];
        otherModel.Encode(digits.Data[3], 42, foreign);
        byte[] flipped = (byte[])good.Clone();
        flipped[10] ^= 0x04;
        byte[] future = (byte[])good.Clone();
        future[0] = 0x41;
        future[^1] = PacketFormat.Crc8(future.AsSpan(0, future.Length - 1));
        var scored = new byte[codec.ScoredPacketLength];
        codec.Encode(digits.Data[3], 43, scored, out _);
        byte[] nanScore = (byte[])scored.Clone();
        BitConverter.TryWriteBytes(nanScore.AsSpan(7, 4), float.NaN);
        nanScore[^1] = PacketFormat.Crc8(nanScore.AsSpan(0, nanScore.Length - 1));

        (string Topic, byte[] Payload, DeadLetterReason Reason)[] cases =
        [
            ("devices/d/ae", good[..^5], DeadLetterReason.Truncated),
            ("devices/d/ae", [], DeadLetterReason.Truncated),
            ("devices/d/ae", [.. good, 0], DeadLetterReason.TooLong),
            ("devices/d/ae", flipped, DeadLetterReason.ChecksumMismatch),
            ("devices/d/ae", future, DeadLetterReason.UnsupportedVersion),
            ("devices/d/ae", foreign, DeadLetterReason.ModelMismatch),
            ("devices/d/ae", v1, DeadLetterReason.Unsequenced),
            ("devices/d/ae", scored[..^1], DeadLetterReason.Truncated),
            ("devices/d/ae", nanScore, DeadLetterReason.InvalidScore),
            ("devices/d/extra/ae", good, DeadLetterReason.UnknownTopic),
        ];
        foreach ((string topic, byte[] payload, DeadLetterReason reason) in cases)
        {
            (SampleRow? row, DeadLetter? dead) = processor.Process(topic, payload, 5);
            Assert.Null(row);
            Assert.NotNull(dead);
            Assert.Equal(reason, dead.Reason);
            Assert.Equal(payload, dead.Payload);
            Assert.Equal(topic, dead.Topic);
            Assert.Equal(reason == DeadLetterReason.UnknownTopic ? null : "d", dead.Device);
            Assert.False(string.IsNullOrWhiteSpace(dead.Detail));
        }

        // 16-bit packets to an 8-bit model: the header names other bits.
        var sixteen = new PacketCodec(codec.Model, CodeQuantizer.ForActivation(EdgeAe.ActivationKind.Sigmoid, 16, 16)!, codec.ModelId);
        var wide = new byte[sixteen.SequencedPacketLength];
        sixteen.Encode(digits.Data[3], 1, wide);
        byte[] framed = (byte[])good.Clone();
        framed[0] = 0x22;
        framed[^1] = PacketFormat.Crc8(framed.AsSpan(0, framed.Length - 1));
        Assert.Equal(DeadLetterReason.BitsMismatch, processor.Process("devices/d/ae", framed, 0).DeadLetter!.Reason);
        Assert.Equal(DeadLetterReason.BitsMismatch, processor.Process("devices/d/ae", wide, 0).DeadLetter!.Reason);
    }

    [Fact]
    public void A_batch_gives_the_rows_and_dead_letters_of_one_message_at_a_time_in_order()
    {
        (FleetDigitsAe model, PacketCodec codec) = digits.Load();
        var units = new EdgeAe.Data.Normalization(EdgeAe.Data.NormalizationKind.Scale, new float[64], Enumerable.Repeat(16f, 64).ToArray());
        var single = new PacketProcessor(codec, new ModelScorer(model), Topics, threshold: 0.2f, storeReconstructionIn: units);
        var batched = new PacketProcessor(codec, new ModelScorer(model), Topics, threshold: 0.2f, storeReconstructionIn: units);

        // More good packets than one model batch (so several flushes), bad ones in between, a bad one last.
        var messages = new List<FleetMessage>();
        int max = FleetDigitsAe.MaxBatchSize;
        for (int i = 0; i < (2 * max) + 9; i++)
        {
            var packet = new byte[codec.SequencedPacketLength];
            codec.Encode(digits.Data[i % digits.Data.Count], (uint)i, packet);
            messages.Add(new FleetMessage($"devices/d{i % 7}/ae", packet, 1_000 + i));
            if (i % 11 == 3)
            {
                messages.Add(new FleetMessage("devices/d/ae", packet[..^2], 2_000 + i));
            }

            if (i % 17 == 5)
            {
                messages.Add(new FleetMessage("devices/a/b/ae", packet, 3_000 + i));
            }
        }

        messages.Add(new FleetMessage("devices/d/ae", new byte[3], 9));

        var expectedRows = new List<SampleRow>();
        var expectedDead = new List<DeadLetter>();
        foreach (FleetMessage m in messages)
        {
            (SampleRow? row, DeadLetter? dead) = single.Process(m.Topic, m.Payload.Span, m.ReceivedAtMicros);
            if (row is not null)
            {
                expectedRows.Add(row);
            }
            else
            {
                expectedDead.Add(dead!);
            }
        }

        var rows = new List<SampleRow>();
        var deadLetters = new List<DeadLetter>();
        batched.ProcessBatch(messages, rows, deadLetters);
        Assert.True(expectedRows.Count > 2 * max);
        Assert.Equal(expectedRows.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            SampleRow e = expectedRows[i], a = rows[i];
            Assert.Equal((e.Device, e.Topic, e.Sequence, e.ReceivedAtMicros, e.ModelId, e.Flag), (a.Device, a.Topic, a.Sequence, a.ReceivedAtMicros, a.ModelId, a.Flag));
            Assert.Equal(BitConverter.SingleToInt32Bits(e.Score), BitConverter.SingleToInt32Bits(a.Score));
            Assert.Equal(e.Code, a.Code);
            Assert.Equal(e.Packet, a.Packet);
            Assert.Equal(e.Reconstruction, a.Reconstruction);
        }

        Assert.Equal(expectedDead.Count, deadLetters.Count);
        for (int i = 0; i < deadLetters.Count; i++)
        {
            DeadLetter e = expectedDead[i], a = deadLetters[i];
            Assert.Equal((e.Topic, e.Device, e.Reason, e.Detail, e.ReceivedAtMicros), (a.Topic, a.Device, a.Reason, a.Detail, a.ReceivedAtMicros));
            Assert.Equal(e.Payload, a.Payload);
        }
    }
}
