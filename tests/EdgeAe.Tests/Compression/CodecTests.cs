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
        (Dataset train, Dataset test, _) = RdData.BreastCancerAvailable ? RdData.BreastCancer() : Synthetic();
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

        byte[] version2 = Repaired(packet, 0, 0x21);
        Assert.Equal(PacketErrorReason.UnsupportedVersion, Reject(version2).Reason);

        // A 16-bit codec of the same model reads 36-byte packets: give it a correctly framed 8-bit header on 36 bytes.
        var sixteen = new PacketCodec(model, CodeQuantizer.ForActivation(ActivationKind.Sigmoid, 16, 16)!, 0x1234);
        var wide = new byte[sixteen.PacketLength];
        sixteen.Encode(digits[0], wide);
        e = Reject(Repaired(wide, 0, 0x11), sixteen);
        Assert.Equal(PacketErrorReason.BitsMismatch, e.Reason);
        Assert.Equal("packet carries 8 bits per code value; this codec expects 16", e.Message);
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
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            codec.Encode(input, packet);
            codec.Decode(packet, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static byte[] Repaired(byte[] packet, int index, byte value)
    {
        byte[] copy = (byte[])packet.Clone();
        copy[index] = value;
        copy[^1] = PacketFormat.Crc8(copy.AsSpan(0, copy.Length - 1));
        return copy;
    }

    private static (Dataset, Dataset, byte[]) Synthetic()
    {
        // Without python3-sklearn: a seeded 30-feature set of 8 latent factors (keeps the codec tests running).
        var random = new Random(3);
        var values = new float[569 * 30];
        var mixing = Enumerable.Range(0, 8 * 30).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        for (int i = 0; i < 569; i++)
        {
            var z = Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            for (int a = 0; a < 30; a++)
            {
                float s = 0;
                for (int c = 0; c < 8; c++)
                {
                    s += z[c] * mixing[(c * 30) + a];
                }

                values[(i * 30) + a] = s;
            }
        }

        var all = new Dataset(values, 569, 30);
        return (all.Slice(0, 455), all.Slice(455, 114), []);
    }
}
