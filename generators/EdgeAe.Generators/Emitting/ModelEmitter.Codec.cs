using System.Collections.Generic;
using System.Globalization;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// The packet codec (<c>[Autoencoder(CodeBits = 8 | 16)]</c>, docs/packet-format.md). Kept apart from the class-body
/// writers: each flavour calls one method here. The firmware flavour gets <c>EncodePacket</c> (float[] in, byte[] out,
/// no allocation; version 1, version 2 with the device's sequence number, or version 3 with the sequence number and the
/// anomaly score of the input, which every firmware model with a codec can compute: each has a decoder and <c>Score</c>);
/// the desktop flavour gets the constants,
/// the quantiser when its range is known, and
/// <c>CreatePacketCodec()</c> for a baked model (decoding is the runtime's <c>EdgeAe.Compression.PacketCodec</c>).
/// The quantisation arithmetic is the runtime <c>CodeQuantizer</c>'s, operation for operation, so packets are the same bytes.
/// </summary>
internal static partial class ModelEmitter
{
    /// <summary>Packet format version 1: header byte, u16 model id, packed code, CRC-8.</summary>
    private const int PacketHeaderLength = 3;

    /// <summary>Packet format version 2 (sequenced): header byte, u16 model id, u32 sequence number, packed code, CRC-8.</summary>
    private const int SequencedPacketHeaderLength = 7;

    /// <summary>Packet format version 3 (scored): as version 2, then the device's anomaly score as a float32, packed code, CRC-8.</summary>
    private const int ScoredPacketHeaderLength = 11;

    private static int PacketLength(TopologySpec spec) => PacketHeaderLength + (spec.CodeSize * (spec.CodeBits / 8)) + 1;

    private static int SequencedPacketLength(TopologySpec spec) => SequencedPacketHeaderLength + (spec.CodeSize * (spec.CodeBits / 8)) + 1;

    private static int ScoredPacketLength(TopologySpec spec) => ScoredPacketHeaderLength + (spec.CodeSize * (spec.CodeBits / 8)) + 1;

    private static int PacketHeaderByte(TopologySpec spec, int version) => (version << 4) | (spec.CodeBits == 16 ? 2 : 1);

    /// <summary>The fold of a weight file's CRC-32 every packet carries (runtime: <c>PacketFormat.ModelId</c>).</summary>
    private static int PacketModelId(uint crc32) => (int)((crc32 ^ (crc32 >> 16)) & 0xFFFF);

    /// <summary>The code ranges the generated code starts with: the baked 'qant' section, else a sigmoid's [0, 1] or a tanh's [−1, 1]; null when unknown.</summary>
    internal static (float[] Min, float[] Max)? CodeRange(ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        if (baked is not null && baked.CodecBits != 0)
        {
            return (baked.CodecMin.AsSpan().ToArray(), baked.CodecMax.AsSpan().ToArray());
        }

        ActivationKind activation = plan.CodeLayer.Layer.Activation;
        if (activation is not (ActivationKind.Sigmoid or ActivationKind.Tanh))
        {
            return null;
        }

        var min = new float[spec.CodeSize];
        var max = new float[spec.CodeSize];
        for (int j = 0; j < min.Length; j++)
        {
            min[j] = activation == ActivationKind.Sigmoid ? 0f : -1f;
            max[j] = 1f;
        }

        return (min, max);
    }

    private static void WriteCodecConstants(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        w.WriteSummary("Bits per code value in a packet (<c>[Autoencoder(CodeBits = …)]</c>).");
        w.WriteLine($"public const int CodeBits = {Invariant.Int(spec.CodeBits)};");
        w.WriteLine();
        w.WriteSummary($"Bytes per packet: header, model id, {Invariant.Int(spec.CodeSize)} code values of {Invariant.Int(spec.CodeBits)} bits, check byte (docs/packet-format.md).");
        w.WriteLine($"public const int PacketLength = {Invariant.Int(PacketLength(spec))};");
        w.WriteLine();
        w.WriteSummary("Bytes per sequenced (version-2) packet: as <see cref=\"PacketLength\"/> plus the device's 4-byte sequence number.");
        w.WriteLine($"public const int SequencedPacketLength = {Invariant.Int(SequencedPacketLength(spec))};");
        w.WriteLine();
        w.WriteSummary("Bytes per scored (version-3) packet: as <see cref=\"SequencedPacketLength\"/> plus the device's 4-byte anomaly score of its input.");
        w.WriteLine($"public const int ScoredPacketLength = {Invariant.Int(ScoredPacketLength(spec))};");
        w.WriteLine();
        if (baked is not null)
        {
            w.WriteSummary($"The model id packets carry: the baked weight file's CRC-32 ({Crc(baked.Crc32)}) folded to 16 bits.");
            w.WriteLine($"public const ushort BakedPacketModelId = 0x{PacketModelId(baked.Crc32).ToString("X4", CultureInfo.InvariantCulture)};");
            w.WriteLine();
        }
    }

    private static void WriteRangeArrays(SourceWriter w, (float[] Min, float[] Max) range, string prefix)
    {
        foreach ((string name, float[] values) in new[] { ("Min", range.Min), ("Max", range.Max) })
        {
            w.WriteLine($"{prefix} float[] s_code{name} =");
            w.WriteLine("{");
            w.Indentation++;
            var line = new System.Text.StringBuilder();
            for (int start = 0; start < values.Length; start += BakedValuesPerLine)
            {
                line.Clear();
                int end = System.Math.Min(start + BakedValuesPerLine, values.Length);
                for (int k = start; k < end; k++)
                {
                    line.Append(Invariant.Float(values[k])).Append(k + 1 < end ? ", " : ",");
                }

                w.WriteLine(line.ToString());
            }

            w.Indentation--;
            w.WriteLine("};");
            w.WriteLine();
        }
    }

    private static void WriteDesktopCodec(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        if (!spec.HasCodec)
        {
            return;
        }

        WriteCodecConstants(w, plan, baked);
        (float[] Min, float[] Max)? range = CodeRange(plan, baked);
        if (range is null)
        {
            w.WriteComment("The code range is learned in training: make a codec with EdgeAe.Compression.PacketCodec.Load(path, model).");
            w.WriteLine();
            return;
        }

        WriteRangeArrays(w, range.Value, "private static readonly");
        w.WriteSummary(baked is not null && baked.CodecBits != 0
            ? "The code quantiser baked from the weight file's 'qant' section."
            : "The code quantiser over the code activation's known range.");
        w.WriteLine("public static global::EdgeAe.Compression.CodeQuantizer CodeQuantizer { get; } =");
        w.WriteLine("    new global::EdgeAe.Compression.CodeQuantizer(CodeBits, s_codeMin, s_codeMax);");
        w.WriteLine();
        if (baked is not null)
        {
            w.WriteSummary("A packet codec over this model with the baked quantiser and model id (encode and decode packets, single, batched or from a stream).");
            w.WriteLine("public global::EdgeAe.Compression.PacketCodec CreatePacketCodec() => new(this, CodeQuantizer, BakedPacketModelId);");
            w.WriteLine();
        }
    }

    /// <summary>
    /// How a firmware body computes the code a packet carries: the statements that run the encoder on <c>input</c>, an
    /// optional local declaration, and the float of code value <c>j</c> afterwards (exactly what <c>Encode</c> returns).
    /// </summary>
    private sealed record NanoCodeSource(string[] Encode, string? Local, string ValueOfJ);

    /// <summary>The float flavour's code source: the code layer's activations in the workspace.</summary>
    private static NanoCodeSource FloatCodeSource(ModelPlan plan)
        => new(["EncodeLayers(input, 0);"], "float[] ws = _workspace;", $"ws[{Invariant.Int(plan.CodeLayer.ActivationOffset)} + j]");

    private static void WriteNanoCodec(SourceWriter w, ModelPlan plan, BakedWeights? baked, NanoCodeSource source)
    {
        TopologySpec spec = plan.Topology;
        if (!spec.HasCodec)
        {
            return;
        }

        WriteCodecConstants(w, plan, baked);
        (float[] Min, float[] Max)? range = CodeRange(plan, baked);
        if (range is not null)
        {
            WriteRangeArrays(w, range.Value, "private static readonly");
        }

        string levels = spec.CodeBits == 16 ? "65535f" : "255f";
        w.WriteLine("private readonly float[] _codeMin = new float[CodeSize];");
        w.WriteLine("private readonly float[] _codeScale = new float[CodeSize];");
        w.WriteLine("private bool _codeRangeSet;");
        w.WriteLine();
        w.WriteSummary(baked is null
            ? "The model id written into every packet: set it to the id of the weight file the parameters came from (PacketFormat.ModelId of its CRC-32)."
            : "The model id written into every packet (starts as <see cref=\"BakedPacketModelId\"/>).");
        w.WriteLine($"public ushort PacketModelId {{ get; set; }}{(baked is null ? string.Empty : " = BakedPacketModelId;")}");
        w.WriteLine();
        w.WriteSummary("Sets each code value's quantisation range (CodeSize floats each, max &gt; min); copies, allocates nothing. " + (range is null
            ? "Required before <see cref=\"EncodePacket\"/>: this code's range is learned in training (the weight file's 'qant' section)."
            : "Optional: the model starts with " + (baked is not null && baked.CodecBits != 0 ? "the baked range." : "its activation's known range.")));
        w.OpenBlock("public void SetCodeRange(float[] min, float[] max)");
        WriteNanoCheck(w, "min", "CodeSize");
        WriteNanoCheck(w, "max", "CodeSize");
        w.OpenBlock("for (int j = 0; j < CodeSize; j++)");
        w.OpenBlock("if (!(max[j] > min[j]) || float.IsInfinity(max[j] - min[j]))");
        w.WriteLine("throw new global::System.ArgumentException(");
        w.WriteLine("    \"Each code range needs finite ends with max > min.\", \"max\");");
        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("for (int j = 0; j < CodeSize; j++)");
        w.WriteLine("_codeMin[j] = min[j];");
        w.WriteLine($"_codeScale[j] = {levels} / (max[j] - min[j]);");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("_codeRangeSet = true;");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Encodes <paramref name=\"input\"/> (<see cref=\"InputSize\"/> floats) into a version-1 packet in the first "
            + "<see cref=\"PacketLength\"/> bytes of <paramref name=\"packet\"/>: header, <see cref=\"PacketModelId\"/>, the code quantised "
            + "to <see cref=\"CodeBits\"/> bits, CRC-8. Returns the number of bytes written. Allocates nothing.");
        w.OpenBlock("public int EncodePacket(float[] input, byte[] packet)");
        w.WriteLine("EncodeForPacket(input, packet, PacketLength);");
        w.WriteLine($"packet[0] = 0x{PacketHeaderByte(spec, 1).ToString("X2", CultureInfo.InvariantCulture)};");
        w.WriteLine($"WritePacketBody(packet, {Invariant.Int(PacketHeaderLength)}, PacketLength);");
        w.WriteLine("return PacketLength;");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Encodes <paramref name=\"input\"/> into a sequenced (version-2) packet in the first <see cref=\"SequencedPacketLength\"/> "
            + "bytes of <paramref name=\"packet\"/>: as <see cref=\"EncodePacket(float[], byte[])\"/> plus <paramref name=\"sequence\"/>, the "
            + "device's number for this sample (a server stores each device's sequence number once, so a redelivered packet is not stored "
            + "twice: never reuse a number, also across restarts). Returns the number of bytes written. Allocates nothing.");
        w.OpenBlock("public int EncodePacket(float[] input, uint sequence, byte[] packet)");
        w.WriteLine("EncodeForPacket(input, packet, SequencedPacketLength);");
        w.WriteLine($"packet[0] = 0x{PacketHeaderByte(spec, 2).ToString("X2", CultureInfo.InvariantCulture)};");
        w.WriteLine("WritePacketSequence(packet, sequence);");
        w.WriteLine($"WritePacketBody(packet, {Invariant.Int(SequencedPacketHeaderLength)}, SequencedPacketLength);");
        w.WriteLine("return SequencedPacketLength;");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Encodes <paramref name=\"input\"/> into a scored (version-3) packet in the first <see cref=\"ScoredPacketLength\"/> "
            + "bytes of <paramref name=\"packet\"/>: as <see cref=\"EncodePacket(float[], uint, byte[])\"/> plus <paramref name=\"score\"/>, "
            + "the anomaly score of <paramref name=\"input\"/> (<see cref=\"Score(float[])\"/>'s number, which the anomaly threshold is "
            + "calibrated for; a server that has only the code cannot compute it). Returns the number of bytes written. Allocates nothing. "
            + "Throws ArgumentException, writing nothing, when the score is not finite (an input value is NaN or infinite).");
        w.OpenBlock("public int EncodePacket(float[] input, uint sequence, byte[] packet, out float score)");
        w.WriteLine("CheckPacketArguments(input, packet, ScoredPacketLength);");
        w.WriteComment("Score runs the encoder and the decoder: the code stays in the workspace for WritePacketBody.");
        w.WriteLine("score = Score(input);");
        w.OpenBlock("if (float.IsNaN(score) || float.IsInfinity(score))");
        w.WriteLine("throw new global::System.ArgumentException(");
        w.WriteLine("    \"The anomaly score of 'input' is not finite (an input value is NaN or infinite); \"");
        w.WriteLine("        + \"a scored packet carries a finite score.\", \"input\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine($"packet[0] = 0x{PacketHeaderByte(spec, 3).ToString("X2", CultureInfo.InvariantCulture)};");
        w.WriteLine("WritePacketSequence(packet, sequence);");
        w.WriteLine("WritePacketScore(packet, score);");
        w.WriteLine($"WritePacketBody(packet, {Invariant.Int(ScoredPacketHeaderLength)}, ScoredPacketLength);");
        w.WriteLine("return ScoredPacketLength;");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Checks the arguments, sets the code range up on first use and runs the encoder into the workspace.");
        w.OpenBlock("private void EncodeForPacket(float[] input, byte[] packet, int length)");
        w.WriteLine("CheckPacketArguments(input, packet, length);");
        foreach (string statement in source.Encode)
        {
            w.WriteLine(statement);
        }

        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Checks the input and the packet's room, and sets the code range up on first use.");
        w.OpenBlock("private void CheckPacketArguments(float[] input, byte[] packet, int length)");
        WriteNanoCheck(w, "input", "InputSize");
        w.OpenBlock("if (packet == null)");
        w.WriteLine("throw new global::System.ArgumentNullException(\"packet\");");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (packet.Length < length)");
        w.WriteLine("throw new global::System.ArgumentException(");
        w.WriteLine("    \"Expected at least \" + length.ToString() + \" bytes in 'packet' but found \"");
        w.WriteLine("        + packet.Length.ToString() + \".\", \"packet\");");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (!_codeRangeSet)");
        if (range is null)
        {
            w.WriteLine("throw new global::System.InvalidOperationException(");
            w.WriteLine("    \"Call SetCodeRange first: this code's range is learned in training.\");");
        }
        else
        {
            w.WriteLine("SetCodeRange(s_codeMin, s_codeMax);");
        }

        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Writes the device's sequence number, little-endian, at bytes 3–6 (versions 2 and 3).");
        w.OpenBlock("private static void WritePacketSequence(byte[] packet, uint sequence)");
        w.WriteLine("packet[3] = (byte)sequence;");
        w.WriteLine("packet[4] = (byte)(sequence >> 8);");
        w.WriteLine("packet[5] = (byte)(sequence >> 16);");
        w.WriteLine("packet[6] = (byte)(sequence >> 24);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Writes <paramref name=\"score\"/> (finite) as IEEE-754 single-precision bits, little-endian, at bytes 7–10 (version 3). "
            + "nanoFramework's BitConverter turns a float into bytes only by allocating, so the bits come from the score's exact double: "
            + "the sign, the exponent rebiased from 1023 to 127, and the top 23 of the 52 mantissa bits (a float's lower 29 are zero).");
        w.OpenBlock("private static void WritePacketScore(byte[] packet, float score)");
        w.WriteLine("long d = global::System.BitConverter.DoubleToInt64Bits(score);");
        w.WriteLine("int exponent = (int)((d >> 52) & 0x7FF) - 1023;");
        w.WriteLine("long mantissa = d & 0xFFFFFFFFFFFFFL;");
        w.WriteLine("uint bits;");
        w.OpenBlock("if (exponent >= -126)");
        w.WriteComment("A normal float.");
        w.WriteLine("bits = ((uint)(exponent + 127) << 23) | (uint)(mantissa >> 29);");
        w.CloseBlock();
        w.OpenBlock("else if (exponent >= -149)");
        w.WriteComment("A subnormal float (exponent field 0): the implicit leading 1 shifted down to the exponent -126.");
        w.WriteLine("bits = (uint)((mantissa | 0x10000000000000L) >> (-97 - exponent));");
        w.CloseBlock();
        w.OpenBlock("else");
        w.WriteComment("Zero (no float lies between zero and 2^-149).");
        w.WriteLine("bits = 0;");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (d < 0)");
        w.WriteLine("bits |= 0x80000000u;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("packet[7] = (byte)bits;");
        w.WriteLine("packet[8] = (byte)(bits >> 8);");
        w.WriteLine("packet[9] = (byte)(bits >> 16);");
        w.WriteLine("packet[10] = (byte)(bits >> 24);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Writes the model id, the quantised code from <paramref name=\"codeStart\"/> on and the check byte (the header byte is already written).");
        w.OpenBlock("private void WritePacketBody(byte[] packet, int codeStart, int length)");
        if (source.Local is not null)
        {
            w.WriteLine(source.Local);
        }

        w.WriteLine("int id = PacketModelId;");
        w.WriteLine("packet[1] = (byte)id;");
        w.WriteLine("packet[2] = (byte)(id >> 8);");
        w.OpenBlock("for (int j = 0; j < CodeSize; j++)");
        w.WriteLine($"float t = ({source.ValueOfJ} - _codeMin[j]) * _codeScale[j];");
        w.WriteLine("int q;");
        w.OpenBlock("if (!(t > 0f))");
        w.WriteLine("q = 0;");
        w.CloseBlock();
        w.OpenBlock($"else if (t >= {levels})");
        w.WriteLine($"q = {(spec.CodeBits == 16 ? "65535" : "255")};");
        w.CloseBlock();
        w.OpenBlock("else");
        w.WriteLine("q = (int)(t + 0.5f);");
        w.CloseBlock();
        w.WriteLine();
        if (spec.CodeBits == 16)
        {
            w.WriteLine("packet[codeStart + 2 * j] = (byte)q;");
            w.WriteLine("packet[codeStart + 1 + 2 * j] = (byte)(q >> 8);");
        }
        else
        {
            w.WriteLine("packet[codeStart + j] = (byte)q;");
        }

        w.CloseBlock();
        w.WriteLine();
        w.WriteComment("CRC-8/SMBUS (polynomial 0x07, initial 0) over every byte before the check byte.");
        w.WriteLine("int crc = 0;");
        w.OpenBlock("for (int i = 0; i < length - 1; i++)");
        w.WriteLine("crc ^= packet[i];");
        w.OpenBlock("for (int k = 0; k < 8; k++)");
        w.WriteLine("crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;");
        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("packet[length - 1] = (byte)crc;");
        w.CloseBlock();
        w.WriteLine();
    }
}
