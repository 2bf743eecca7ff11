using System.Buffers.Binary;
using System.Globalization;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.IO.Format;

namespace EdgeAe.Compression;

/// <summary>
/// Turns inputs into packets and packets back into reconstructions with one model, one quantiser and one model id
/// (docs/packet-format.md). The server side of the codec; a firmware model generated with <c>CodeBits</c> writes
/// the same bytes with its own <c>EncodePacket</c>. Writes version-1 packets, version-2 (sequenced) packets when given a
/// sequence number, and version-3 (scored) packets that also carry the anomaly score of the input; reads all three,
/// the header's version deciding the length. Not thread-safe (it reuses one code buffer and the model's workspace).
/// </summary>
public sealed class PacketCodec
{
    private readonly float[] _code;
    private float[]? _codes; // DecodeBatch: the codes of one model batch, made on first use

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

    /// <summary>Bytes per version-1 packet: 4 + CodeSize·Bits/8.</summary>
    public int PacketLength => PacketFormat.Overhead + Quantizer.PayloadBytes;

    /// <summary>Bytes per version-2 (sequenced) packet: 8 + CodeSize·Bits/8.</summary>
    public int SequencedPacketLength => PacketFormat.SequencedOverhead + Quantizer.PayloadBytes;

    /// <summary>Bytes per version-3 (scored) packet: 12 + CodeSize·Bits/8.</summary>
    public int ScoredPacketLength => PacketFormat.ScoredOverhead + Quantizer.PayloadBytes;

    /// <summary>Bytes per packet of <paramref name="version"/> (1, 2 or 3).</summary>
    public int PacketLengthOf(int version) => PacketFormat.OverheadOf(version) + Quantizer.PayloadBytes;

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
        CheckLength(packet, PacketLength);
        Model.EncodePortable(input, _code);
        WritePacket(_code, packet);
    }

    /// <summary>
    /// Encodes <paramref name="input"/> into one version-2 packet of <see cref="SequencedPacketLength"/> bytes carrying
    /// <paramref name="sequence"/>, the device's number for this sample (a server stores each (device, sequence) once).
    /// The same bytes a device's <c>EncodePacket(input, sequence, packet)</c> produces. Allocates nothing.
    /// </summary>
    public void Encode(ReadOnlySpan<float> input, uint sequence, Span<byte> packet)
    {
        CheckLength(packet, SequencedPacketLength);
        Model.EncodePortable(input, _code);
        WritePacket(_code, sequence, packet);
    }

    /// <summary>
    /// Encodes <paramref name="input"/> into one version-3 (scored) packet of <see cref="ScoredPacketLength"/> bytes: a
    /// version-2 packet plus <paramref name="score"/>, the model's anomaly score of <paramref name="input"/> with the
    /// portable arithmetic (<see cref="IAutoencoder.ScorePortable"/>) — the input-space score a server cannot compute from
    /// the code. The same bytes a device's <c>EncodePacket(input, sequence, packet, out score)</c> produces. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">The score of <paramref name="input"/> is not finite (a NaN or infinite input value): a scored packet carries a finite score.</exception>
    public void Encode(ReadOnlySpan<float> input, uint sequence, Span<byte> packet, out float score)
    {
        CheckLength(packet, ScoredPacketLength);
        score = Model.ScorePortable(input);
        if (!float.IsFinite(score))
        {
            throw new ArgumentException(Invariant($"The anomaly score of 'input' is {score} (an input value is NaN or infinite); a scored packet carries a finite score: check the input, or send it as a version-2 packet."), nameof(input));
        }

        Model.EncodePortable(input, _code);
        WritePacket(_code, sequence, score, packet);
    }

    /// <summary>Packs an already computed code into a version-1 packet.</summary>
    public void WritePacket(ReadOnlySpan<float> code, Span<byte> packet)
    {
        CheckLength(packet, PacketLength);
        WriteHeader(packet, PacketFormat.Version);
        Quantizer.Pack(code, packet.Slice(PacketFormat.HeaderLength, Quantizer.PayloadBytes));
        packet[^1] = PacketFormat.Crc8(packet[..^1]);
    }

    /// <summary>Packs an already computed code into a version-2 packet carrying <paramref name="sequence"/>.</summary>
    public void WritePacket(ReadOnlySpan<float> code, uint sequence, Span<byte> packet)
    {
        CheckLength(packet, SequencedPacketLength);
        WriteHeader(packet, PacketFormat.SequencedVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(packet.Slice(PacketFormat.HeaderLength, 4), sequence);
        Quantizer.Pack(code, packet.Slice(PacketFormat.SequencedHeaderLength, Quantizer.PayloadBytes));
        packet[^1] = PacketFormat.Crc8(packet[..^1]);
    }

    /// <summary>Packs an already computed code into a version-3 packet carrying <paramref name="sequence"/> and the device's <paramref name="score"/> (finite).</summary>
    public void WritePacket(ReadOnlySpan<float> code, uint sequence, float score, Span<byte> packet)
    {
        if (!float.IsFinite(score))
        {
            throw new ArgumentOutOfRangeException(nameof(score), score, "A scored (version-3) packet carries a finite anomaly score.");
        }

        CheckLength(packet, ScoredPacketLength);
        WriteHeader(packet, PacketFormat.ScoredVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(packet.Slice(PacketFormat.HeaderLength, 4), sequence);
        BinaryPrimitives.WriteSingleLittleEndian(packet.Slice(PacketFormat.SequencedHeaderLength, 4), score);
        Quantizer.Pack(code, packet.Slice(PacketFormat.ScoredHeaderLength, Quantizer.PayloadBytes));
        packet[^1] = PacketFormat.Crc8(packet[..^1]);
    }

    /// <summary>
    /// Checks <paramref name="packet"/> (any version) without decoding it and returns what its header says; throws
    /// <see cref="PacketException"/> for a bad packet, with the first failing check as its reason (docs/packet-format.md).
    /// </summary>
    public PacketInfo Check(ReadOnlySpan<byte> packet) => Check(packet, -1);

    /// <summary>Checks <paramref name="packet"/> and writes its dequantised code; throws <see cref="PacketException"/> for a bad packet.</summary>
    public PacketInfo DecodeCode(ReadOnlySpan<byte> packet, Span<float> code)
    {
        PacketInfo info = Check(packet, -1);
        Unpack(packet, info.Version, code);
        return info;
    }

    /// <summary>Checks <paramref name="packet"/> and writes the reconstruction (normalised, InputSize floats): Decode(dequantised code). Allocates nothing.</summary>
    public PacketInfo Decode(ReadOnlySpan<byte> packet, Span<float> reconstruction) => Decode(packet, reconstruction, -1);

    /// <summary>
    /// Decodes <paramref name="packets"/>, whole packets back to back (each framed by its header's version), into
    /// <paramref name="reconstructions"/> (count × InputSize floats). Every packet is checked before any is decoded;
    /// returns the count.
    /// </summary>
    public int DecodeBatch(ReadOnlySpan<byte> packets, Span<float> reconstructions)
    {
        int count = 0;
        int previous = PacketLength;
        for (int offset = 0; offset < packets.Length; count++)
        {
            int length = FrameLength(packets[offset], previous);
            if (offset + length > packets.Length)
            {
                throw new PacketException(PacketErrorReason.Truncated, Invariant($"{packets.Length} bytes do not end on a packet boundary: packet {count} is cut off after {packets.Length - offset} of {length} bytes")) { PacketIndex = count };
            }

            Check(packets.Slice(offset, length), count);
            offset += length;
            previous = length;
        }

        int width = Model.Topology.InputSize;
        if (reconstructions.Length != count * width)
        {
            throw new ArgumentException($"Expected {count * width} floats in 'reconstructions' for {count} packets but found {reconstructions.Length}.", nameof(reconstructions));
        }

        DecodeChecked(packets, count, reconstructions);
        return count;
    }

    /// <summary>
    /// A codec with this one's quantiser and model id over <paramref name="model"/> (an instance of the same model, holding
    /// the same parameters, e.g. from <see cref="ParallelInference.Replicas"/>): one per thread for the parallel
    /// <see cref="DecodeBatch(IReadOnlyList{PacketCodec}, ReadOnlyMemory{byte}, Memory{float})"/>.
    /// </summary>
    public PacketCodec WithModel(IAutoencoder model) => new(model, Quantizer, ModelId);

    /// <summary>
    /// <see cref="DecodeBatch(ReadOnlySpan{byte}, Span{float})"/> split across threads, one per codec of
    /// <paramref name="codecs"/> (each over its own model instance, see <see cref="WithModel"/>): every packet is
    /// checked first, in order, as the sequential call does (the same exception for a bad packet), then contiguous
    /// ranges of packets are decoded at once. The reconstructions are exactly the sequential ones. Returns the count.
    /// </summary>
    public static int DecodeBatch(IReadOnlyList<PacketCodec> codecs, ReadOnlyMemory<byte> packets, Memory<float> reconstructions)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        if (codecs.Count == 0)
        {
            throw new ArgumentException("At least one codec is needed (one per thread).", nameof(codecs));
        }

        PacketCodec first = codecs[0];
        for (int i = 1; i < codecs.Count; i++)
        {
            PacketCodec other = codecs[i] ?? throw new ArgumentNullException(nameof(codecs));
            if (other.ModelId != first.ModelId || other.PacketLength != first.PacketLength || other.Model.Topology.ToString() != first.Model.Topology.ToString())
            {
                throw new ArgumentException($"Codec {i} is not a replica of codec 0 (another model id, quantiser or model); make them with WithModel.", nameof(codecs));
            }

            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(other.Model, codecs[j].Model))
                {
                    throw new ArgumentException($"Codecs {j} and {i} share a model instance; each thread needs its own (see ParallelInference.Replicas).", nameof(codecs));
                }
            }
        }

        var offsets = new List<int>();
        int previous = first.PacketLength;
        ReadOnlySpan<byte> all = packets.Span;
        for (int offset = 0; offset < all.Length;)
        {
            int count = offsets.Count;
            int length = first.FrameLength(all[offset], previous);
            if (offset + length > all.Length)
            {
                throw new PacketException(PacketErrorReason.Truncated, Invariant($"{all.Length} bytes do not end on a packet boundary: packet {count} is cut off after {all.Length - offset} of {length} bytes")) { PacketIndex = count };
            }

            first.Check(all.Slice(offset, length), count);
            offsets.Add(offset);
            offset += length;
            previous = length;
        }

        int width = first.Model.Topology.InputSize;
        int packetCount = offsets.Count;
        if (reconstructions.Length != packetCount * width)
        {
            throw new ArgumentException($"Expected {packetCount * width} floats in 'reconstructions' for {packetCount} packets but found {reconstructions.Length}.", nameof(reconstructions));
        }

        ParallelInference.Run(codecs.Count, packetCount, (codec, start, end) =>
        {
            codecs[codec].DecodeChecked(packets.Span[offsets[start]..], end - start, reconstructions.Span.Slice(start * width, (end - start) * width));
        });
        return packetCount;
    }

    /// <summary>Reads packets back to back from <paramref name="stream"/> (each framed by its header's version) and yields each reconstruction (a new array each).</summary>
    public IEnumerable<float[]> DecodeStream(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return DecodeStreamIterator(new PacketReader(stream, PacketLength, SequencedPacketLength, header => FrameLength(header, 0)));
    }

    private IEnumerable<float[]> DecodeStreamIterator(PacketReader reader)
    {
        var packet = new byte[PacketFormat.ScoredOverhead + (Quantizer.CodeSize * 2)]; // the longest frame: a scored 16-bit packet
        while (reader.TryRead(packet, out int length))
        {
            var output = new float[Model.Topology.InputSize];
            Decode(packet.AsSpan(0, length), output, reader.PacketsRead - 1);
            yield return output;
        }
    }

    /// <summary>
    /// The length of the packet that starts with <paramref name="header"/>: its version's, with the code at the bits the
    /// header names (so that a packet of other bits is framed whole and reported as <see cref="PacketErrorReason.BitsMismatch"/>,
    /// not cut into garbage); <paramref name="otherwise"/> for an unknown version (the checks then report it).
    /// </summary>
    private int FrameLength(byte header, int otherwise)
    {
        int version = PacketFormat.VersionOf(header);
        return PacketFormat.IsKnownVersion(version) ? PacketFormat.OverheadOf(version) + (Quantizer.CodeSize * ((BitsNamed(header) ?? Quantizer.Bits) / 8)) : otherwise;
    }

    /// <summary>The bits per code value a header's low nibble names (1: 8, 2: 16), or null for another value.</summary>
    private static int? BitsNamed(byte header) => (header & 0x0F) switch { 1 => 8, 2 => 16, _ => null };

    private void WriteHeader(Span<byte> packet, int version)
    {
        packet[0] = PacketFormat.HeaderByte(Quantizer.Bits, version);
        packet[1] = (byte)ModelId;
        packet[2] = (byte)(ModelId >> 8);
    }

    private static void CheckLength(Span<byte> packet, int length)
    {
        if (packet.Length != length)
        {
            throw new ArgumentException($"Expected {length} bytes in 'packet' but found {packet.Length}.", nameof(packet));
        }
    }

    /// <summary>The model id and bits a packet claims, without checking it against this codec (for messages and tools).</summary>
    public static string DescribeHeader(ReadOnlySpan<byte> packet)
        => packet.Length < PacketFormat.HeaderLength ? "(no header)" : Invariant($"header 0x{packet[0]:X2}, model id 0x{packet[1] | (packet[2] << 8):X4}");

    /// <summary>
    /// Decodes <paramref name="count"/> packets already checked, back to back from the start of <paramref name="packets"/>,
    /// a model batch at a time: the codes of up to MaxBatchSize packets, then one <see cref="IAutoencoder.DecodeBatch"/> —
    /// each reconstruction is <see cref="Decode(ReadOnlySpan{byte}, Span{float})"/>'s bit for bit.
    /// </summary>
    private void DecodeChecked(ReadOnlySpan<byte> packets, int count, Span<float> reconstructions)
    {
        int width = Model.Topology.InputSize, codeSize = Quantizer.CodeSize, block = Model.Topology.MaxBatchSize;
        float[] codes = _codes ??= new float[block * codeSize];
        for (int done = 0, offset = 0; done < count;)
        {
            int n = Math.Min(block, count - done);
            for (int k = 0; k < n; k++)
            {
                int length = FrameLength(packets[offset], PacketLength);
                Unpack(packets.Slice(offset, length), PacketFormat.VersionOf(packets[offset]), codes.AsSpan(k * codeSize, codeSize));
                offset += length;
            }

            Model.DecodeBatch(codes.AsSpan(0, n * codeSize), reconstructions.Slice(done * width, n * width));
            done += n;
        }
    }

    /// <summary>The dequantised code of a packet of <paramref name="version"/> (its payload follows that version's header).</summary>
    private void Unpack(ReadOnlySpan<byte> packet, int version, Span<float> code)
        => Quantizer.Unpack(packet.Slice(PacketFormat.HeaderLengthOf(version), Quantizer.PayloadBytes), code);

    private PacketInfo Decode(ReadOnlySpan<byte> packet, Span<float> reconstruction, long index)
    {
        PacketInfo info = Check(packet, index);
        Unpack(packet, info.Version, _code);
        Model.Decode(_code, reconstruction);
        return info;
    }

    /// <summary>
    /// The header's version picks the expected length; then length, check byte, bits and model id: the first failure
    /// decides the reason. A header naming an unknown version is a checksum failure unless the last byte is the CRC-8 of
    /// the others (garbage is reported as garbage, a well-formed packet of a newer format as an unsupported version).
    /// </summary>
    private PacketInfo Check(ReadOnlySpan<byte> packet, long index)
    {
        string where = index < 0 ? "packet" : Invariant($"packet {index}");
        if (packet.IsEmpty)
        {
            throw new PacketException(PacketErrorReason.Truncated, Invariant($"{where} is truncated: 0 bytes, a packet of this model is {PacketLength} (version 1), {SequencedPacketLength} (version 2) or {ScoredPacketLength} (version 3)")) { PacketIndex = index };
        }

        int version = PacketFormat.VersionOf(packet[0]);
        if (!PacketFormat.IsKnownVersion(version))
        {
            if (packet.Length >= PacketFormat.Overhead && PacketFormat.Crc8(packet[..^1]) == packet[^1])
            {
                throw new PacketException(PacketErrorReason.UnsupportedVersion, Invariant($"{where} has format version {version} (header 0x{packet[0]:X2}); this EdgeAe reads versions {PacketFormat.Version} to {PacketFormat.NewestVersion}")) { PacketIndex = index };
            }

            throw new PacketException(PacketErrorReason.ChecksumMismatch, Invariant($"{where} fails its check byte and names no known format version (header 0x{packet[0]:X2}): corrupted, or not an EdgeAe packet")) { PacketIndex = index };
        }

        // A well-formed packet of the other bits (its length and check byte fit what its header names): made with other --bits.
        if (BitsNamed(packet[0]) is int named && named != Quantizer.Bits
            && packet.Length == PacketFormat.OverheadOf(version) + (Quantizer.CodeSize * (named / 8)) && PacketFormat.Crc8(packet[..^1]) == packet[^1])
        {
            throw new PacketException(PacketErrorReason.BitsMismatch, Invariant($"{where} carries {named} bits per code value; this codec expects {Quantizer.Bits}")) { PacketIndex = index };
        }

        int length = PacketLengthOf(version);
        string kind = version switch
        {
            PacketFormat.Version => "a packet",
            PacketFormat.SequencedVersion => "a sequenced (version-2) packet",
            _ => "a scored (version-3) packet",
        };
        if (packet.Length < length)
        {
            throw new PacketException(PacketErrorReason.Truncated, Invariant($"{where} is truncated: {packet.Length} bytes, {kind} of this model is {length}")) { PacketIndex = index };
        }

        if (packet.Length > length)
        {
            throw new PacketException(PacketErrorReason.TooLong, Invariant($"{where} is {packet.Length} bytes, {kind} of this model is {length} ({packet.Length - length} extra)")) { PacketIndex = index };
        }

        byte stored = packet[length - 1];
        byte computed = PacketFormat.Crc8(packet[..(length - 1)]);
        if (stored != computed)
        {
            throw new PacketException(PacketErrorReason.ChecksumMismatch, Invariant($"{where} fails its check byte: stored 0x{stored:X2}, computed 0x{computed:X2} (corrupted, or not an EdgeAe packet)")) { PacketIndex = index };
        }

        int bitsCode = packet[0] & 0x0F;
        if (packet[0] != PacketFormat.HeaderByte(Quantizer.Bits, version))
        {
            string bits = bitsCode switch { 1 => "8", 2 => "16", _ => Invariant($"an unknown number of (code {bitsCode})") };
            throw new PacketException(PacketErrorReason.BitsMismatch, Invariant($"{where} carries {bits} bits per code value; this codec expects {Quantizer.Bits}")) { PacketIndex = index };
        }

        int id = packet[1] | (packet[2] << 8);
        if (id != ModelId)
        {
            throw new PacketException(PacketErrorReason.ModelMismatch, Invariant($"{where} was made by model id 0x{id:X4}, this codec's model ({Model.Topology.Name}) is 0x{ModelId:X4}; decode it with the weight file that encoded it")) { PacketIndex = index };
        }

        uint sequence = version == PacketFormat.Version ? 0 : PacketFormat.SequenceOf(packet);
        if (version != PacketFormat.ScoredVersion)
        {
            return new PacketInfo(version, Quantizer.Bits, (ushort)id, sequence);
        }

        // Writers refuse a non-finite score (docs/packet-format.md): one that arrives was not written by EdgeAe.
        float score = PacketFormat.DeviceScoreOf(packet);
        if (!float.IsFinite(score))
        {
            throw new PacketException(PacketErrorReason.InvalidScore, Invariant($"{where} carries a device score of {score}; a scored (version-3) packet carries a finite score")) { PacketIndex = index };
        }

        return new PacketInfo(version, Quantizer.Bits, (ushort)id, sequence, score);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
