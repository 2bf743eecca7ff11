using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Tests.Data;
using EdgeAe.Tests.Models;
using EdgeAe.Training;

namespace EdgeAe.Tests.Compression;

/// <summary>The packet codec on the desktop: quantisation bound, round trips, rejections, streams, weight-file ranges.</summary>
public sealed class CodecTests
{
    private static readonly Lazy<(CancerAe Model, Dataset Train, Dataset Test)> s_cancer = new(() =>
    {
        (Dataset train, Dataset test, _) = RdData.BreastCancer();
        var model = new CancerAe();
        new Trainer<CancerAe>(model, RateDistortionBenchmark.Adam with { Epochs = 60, BatchSize = 16, LearningRate = 3e-3f }).Fit(train);
        return (model, train, test);
    });

    [Fact]
    public void Crc8_is_CRC_8_SMBUS()
        => Assert.Equal(0xF4, PacketFormat.Crc8("123456789"u8));

    [Fact]
    public void The_declared_codec_constants_and_quantiser_are_generated()
    {
        Assert.Equal(8, CodecDigitsAe.CodeBits);
        Assert.Equal(4 + 16, CodecDigitsAe.PacketLength);
        Assert.Equal(8, CodecDigitsAe.CodeQuantizer.Bits);
        Assert.All(CodecDigitsAe.CodeQuantizer.Min.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(CodecDigitsAe.CodeQuantizer.Max.ToArray(), v => Assert.Equal(1f, v));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Round_trip_is_Decode_of_the_dequantised_code_and_each_code_value_is_within_the_bound(int bits)
    {
        (CancerAe model, Dataset train, Dataset test) = s_cancer.Value;
        var codec = new PacketCodec(model, CodeQuantizer.For(model, train, bits), 0xBEEF);
        var packet = new byte[codec.PacketLength];
        var code = new float[CancerAe.CodeSize];
        var decodedCode = new float[CancerAe.CodeSize];
        var expected = new float[CancerAe.InputSize];
        var reconstruction = new float[CancerAe.InputSize];
        var direct = new float[CancerAe.InputSize];
        double worstOutput = 0;
        int clampedSamples = 0;
        for (int i = 0; i < test.Count; i++)
        {
            codec.Encode(test[i], packet);
            codec.Decode(packet, reconstruction);
            codec.DecodeCode(packet, decodedCode);
            model.EncodePortable(test[i], code); // packets carry the portable (device-identical) code
            bool inside = true;
            for (int j = 0; j < code.Length; j++)
            {
                // |v − v̂| ≤ R / (2·(2^b − 1)) for v inside its range (test values outside the training range are clamped
                // first), plus the float rounding of (v − min)·scale before it is rounded to an integer: at most an ulp of
                // 2^b, i.e. 2^(b−23) of a step (0.4 % of the half-step bound at 16 bits), counted twice for margin.
                float clamped = Math.Clamp(code[j], codec.Quantizer.Min[j], codec.Quantizer.Max[j]);
                inside &= clamped == code[j];
                double bound = codec.Quantizer.MaxError(j) * (1 + 2 * 2 * Math.Pow(2, bits - 23));
                Assert.True(Math.Abs(clamped - decodedCode[j]) <= bound, $"sample {i} value {j}: {code[j]} → {decodedCode[j]}, bound {bound}");
            }

            model.Decode(decodedCode, expected);
            Assert.Equal(expected, reconstruction); // exactly Decode(dequantised code)
            if (!inside)
            {
                clampedSamples++;
                continue; // a test code outside the training range is clamped: Reconstruct differs by more than quantisation
            }

            model.Reconstruct(test[i], direct);
            for (int a = 0; a < direct.Length; a++)
            {
                worstOutput = Math.Max(worstOutput, Math.Abs(direct[a] - reconstruction[a]));
            }
        }

        // Against Reconstruct (float code), samples whose code lies inside the learned range (111 of 114): measured 0.025 (8 bits)
        // and 1.1e-4 (16 bits) in standardised units.
        Assert.True(worstOutput < (bits == 8 ? 0.05 : 2.5e-4), $"largest output difference {worstOutput}, {clampedSamples} of {test.Count} samples clamped");
    }

    [Fact]
    public void Each_bad_packet_is_rejected_with_its_reason()
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x1234);
        Dataset digits = BundledData.Digits();
        var packet = new byte[codec.PacketLength];
        codec.Encode(digits[0], packet);
        var output = new float[64];

        PacketException Reject(byte[] bytes, PacketCodec? other = null)
            => Assert.Throws<PacketException>(() => (other ?? codec).Decode(bytes, output));

        PacketException e = Reject(packet[..^3]);
        Assert.Equal(PacketErrorReason.Truncated, e.Reason);
        Assert.Equal("packet is truncated: 17 bytes, a packet of this model is 20", e.Message);

        Assert.Equal(PacketErrorReason.TooLong, Reject([.. packet, 0]).Reason);
        Assert.Equal(PacketErrorReason.Truncated, Reject([]).Reason);

        byte[] flipped = (byte[])packet.Clone();
        flipped[5] ^= 0x10;
        e = Reject(flipped);
        Assert.Equal(PacketErrorReason.ChecksumMismatch, e.Reason);
        Assert.StartsWith("packet fails its check byte: stored 0x", e.Message);

        var otherModel = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x4321);
        e = Reject(packet, otherModel);
        Assert.Equal(PacketErrorReason.ModelMismatch, e.Reason);
        Assert.Equal("packet was made by model id 0x1234, this codec's model (EdgeAe.Tests.Models.CodecDigitsAe) is 0x4321; decode it with the weight file that encoded it", e.Message);

        // A well-formed packet of a format this EdgeAe does not know (its check byte is right) vs. garbage in the header.
        e = Reject(Repaired(packet, 0, 0x41));
        Assert.Equal(PacketErrorReason.UnsupportedVersion, e.Reason);
        Assert.Equal("packet has format version 4 (header 0x41); this EdgeAe reads versions 1 to 3", e.Message);
        byte[] badHeader = (byte[])packet.Clone();
        badHeader[0] = 0x41;
        Assert.Equal(PacketErrorReason.ChecksumMismatch, Reject(badHeader).Reason);

        // A version-2 header frames 24 bytes: a version-1-length packet that claims version 2 is cut off.
        e = Reject(Repaired(packet, 0, 0x21));
        Assert.Equal(PacketErrorReason.Truncated, e.Reason);
        Assert.Equal("packet is truncated: 20 bytes, a sequenced (version-2) packet of this model is 24", e.Message);

        // A 16-bit codec of the same model reads 36-byte packets: give it a correctly framed 8-bit header on 36 bytes.
        var sixteen = new PacketCodec(model, CodeQuantizer.ForActivation(ActivationKind.Sigmoid, 16, 16)!, 0x1234);
        var wide = new byte[sixteen.PacketLength];
        sixteen.Encode(digits[0], wide);
        e = Reject(Repaired(wide, 0, 0x11), sixteen);
        Assert.Equal(PacketErrorReason.BitsMismatch, e.Reason);
        Assert.Equal("packet carries 8 bits per code value; this codec expects 16", e.Message);
    }

    [Fact]
    public void Real_packets_of_the_other_bits_are_a_bits_mismatch_alone_in_a_stream_and_in_a_batch()
    {
        // compress --bits 16, then decompress without --bits: the packets were reported as corrupted (or too long).
        var model = new CodecDigitsAe();
        var eight = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x1234);
        var sixteen = new PacketCodec(model, CodeQuantizer.ForActivation(ActivationKind.Sigmoid, 16, 16)!, 0x1234);
        Dataset digits = BundledData.Digits();
        var wide = new byte[sixteen.PacketLength];
        sixteen.Encode(digits[0], wide);
        var narrow = new byte[eight.PacketLength];
        eight.Encode(digits[0], narrow);
        var wideSequenced = new byte[sixteen.SequencedPacketLength];
        sixteen.Encode(digits[0], 7, wideSequenced);
        var output = new float[64];

        PacketException e = Assert.Throws<PacketException>(() => eight.Decode(wide, output));
        Assert.Equal(PacketErrorReason.BitsMismatch, e.Reason);
        Assert.Equal("packet carries 16 bits per code value; this codec expects 8", e.Message);
        e = Assert.Throws<PacketException>(() => sixteen.Decode(narrow, output));
        Assert.Equal(PacketErrorReason.BitsMismatch, e.Reason);
        Assert.Equal("packet carries 8 bits per code value; this codec expects 16", e.Message);
        Assert.Equal(PacketErrorReason.BitsMismatch, Assert.Throws<PacketException>(() => eight.Decode(wideSequenced, output)).Reason);

        e = Assert.Throws<PacketException>(() => eight.DecodeStream(new MemoryStream([.. wide, .. wide])).ToList());
        Assert.Equal(PacketErrorReason.BitsMismatch, e.Reason);
        Assert.Equal(0, e.PacketIndex);
        Assert.Equal("packet 0 carries 16 bits per code value; this codec expects 8", e.Message);
        e = Assert.Throws<PacketException>(() => sixteen.DecodeStream(new MemoryStream([.. wide, .. narrow])).ToList());
        Assert.Equal(PacketErrorReason.BitsMismatch, e.Reason);
        Assert.Equal(1, e.PacketIndex);
        e = Assert.Throws<PacketException>(() => eight.DecodeBatch([.. narrow, .. wideSequenced], new float[128]));
        Assert.Equal(PacketErrorReason.BitsMismatch, e.Reason);
        Assert.Equal(1, e.PacketIndex);

        // Packets of the codec's own bits still stream and batch as before.
        Assert.Equal(2, eight.DecodeStream(new MemoryStream([.. narrow, .. narrow])).Count());
        Assert.Equal(2, sixteen.DecodeBatch([.. wide, .. wideSequenced], new float[128]));
    }

    [Fact]
    public void Sequenced_packets_carry_the_sequence_number_and_decode_like_version_1()
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x1234);
        Dataset digits = BundledData.Digits();
        Assert.Equal(8 + 16, codec.SequencedPacketLength);
        Assert.Equal(CodecDigitsAe.SequencedPacketLength, codec.SequencedPacketLength);
        var v1 = new byte[codec.PacketLength];
        var v2 = new byte[codec.SequencedPacketLength];
        var fromV1 = new float[64];
        var fromV2 = new float[64];
        foreach (uint sequence in new uint[] { 0, 1, 0x01020304, uint.MaxValue })
        {
            codec.Encode(digits[5], v1);
            codec.Encode(digits[5], sequence, v2);
            Assert.Equal(0x21, v2[0]);
            Assert.Equal(v1.AsSpan(1, 2).ToArray(), v2.AsSpan(1, 2).ToArray()); // model id
            Assert.Equal(sequence, BitConverter.ToUInt32(v2, 3));             // little-endian on every test machine
            Assert.Equal(v1.AsSpan(3, 16).ToArray(), v2.AsSpan(7, 16).ToArray()); // the same code bytes
            Assert.Equal(PacketFormat.Crc8(v2.AsSpan(0, 23)), v2[23]);

            PacketInfo info1 = codec.Decode(v1, fromV1);
            PacketInfo info2 = codec.Decode(v2, fromV2);
            Assert.Equal(fromV1, fromV2);
            Assert.Equal(new PacketInfo(1, 8, 0x1234, 0), info1);
            Assert.Equal(new PacketInfo(2, 8, 0x1234, sequence), info2);
            Assert.True(info2.IsSequenced);
            Assert.Equal(info2, codec.Check(v2));

            // Resequencing a packet gives the bytes the encoder writes for that number.
            var again = (byte[])v2.Clone();
            PacketFormat.Resequence(again, sequence ^ 0x5555);
            codec.Encode(digits[5], sequence ^ 0x5555, v2);
            Assert.Equal(v2, again);
        }

        PacketException Reject(byte[] bytes) => Assert.Throws<PacketException>(() => codec.Decode(bytes, fromV2));
        Assert.Equal(PacketErrorReason.Truncated, Reject(v2[..^1]).Reason);
        Assert.Equal(PacketErrorReason.TooLong, Reject([.. v2, 0]).Reason);
        byte[] flipped = (byte[])v2.Clone();
        flipped[4] ^= 0x01; // a bit of the sequence number
        Assert.Equal(PacketErrorReason.ChecksumMismatch, Reject(flipped).Reason);
        Assert.Equal(PacketErrorReason.ModelMismatch, Reject(Repaired(v2, 1, 0x35)).Reason);
        Assert.Equal(PacketErrorReason.BitsMismatch, Reject(Repaired(v2, 0, 0x22)).Reason);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Scored_packets_carry_the_portable_score_of_the_input_and_decode_like_version_2(int bits)
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, bits == 8 ? CodecDigitsAe.CodeQuantizer : CodeQuantizer.ForActivation(ActivationKind.Sigmoid, 16, 16)!, 0x1234);
        Dataset digits = BundledData.Digits();
        int payload = 16 * (bits / 8);
        Assert.Equal(12 + payload, codec.ScoredPacketLength);
        Assert.Equal(codec.ScoredPacketLength, codec.PacketLengthOf(3));
        Assert.Equal(codec.ScoredPacketLength, PacketFormat.PacketLength(16, bits, PacketFormat.ScoredVersion));
        var v2 = new byte[codec.SequencedPacketLength];
        var v3 = new byte[codec.ScoredPacketLength];
        var fromV2 = new float[64];
        var fromV3 = new float[64];
        foreach ((int row, uint sequence) in new[] { (0, 0u), (5, 1u), (17, 0x01020304u), (40, uint.MaxValue) })
        {
            codec.Encode(digits[row], sequence, v2);
            codec.Encode(digits[row], sequence, v3, out float score);
            Assert.Equal(BitConverter.SingleToInt32Bits(model.ScorePortable(digits[row])), BitConverter.SingleToInt32Bits(score));
            Assert.Equal(bits == 8 ? 0x31 : 0x32, v3[0]);
            Assert.Equal(v2.AsSpan(1, 6).ToArray(), v3.AsSpan(1, 6).ToArray());           // model id and sequence number
            Assert.Equal(BitConverter.SingleToInt32Bits(score), BitConverter.ToInt32(v3, 7)); // the score, little-endian
            Assert.Equal(v2.AsSpan(7, payload).ToArray(), v3.AsSpan(11, payload).ToArray()); // the same code bytes
            Assert.Equal(PacketFormat.Crc8(v3.AsSpan(0, v3.Length - 1)), v3[^1]);

            PacketInfo info2 = codec.Decode(v2, fromV2);
            PacketInfo info3 = codec.Decode(v3, fromV3);
            Assert.Equal(fromV2, fromV3);
            Assert.Null(info2.DeviceScore);
            Assert.Equal(new PacketInfo(3, bits, 0x1234, sequence, score), info3);
            Assert.True(info3.IsSequenced);
            Assert.Equal(info3, codec.Check(v3));
            Assert.Equal(score, PacketFormat.DeviceScoreOf(v3));

            // Writing the code and score by hand gives the same bytes; resequencing keeps the score.
            var code = new float[16];
            model.EncodePortable(digits[row], code);
            var written = new byte[v3.Length];
            codec.WritePacket(code, sequence, score, written);
            Assert.Equal(v3, written);
            PacketFormat.Resequence(written, sequence ^ 0x5555);
            codec.Encode(digits[row], sequence ^ 0x5555, v3, out _);
            Assert.Equal(v3, written);
        }
    }

    [Fact]
    public void Each_bad_scored_packet_is_rejected_with_its_reason()
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x1234);
        var sixteen = new PacketCodec(model, CodeQuantizer.ForActivation(ActivationKind.Sigmoid, 16, 16)!, 0x1234);
        Dataset digits = BundledData.Digits();
        var v3 = new byte[codec.ScoredPacketLength];
        codec.Encode(digits[2], 42, v3, out _);
        var output = new float[64];
        PacketException Reject(byte[] bytes, PacketCodec? other = null) => Assert.Throws<PacketException>(() => (other ?? codec).Decode(bytes, output));

        PacketException e = Reject(v3[..^1]);
        Assert.Equal(PacketErrorReason.Truncated, e.Reason);
        Assert.Equal("packet is truncated: 27 bytes, a scored (version-3) packet of this model is 28", e.Message);
        e = Reject([.. v3, 0]);
        Assert.Equal(PacketErrorReason.TooLong, e.Reason);
        Assert.Equal("packet is 29 bytes, a scored (version-3) packet of this model is 28 (1 extra)", e.Message);
        Assert.Equal("packet is truncated: 0 bytes, a packet of this model is 20 (version 1), 24 (version 2) or 28 (version 3)", Reject([]).Message);

        byte[] flipped = (byte[])v3.Clone();
        flipped[9] ^= 0x04; // a bit of the score
        Assert.Equal(PacketErrorReason.ChecksumMismatch, Reject(flipped).Reason);
        Assert.Equal(PacketErrorReason.ModelMismatch, Reject(Repaired(v3, 2, 0x99)).Reason);

        // Bits: a header naming 16 bits on an 8-bit-length packet, and a real 16-bit scored packet (alone, in a stream, in a batch).
        e = Reject(Repaired(v3, 0, 0x32));
        Assert.Equal((PacketErrorReason.BitsMismatch, "packet carries 16 bits per code value; this codec expects 8"), (e.Reason, e.Message));
        var wide = new byte[sixteen.ScoredPacketLength];
        sixteen.Encode(digits[2], 42, wide, out _);
        Assert.Equal(PacketErrorReason.BitsMismatch, Reject(wide).Reason);
        Assert.Equal(PacketErrorReason.BitsMismatch, Reject(v3, sixteen).Reason);
        e = Assert.Throws<PacketException>(() => codec.DecodeStream(new MemoryStream([.. v3, .. wide])).ToList());
        Assert.Equal((PacketErrorReason.BitsMismatch, 1L), (e.Reason, e.PacketIndex));
        e = Assert.Throws<PacketException>(() => codec.DecodeBatch([.. v3, .. wide], new float[128]));
        Assert.Equal((PacketErrorReason.BitsMismatch, 1L), (e.Reason, e.PacketIndex));

        // A non-finite score is written by no EdgeAe writer: rejected after every other check.
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            byte[] invalid = (byte[])v3.Clone();
            BitConverter.TryWriteBytes(invalid.AsSpan(7, 4), bad);
            invalid[^1] = PacketFormat.Crc8(invalid.AsSpan(0, invalid.Length - 1));
            e = Reject(invalid);
            Assert.Equal(PacketErrorReason.InvalidScore, e.Reason);
            Assert.StartsWith("packet carries a device score of ", e.Message);
        }

        // Version 4 is the first unknown version; a version-2 packet whose header claims version 3 frames 4 bytes short.
        e = Reject(Repaired(v3, 0, 0x41));
        Assert.Equal((PacketErrorReason.UnsupportedVersion, "packet has format version 4 (header 0x41); this EdgeAe reads versions 1 to 3"), (e.Reason, e.Message));
        var v2 = new byte[codec.SequencedPacketLength];
        codec.Encode(digits[2], 42, v2);
        Assert.Equal(PacketErrorReason.Truncated, Reject(Repaired(v2, 0, 0x31)).Reason);
    }

    [Fact]
    public void Scored_packets_are_written_only_with_a_finite_score()
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x1234);
        float[] input = BundledData.Digits()[1].ToArray();
        var v3 = new byte[codec.ScoredPacketLength];
        input[10] = float.NaN;
        ArgumentException e = Assert.Throws<ArgumentException>(() => codec.Encode(input, 1, v3, out _));
        Assert.Equal("input", e.ParamName);
        Assert.StartsWith("The anomaly score of 'input' is NaN", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => codec.WritePacket(new float[16], 1, float.PositiveInfinity, v3));
        Assert.Throws<ArgumentException>(() => codec.Encode(BundledData.Digits()[1], 1, new byte[codec.SequencedPacketLength], out _));
    }

    [Fact]
    public void Streams_batches_and_readers_frame_all_three_versions()
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 0x1234);
        Dataset digits = BundledData.Digits();
        var bytes = new List<byte>();
        var expected = new List<float[]>();
        for (int i = 0; i < 9; i++)
        {
            var packet = new byte[codec.PacketLengthOf(1 + (i % 3))];
            switch (i % 3)
            {
                case 0: codec.Encode(digits[i], packet); break;
                case 1: codec.Encode(digits[i], (uint)i, packet); break;
                default: codec.Encode(digits[i], (uint)i, packet, out _); break;
            }

            bytes.AddRange(packet);
            var reconstruction = new float[64];
            codec.Decode(packet, reconstruction);
            expected.Add(reconstruction);
        }

        byte[] all = [.. bytes];
        Assert.Equal(expected, codec.DecodeStream(new MemoryStream(all)).ToArray());
        var batch = new float[9 * 64];
        Assert.Equal(9, codec.DecodeBatch(all, batch));
        Assert.Equal(expected.SelectMany(r => r).ToArray(), batch);
        Assert.Equal(9, PacketCodec.DecodeBatch([codec, codec.WithModel(new CodecDigitsAe())], all, new float[9 * 64]));
        PacketException e = Assert.Throws<PacketException>(() => codec.DecodeStream(new MemoryStream(all[..^3])).ToArray());
        Assert.Equal((PacketErrorReason.Truncated, 8L), (e.Reason, e.PacketIndex));

        // The public reader frames a version-3 header at the sequenced length + 4.
        var reader = new PacketReader(new MemoryStream(all), codec.PacketLength, codec.SequencedPacketLength);
        var buffer = new byte[codec.ScoredPacketLength];
        var lengths = new List<int>();
        while (reader.TryRead(buffer, out int length))
        {
            lengths.Add(length);
        }

        Assert.Equal([20, 24, 28, 20, 24, 28, 20, 24, 28], lengths);
    }

    [Fact]
    public void Random_byte_strings_are_rejected_and_the_check_byte_passes_garbage_at_its_predicted_rate()
    {
        var codec = new PacketCodec(new CodecDigitsAe(), CodecDigitsAe.CodeQuantizer, 0x1234);
        var output = new float[64];
        var random = new Random(20260101);
        int accepted = 0;
        for (int n = 0; n < 20000; n++)
        {
            var bytes = new byte[random.Next(0, (2 * codec.PacketLength) + 1)];
            random.NextBytes(bytes);
            try
            {
                codec.Decode(bytes, output);
                accepted++;
            }
            catch (PacketException)
            {
            }
        }

        // Random strings: accepted only with the right length, check byte, header and id: 2⁻³² of the right-length ones.
        Assert.Equal(0, accepted);

        // Random payload and check byte behind a valid header and id: the CRC-8 alone decides, passing 1 in 256.
        const int Trials = 51200;
        int passed = 0;
        var packet = new byte[codec.PacketLength];
        for (int n = 0; n < Trials; n++)
        {
            random.NextBytes(packet);
            packet[0] = 0x11;
            packet[1] = 0x34;
            packet[2] = 0x12;
            try
            {
                codec.Decode(packet, output);
                passed++;
            }
            catch (PacketException e) when (e.Reason == PacketErrorReason.ChecksumMismatch)
            {
            }
        }

        // Expected 200, standard deviation ≈ 14.1: within 5σ.
        Assert.InRange(passed, 200 - 71, 200 + 71);
    }

    [Fact]
    public void Streams_batches_and_weight_files_round_trip()
    {
        (CancerAe model, Dataset train, Dataset test) = s_cancer.Value;
        using var folder = new TempFiles();
        string path = folder.Path("cancer.eaw");
        CodeQuantizer quantizer = CodeQuantizer.For(model, train, 8);
        WeightFile.Save(path, model, Normalization.None, quantizer);

        // The 'qant' section is optional: the file loads like any other, and the codec finds the same ranges.
        var fresh = new CancerAe(99);
        PacketCodec codec = PacketCodec.Load(path, fresh);
        Assert.Equal(quantizer.Min.ToArray(), codec.Quantizer.Min.ToArray());
        Assert.Equal(quantizer.Max.ToArray(), codec.Quantizer.Max.ToArray());
        Assert.Equal(PacketFormat.ModelId(WeightFile.Read(path).Checksum), codec.ModelId);
        Assert.Equal(model.Parameters.ToArray(), fresh.Parameters.ToArray());

        int count = 20;
        var packets = new byte[count * codec.PacketLength];
        for (int i = 0; i < count; i++)
        {
            codec.Encode(test[i], packets.AsSpan(i * codec.PacketLength, codec.PacketLength));
        }

        var batch = new float[count * CancerAe.InputSize];
        Assert.Equal(count, codec.DecodeBatch(packets, batch));
        float[][] streamed = codec.DecodeStream(new MemoryStream(packets)).ToArray();
        Assert.Equal(count, streamed.Length);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(batch.AsSpan(i * CancerAe.InputSize, CancerAe.InputSize).ToArray(), streamed[i]);
        }

        PacketException e = Assert.Throws<PacketException>(() => codec.DecodeStream(new MemoryStream(packets[..^2])).ToArray());
        Assert.Equal(PacketErrorReason.Truncated, e.Reason);
        Assert.Equal(count - 1, e.PacketIndex);
    }

    [Fact]
    public void Encoding_and_decoding_allocate_nothing()
    {
        var model = new CodecDigitsAe();
        var codec = new PacketCodec(model, CodecDigitsAe.CodeQuantizer, 1);
        float[] input = BundledData.Digits()[3].ToArray();
        var packet = new byte[codec.PacketLength];
        var output = new float[64];
        codec.Encode(input, packet);
        codec.Decode(packet, output);
        var sequenced = new byte[codec.SequencedPacketLength];
        codec.Encode(input, 7, sequenced);
        codec.Decode(sequenced, output);
        var scored = new byte[codec.ScoredPacketLength];
        codec.Encode(input, 7, scored, out _);
        codec.Decode(scored, output);
        Allocations.AssertNoneOnThisThread(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                codec.Encode(input, packet);
                codec.Decode(packet, output);
                codec.Encode(input, (uint)i, sequenced);
                codec.Decode(sequenced, output);
                PacketFormat.Resequence(sequenced, (uint)(i + 1));
                codec.Encode(input, (uint)i, scored, out _);
                codec.Decode(scored, output);
            }
        });
    }

    private static byte[] Repaired(byte[] packet, int index, byte value)
    {
        byte[] copy = (byte[])packet.Clone();
        copy[index] = value;
        copy[^1] = PacketFormat.Crc8(copy.AsSpan(0, copy.Length - 1));
        return copy;
    }
}
