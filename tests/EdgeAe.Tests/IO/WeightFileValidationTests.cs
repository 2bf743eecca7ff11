using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.IO.Format;
using EdgeAe.Tests.Models;
using static EdgeAe.Tests.IO.WeightFileTestKit;

namespace EdgeAe.Tests.IO;

/// <summary>Every damaged, foreign or mismatched file is rejected before the model changes.</summary>
public sealed class WeightFileValidationTests
{
    [Fact]
    public void Loading_into_another_topology_is_a_mismatch_naming_both()
    {
        byte[] bytes = WeightFile.ToBytes(Randomized<DeepBceAe>(1), Normalization.None);
        var model = new DeepSquaredErrorAe();
        int[] before = Bits(model.Parameters);

        WeightFileException e = AssertRejected(bytes, model, before, "deep.eaw");

        Assert.Equal(WeightFileErrorReason.TopologyMismatch, e.Reason);
        Assert.Contains(DeepSquaredErrorAe.Topology.ToString(), e.Message);
        Assert.Contains(DeepBceAe.Topology.ToString(), e.Message);
        Assert.Contains("layer 0: expected Encoder 9→7 Tanh, found Encoder 7→6 Relu  <- differs", e.Message);
        Assert.Contains("layer 5: expected (no layer), found Output 6→7 Sigmoid  <- differs", e.Message);
        Assert.Contains("loss: expected SquaredError, found BinaryCrossEntropy", e.Message);
    }

    [Fact]
    public void Loading_a_same_width_model_with_other_activations_is_a_mismatch()
    {
        byte[] bytes = WeightFile.ToBytes(Randomized<BceSigmoidCode>(1), Normalization.None);
        var model = new BceTanhCode();
        int[] before = Bits(model.Parameters);

        WeightFileException e = AssertRejected(bytes, model, before, "x.eaw");

        Assert.Equal(WeightFileErrorReason.TopologyMismatch, e.Reason);
        Assert.Contains("layer 0: expected Code 6→4 Tanh, found Code 6→4 Sigmoid  <- differs", e.Message);
        Assert.Contains("layer 1: expected Output 4→6 Sigmoid, found Output 4→6 Sigmoid\n", e.Message + "\n");
    }

    [Fact]
    public void Every_single_byte_change_is_rejected_and_leaves_the_model_untouched()
    {
        byte[] original = DeepBceFile(out _);
        var model = new DeepBceAe();
        int[] before = Bits(model.Parameters);
        int cases = 0;
        foreach (Func<byte, byte> change in new Func<byte, byte>[] { b => (byte)(b ^ 0xFF), b => (byte)(b ^ 0x01), b => (byte)(b ^ 0x80), b => (byte)(b + 1), _ => 0x00, _ => 0x7F })
        {
            for (int i = 0; i < original.Length; i++)
            {
                byte[] bytes = (byte[])original.Clone();
                bytes[i] = change(bytes[i]);
                if (bytes[i] == original[i])
                {
                    continue;
                }

                AssertRejected(bytes, model, before, $"byte {i} changed to 0x{bytes[i]:X2}");
                cases++;
            }
        }

        Assert.True(cases > 5 * original.Length, $"only {cases} cases");
    }

    [Fact]
    public void Every_truncation_is_rejected_and_leaves_the_model_untouched()
    {
        byte[] original = DeepBceFile(out _);
        var model = new DeepBceAe();
        int[] before = Bits(model.Parameters);
        for (int length = 0; length < original.Length; length++)
        {
            WeightFileException e = AssertRejected(original[..length], model, before, $"truncated to {length} bytes");
            Assert.Equal(WeightFileErrorReason.Truncated, e.Reason);
        }
    }

    [Fact]
    public void Seeded_random_mutations_are_rejected_and_leave_the_model_untouched()
    {
        byte[] original = DeepBceFile(out _);
        var model = new DeepBceAe();
        int[] before = Bits(model.Parameters);
        var random = new Random(20261126);
        for (int i = 0; i < 3000; i++)
        {
            AssertRejected(Mutate(original, random), model, before, $"mutation {i}");
        }
    }

    [Fact]
    public void Seeded_random_mutations_with_a_repaired_checksum_never_escape_as_other_exceptions()
    {
        // With the CRC repaired, the structural checks behind it are exercised: a mutation may be a
        // valid file (a changed weight), but a rejection must be a WeightFileException before any change.
        byte[] original = DeepBceFile(out _);
        var model = new DeepBceAe();
        int[] before = Bits(model.Parameters);
        var random = new Random(7);
        int accepted = 0;
        for (int i = 0; i < 3000; i++)
        {
            byte[] bytes = Mutate(original, random);
            FixChecksum(bytes);
            if (LoadOrReject(bytes, model, before, $"repaired mutation {i}"))
            {
                accepted++;
                model.Parameters.Clear();
                new DeepBceAe().Parameters.CopyTo(model.Parameters);
            }
        }

        Assert.InRange(accepted, 1, 2999);
    }

    [Fact]
    public void A_NaN_weight_with_a_valid_checksum_is_rejected_naming_layer_and_index()
    {
        WeightFileData data = ParseValid(WeightFile.ToBytes(Randomized<DeepBceAe>(3), Normalization.None));

        // Layer 3 is the first decoder (3 → 5): its W has 15 values; poison the twelfth.
        int start = data.Tensors.TakeWhile(t => !(t.LayerIndex == 3 && t.Kind == TensorEntry.WeightKind)).Sum(t => t.Count);
        data.Parameters[start + 11] = float.NaN;
        byte[] bytes = WeightFileFormat.Write(data);
        var model = new DeepBceAe();

        WeightFileException e = AssertRejected(bytes, model, Bits(model.Parameters), "nan.eaw");

        Assert.Equal(WeightFileErrorReason.NonFiniteWeight, e.Reason);
        Assert.Contains("weight NaN in layer 3 (decoder) W[11]", e.Message);
    }

    [Fact]
    public void An_infinite_bias_and_an_infinite_scale_are_rejected()
    {
        WeightFileData data = ParseValid(WeightFile.ToBytes(Randomized<DeepBceAe>(3), Standardization(7, 1)));
        data.Parameters[^1] = float.NegativeInfinity;
        AssertReason(WeightFileFormat.Write(data), WeightFileErrorReason.NonFiniteWeight, "weight -Infinity in layer 5 (output) b[6]");

        data = ParseValid(WeightFile.ToBytes(Randomized<DeepBceAe>(3), Standardization(7, 1)));
        data.NormalizationScale[4] = float.PositiveInfinity;
        AssertReason(WeightFileFormat.Write(data), WeightFileErrorReason.NonFiniteWeight, "normalisation scale +Infinity at feature 4");
    }

    [Fact]
    public void Messages_are_precise()
    {
        byte[] valid = WeightFile.ToBytes(Randomized<DeepBceAe>(3), Normalization.None);

        AssertReason("PK\x03\x04 not a weight file"u8.ToArray(), WeightFileErrorReason.NotAnEdgeAeFile, "not an EdgeAe weight file (magic 50-4B-03-04 \"PK..\"");

        byte[] bytes = (byte[])valid.Clone();
        bytes[4] = 3;
        AssertReason(bytes, WeightFileErrorReason.UnsupportedVersion, "unsupported format version 3 (this EdgeAe reads version 1)");

        AssertReason(valid[..100], WeightFileErrorReason.Truncated, $"truncated at byte 100 (expected at least {valid.Length})");
        AssertReason(valid[..2], WeightFileErrorReason.Truncated, "truncated at byte 2 (expected at least 16)");

        bytes = (byte[])valid.Clone();
        bytes[200] ^= 0x10;
        uint stored = BitConverter.ToUInt32(valid, valid.Length - 4);
        uint computed = System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4));
        AssertReason(bytes, WeightFileErrorReason.ChecksumMismatch, $"checksum mismatch: stored 0x{stored:X8}, computed 0x{computed:X8}");

        AssertReason([.. valid, 0, 0, 0], WeightFileErrorReason.Malformed, $"3 trailing bytes after the end of the weight file at byte {valid.Length}");

        WeightFileData data = ParseValid(valid);
        data.Layers[1] = new LayerFingerprint(data.Layers[1].Role, data.Layers[1].InputWidth, data.Layers[1].Width, 9);
        AssertReason(WeightFileFormat.Write(data), WeightFileErrorReason.Malformed, "unknown activation code 9 in layer 1");

        // Element type 2 announces an int8 model: float32 values behind it do not add up to one.
        bytes = (byte[])valid.Clone();
        int parm = IndexOf(bytes, "PARM"u8.ToArray());
        bytes[parm + 8] = WeightFileFormat.ElementTypeInt8;
        FixChecksum(bytes);
        AssertReason(bytes, WeightFileErrorReason.Malformed, "for this int8 model");
        bytes[parm + 8] = 3;
        FixChecksum(bytes);
        AssertReason(bytes, WeightFileErrorReason.Malformed, "unknown element type 3");
    }

    [Fact]
    public void The_format_layer_reports_instead_of_throwing()
    {
        Assert.False(WeightFileFormat.TryParse([], out WeightFileData? data, out string error));
        Assert.Null(data);
        Assert.Equal("truncated at byte 0 (expected at least 16)", error);

        byte[] valid = WeightFile.ToBytes(new DigitsAe(), Normalization.None);
        Assert.True(WeightFileFormat.TryParse(valid, out data, out error));
        Assert.NotNull(data);
        Assert.Equal(string.Empty, error);
        Assert.Equal(valid, WeightFileFormat.Write(data));
    }

    [Fact]
    public void An_optional_section_is_skipped_and_an_unknown_required_one_rejected()
    {
        byte[] valid = WeightFile.ToBytes(Randomized<DeepBceAe>(4), Normalization.None);
        byte[] extra = [.. "note"u8.ToArray(), 3, 0, 0, 0, (byte)'h', (byte)'i', (byte)'!'];
        byte[] withNote = [.. valid[..^4], .. extra, 0, 0, 0, 0];
        BitConverter.TryWriteBytes(withNote.AsSpan(8), (uint)withNote.Length);
        FixChecksum(withNote);
        var model = new DeepBceAe();
        WeightFile.Load(withNote, model, "note.eaw");
        Assert.Equal(Bits(Randomized<DeepBceAe>(4).Parameters), Bits(model.Parameters));

        withNote[valid.Length - 4] = (byte)'N';
        FixChecksum(withNote);
        AssertReason(withNote, WeightFileErrorReason.Malformed, $"unknown required section 'Note' at byte {valid.Length - 4}");
    }

    private static WeightFileData ParseValid(byte[] bytes)
    {
        Assert.True(WeightFileFormat.TryParse(bytes, out WeightFileData? data, out string error), error);
        return data!;
    }

    private static void AssertReason(byte[] bytes, WeightFileErrorReason reason, string message)
    {
        var model = new DeepBceAe();
        WeightFileException e = AssertRejected(bytes, model, Bits(model.Parameters), "file.eaw");
        Assert.Equal(reason, e.Reason);
        Assert.Contains(message, e.Message);
        Assert.StartsWith("Cannot read weights from 'file.eaw': ", e.Message);
    }

    private static int IndexOf(byte[] bytes, byte[] pattern) => bytes.AsSpan().IndexOf(pattern);
}
