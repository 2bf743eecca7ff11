using System.Globalization;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.IO.Format;

namespace EdgeAe.Compression;

/// <summary>
/// Turns inputs into packets and packets back into reconstructions with one model, one quantiser and one model id
/// (docs/packet-format.md). The server side of the codec; a firmware model generated with <c>CodeBits</c> writes
/// the same bytes with its own <c>EncodePacket</c>. Not thread-safe (it reuses one code buffer and the model's workspace).
/// </summary>
public sealed class PacketCodec
{
    private readonly float[] _code;

    /// <summary>A codec over <paramref name="model"/> (its current parameters) with <paramref name="quantizer"/> and <paramref name="modelId"/>.</summary>
    public PacketCodec(IAutoencoder model, CodeQuantizer quantizer, ushort modelId)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(quantizer);
        if (quantizer.CodeSize != model.Topology.CodeSize)
        {
            throw new ArgumentException($"The quantiser describes {quantizer.CodeSize} code values but {model.Topology.Name} has a code of {model.Topology.CodeSize}.", nameof(quantizer));
        }

        Model = model;
        Quantizer = quantizer;
        ModelId = modelId;
        _code = new float[quantizer.CodeSize];
    }

    /// <summary>The model whose encoder and decoder the codec runs.</summary>
    public IAutoencoder Model { get; }

    /// <summary>Bits and ranges of the packed code values.</summary>
    public CodeQuantizer Quantizer { get; }

    /// <summary>The id every packet of this codec carries (<see cref="PacketFormat.ModelId"/> of the weight file's CRC-32).</summary>
    public ushort ModelId { get; }

    /// <summary>Bytes per packet: 4 + CodeSize·Bits/8.</summary>
    public int PacketLength => PacketFormat.Overhead + Quantizer.PayloadBytes;

    /// <summary>
    /// Loads <paramref name="weightsPath"/> into <paramref name="model"/> and builds its codec: bits and ranges from the
    /// file's <c>qant</c> section; without one, a sigmoid or tanh code uses its known range and <paramref name="bits"/>.
    /// <paramref name="bits"/>, when given, overrides the file's bits (the ranges stay). The model id is the file's.
    /// </summary>
    public static PacketCodec Load(string weightsPath, IAutoencoder model, int? bits = null)
        => Load(weightsPath, model, bits, out _);

    /// <inheritdoc cref="Load(string, IAutoencoder, int?)"/>
    public static PacketCodec Load(string weightsPath, IAutoencoder model, int? bits, out Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(weightsPath);
        ArgumentNullException.ThrowIfNull(model);
        byte[] bytes = WeightFile.ReadAllBytes(weightsPath);
        normalization = WeightFile.Load(bytes, model, weightsPath);
        WeightFileData data = WeightFile.Parse(bytes, weightsPath);
        CodeQuantizer quantizer = QuantizerOf(data, model.Topology, bits)
            ?? throw new ArgumentException(bits is null
                ? $"Weight file '{weightsPath}' has no code quantisation (no 'qant' section); train with --code-bits 8|16, or give the bits (a sigmoid or tanh code has a known range)."
                : $"Weight file '{weightsPath}' has no code range for {model.Topology.Name}'s {model.Topology.Layers[model.Topology.CodeLayerIndex].Activation} code; train with --code-bits to learn one.");
        return new PacketCodec(model, quantizer, PacketFormat.ModelId(data.Checksum));
    }

    /// <summary>The quantiser a weight file describes, or null (no <c>qant</c> section and no known range or no bits).</summary>
    internal static CodeQuantizer? QuantizerOf(WeightFileData data, ModelTopology topology, int? bits)
    {
        if (data.CodecBits != 0)
        {
            return new CodeQuantizer(bits ?? data.CodecBits, data.CodecMin, data.CodecMax);
        }

        return bits is null ? null : CodeQuantizer.ForActivation(topology.Layers[topology.CodeLayerIndex].Activation, topology.CodeSize, bits.Value);
    }

    /// <summary>
    /// Encodes <paramref name="input"/> (normalised, InputSize floats) into one packet of <see cref="PacketLength"/> bytes,
    /// with the model's portable encoder: the same bytes a device's <c>EncodePacket</c> produces. Allocates nothing.
    /// </summary>
    public void Encode(ReadOnlySpan<float> input, Span<byte> packet)
    {
        if (packet.Length != PacketLength)
        {
            throw new ArgumentException($"Expected {PacketLength} bytes in 'packet' but found {packet.Length}.", nameof(packet));
        }

        Model.EncodePortable(input, _code);
        WritePacket(_code, packet);
    }

    /// <summary>Packs an already computed code into a packet.</summary>
    public void WritePacket(ReadOnlySpan<float> code, Span<byte> packet)
    {
        if (packet.Length != PacketLength)
        {
            throw new ArgumentException($"Expected {PacketLength} bytes in 'packet' but found {packet.Length}.", nameof(packet));
        }

        packet[0] = PacketFormat.HeaderByte(Quantizer.Bits);
        packet[1] = (byte)ModelId;
        packet[2] = (byte)(ModelId >> 8);
        Quantizer.Pack(code, packet.Slice(PacketFormat.HeaderLength, Quantizer.PayloadBytes));
        packet[^1] = PacketFormat.Crc8(packet[..^1]);
    }

    /// <summary>Checks <paramref name="packet"/> and writes its dequantised code; throws <see cref="PacketException"/> for a bad packet.</summary>
    public void DecodeCode(ReadOnlySpan<byte> packet, Span<float> code)
    {
        Check(packet, -1);
        Quantizer.Unpack(packet.Slice(PacketFormat.HeaderLength, Quantizer.PayloadBytes), code);
    }

    /// <summary>Checks <paramref name="packet"/> and writes the reconstruction (normalised, InputSize floats): Decode(dequantised code). Allocates nothing.</summary>
    public void Decode(ReadOnlySpan<byte> packet, Span<float> reconstruction) => Decode(packet, reconstruction, -1);

    /// <summary>
    /// Decodes <paramref name="packets"/>, whole packets back to back, into <paramref name="reconstructions"/>
    /// (count × InputSize floats). Every packet is checked before any is decoded; returns the count.
    /// </summary>
    public int DecodeBatch(ReadOnlySpan<byte> packets, Span<float> reconstructions)
    {
        int length = PacketLength;
        int count = packets.Length / length;
        if (packets.Length % length != 0)
        {
            throw new PacketException(PacketErrorReason.Truncated, Invariant($"{packets.Length} bytes are not a whole number of {length}-byte packets: packet {count} is cut off after {packets.Length % length} bytes")) { PacketIndex = count };
        }

        int width = Model.Topology.InputSize;
        if (reconstructions.Length != count * width)
        {
            throw new ArgumentException($"Expected {count * width} floats in 'reconstructions' for {count} packets but found {reconstructions.Length}.", nameof(reconstructions));
        }

        for (int i = 0; i < count; i++)
        {
            Check(packets.Slice(i * length, length), i);
        }

        for (int i = 0; i < count; i++)
        {
            Decode(packets.Slice(i * length, length), reconstructions.Slice(i * width, width), i);
        }

        return count;
    }

    /// <summary>Reads packets back to back from <paramref name="stream"/> and yields each reconstruction (a new array each).</summary>
    public IEnumerable<float[]> DecodeStream(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return DecodeStreamIterator(new PacketReader(stream, PacketLength));
    }

    private IEnumerable<float[]> DecodeStreamIterator(PacketReader reader)
    {
        var packet = new byte[PacketLength];
        while (reader.TryRead(packet))
        {
            var output = new float[Model.Topology.InputSize];
            Decode(packet, output, reader.PacketsRead - 1);
            yield return output;
        }
    }

    /// <summary>The model id and bits a packet claims, without checking it against this codec (for messages and tools).</summary>
    public static string DescribeHeader(ReadOnlySpan<byte> packet)
        => packet.Length < PacketFormat.HeaderLength ? "(no header)" : Invariant($"header 0x{packet[0]:X2}, model id 0x{packet[1] | (packet[2] << 8):X4}");

    private void Decode(ReadOnlySpan<byte> packet, Span<float> reconstruction, long index)
    {
        Check(packet, index);
        Quantizer.Unpack(packet.Slice(PacketFormat.HeaderLength, Quantizer.PayloadBytes), _code);
        Model.Decode(_code, reconstruction);
    }

    /// <summary>Length, then check byte, then version, bits and model id: the first failure decides the reason.</summary>
    private void Check(ReadOnlySpan<byte> packet, long index)
    {
        int length = PacketLength;
        string where = index < 0 ? "packet" : Invariant($"packet {index}");
        if (packet.Length < length)
        {
            throw new PacketException(PacketErrorReason.Truncated, Invariant($"{where} is truncated: {packet.Length} bytes, a packet of this model is {length}")) { PacketIndex = index };
        }

        if (packet.Length > length)
        {
            throw new PacketException(PacketErrorReason.TooLong, Invariant($"{where} is {packet.Length} bytes, a packet of this model is {length} ({packet.Length - length} extra)")) { PacketIndex = index };
        }

        byte stored = packet[length - 1];
        byte computed = PacketFormat.Crc8(packet[..(length - 1)]);
        if (stored != computed)
        {
            throw new PacketException(PacketErrorReason.ChecksumMismatch, Invariant($"{where} fails its check byte: stored 0x{stored:X2}, computed 0x{computed:X2} (corrupted, or not an EdgeAe packet)")) { PacketIndex = index };
        }

        int version = packet[0] >> 4;
        if (version != PacketFormat.Version)
        {
            throw new PacketException(PacketErrorReason.UnsupportedVersion, Invariant($"{where} has format version {version} (header 0x{packet[0]:X2}); this EdgeAe reads version {PacketFormat.Version}")) { PacketIndex = index };
        }

        int bitsCode = packet[0] & 0x0F;
        if (packet[0] != PacketFormat.HeaderByte(Quantizer.Bits))
        {
            string bits = bitsCode switch { 1 => "8", 2 => "16", _ => Invariant($"an unknown number of (code {bitsCode})") };
            throw new PacketException(PacketErrorReason.BitsMismatch, Invariant($"{where} carries {bits} bits per code value; this codec expects {Quantizer.Bits}")) { PacketIndex = index };
        }

        int id = packet[1] | (packet[2] << 8);
        if (id != ModelId)
        {
            throw new PacketException(PacketErrorReason.ModelMismatch, Invariant($"{where} was made by model id 0x{id:X4}, this codec's model ({Model.Topology.Name}) is 0x{ModelId:X4}; decode it with the weight file that encoded it")) { PacketIndex = index };
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
