// The EdgeAe weight file format (.eaw), version 1: bytes <-> WeightFileData.
// docs/weight-file-format.md describes the layout byte by byte.
//
// This one file compiles both in the net10.0 runtime and in the netstandard2.0 source generator
// (which links it to bake weights into code). Keep it free of APIs newer than netstandard2.0:
// no BinaryPrimitives, no BitConverter.SingleToInt32Bits, no float.IsFinite, no System.IO.Hashing,
// no ArgumentNullException.ThrowIfNull, no init accessors or records.
#nullable enable

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeAe.IO.Format
{
    /// <summary>Why a byte array is not a readable weight file.</summary>
    internal enum WeightFileFormatErrorKind
    {
        /// <summary>Parsing succeeded.</summary>
        None = 0,

        /// <summary>The magic number is wrong.</summary>
        NotAnEdgeAeFile,

        /// <summary>The format version, or a feature it announces (element type), is not read by this code.</summary>
        UnsupportedVersion,

        /// <summary>The file ends before its declared length.</summary>
        Truncated,

        /// <summary>The stored CRC-32 differs from the computed one.</summary>
        ChecksumMismatch,

        /// <summary>A weight, offset or scale is NaN or infinite.</summary>
        NonFiniteValue,

        /// <summary>Anything else: bad codes, inconsistent lengths, trailing bytes.</summary>
        Malformed,
    }

    /// <summary>One layer of the topology fingerprint (codes are those of the runtime enums).</summary>
    internal readonly struct LayerFingerprint
    {
        public LayerFingerprint(byte role, int inputWidth, int width, byte activation)
        {
            Role = role;
            InputWidth = inputWidth;
            Width = width;
            Activation = activation;
        }

        /// <summary>0 encoder, 1 code, 2 decoder, 3 output.</summary>
        public byte Role { get; }

        public int InputWidth { get; }

        public int Width { get; }

        /// <summary>0 linear, 1 sigmoid, 2 tanh, 3 relu.</summary>
        public byte Activation { get; }
    }

    /// <summary>One stored tensor: which layer it belongs to, whether it is W or b, and how many values.</summary>
    internal readonly struct TensorEntry
    {
        public const byte WeightKind = 0;
        public const byte BiasKind = 1;

        public TensorEntry(int layerIndex, byte kind, int count)
        {
            LayerIndex = layerIndex;
            Kind = kind;
            Count = count;
        }

        public int LayerIndex { get; }

        /// <summary><see cref="WeightKind"/> (W) or <see cref="BiasKind"/> (b).</summary>
        public byte Kind { get; }

        public int Count { get; }
    }

    /// <summary>The content of a weight file as plain data.</summary>
    internal sealed class WeightFileData
    {
        public int FormatVersion { get; set; } = WeightFileFormat.Version;

        public int InputWidth { get; set; }

        /// <summary>0 binary cross-entropy, 1 squared error.</summary>
        public byte Loss { get; set; }

        public bool TiedWeights { get; set; }

        public LayerFingerprint[] Layers { get; set; } = new LayerFingerprint[0];

        /// <summary>0 none, 1 scale, 2 standardise.</summary>
        public byte NormalizationKind { get; set; }

        public float[] NormalizationOffset { get; set; } = new float[0];

        public float[] NormalizationScale { get; set; } = new float[0];

        /// <summary>1 float32; 2 an int8 model (<see cref="Int8"/> holds it, <see cref="Parameters"/> is empty).</summary>
        public byte ElementType { get; set; } = WeightFileFormat.ElementTypeFloat32;

        /// <summary>The int8 model of element type 2 (null for float32).</summary>
        public Int8Data? Int8 { get; set; }

        /// <summary>The stored tensors in file order (the generated buffer's order by offset).</summary>
        public TensorEntry[] Tensors { get; set; } = new TensorEntry[0];

        /// <summary>The values of <see cref="Tensors"/>, concatenated, without padding.</summary>
        public float[] Parameters { get; set; } = new float[0];

        /// <summary>The CRC-32 stored in the file (set by parsing and by writing).</summary>
        public uint Checksum { get; set; }

        /// <summary>Total length of the file in bytes (set by parsing and by writing).</summary>
        public int FileLength { get; set; }

        /// <summary>Bits per code value of the packet codec (8 or 16; 0: no <c>qant</c> section).</summary>
        public int CodecBits { get; set; }

        /// <summary>The lower end of each code value's quantisation range (<c>qant</c> section; empty without).</summary>
        public float[] CodecMin { get; set; } = new float[0];

        /// <summary>The upper end of each code value's quantisation range (<c>qant</c> section; empty without).</summary>
        public float[] CodecMax { get; set; } = new float[0];

        /// <summary>True when the file has an anomaly threshold (<c>anom</c> section).</summary>
        public bool HasAnomalyThreshold { get; set; }

        /// <summary>The anomaly threshold: a score strictly above it is anomalous (<c>anom</c> section).</summary>
        public float AnomalyThreshold { get; set; }

        /// <summary>How the threshold was chosen: 0 manual, 1 percentile, 2 mean + K·σ, 3 gamma quantile, 4 false-alarm rate.</summary>
        public byte AnomalyMethod { get; set; }

        /// <summary>The method's parameter (P, K, Q or R).</summary>
        public double AnomalyParameter { get; set; }

        /// <summary>How many scores the threshold was calibrated on.</summary>
        public int AnomalySamples { get; set; }
        /// <summary>Components of the stored PCA baseline (<c>pcab</c> section; 0: none).</summary>
        public int BaselineComponents { get; set; }

        /// <summary>Samples the PCA baseline was fitted on.</summary>
        public int BaselineSamples { get; set; }

        /// <summary>Total variance of the baseline's training data.</summary>
        public float BaselineTotalVariance { get; set; }

        /// <summary>The baseline's mean, one value per input (empty without).</summary>
        public float[] BaselineMean { get; set; } = new float[0];

        /// <summary>Variance along each baseline component, largest first (empty without).</summary>
        public float[] BaselineVariances { get; set; } = new float[0];

        /// <summary>The baseline's components, row-major components × inputs (empty without).</summary>
        public float[] BaselineBasis { get; set; } = new float[0];
    }

    /// <summary>Reads and writes version 1 of the .eaw format.</summary>
    internal static partial class WeightFileFormat
    {
        public const ushort Version = 1;
        public const byte ElementTypeFloat32 = 1;
        public const byte ElementTypeInt8 = 2;
        public const int PreambleLength = 12;
        public const int SectionHeaderLength = 8;
        public const int ChecksumLength = 4;

        /// <summary>The smallest possible file: preamble and checksum.</summary>
        public const int MinimumLength = PreambleLength + ChecksumLength;

        public const string TopologyTag = "TOPO";
        public const string NormalizationTag = "NORM";
        public const string ParametersTag = "PARM";

        /// <summary>The optional code-quantisation section (lower-case: readers that do not know it skip it).</summary>
        public const string CodecTag = "qant";
        private const int CodecFixedLength = 8;

        /// <summary>The optional anomaly-threshold section (docs/anomaly.md): method, threshold, parameter, sample count.</summary>
        public const string AnomalyTag = "anom";
        private const int AnomalyLength = 20;

        /// <summary>Highest calibration-method code this EdgeAe knows.</summary>
        public const byte AnomalyMethodMax = 4;
        /// <summary>The optional PCA baseline section (lower-case: readers that do not know it skip it).</summary>
        public const string BaselineTag = "pcab";
        private const int BaselineFixedLength = 16;

        private const int TopologyFixedLength = 8;
        private const int LayerRecordLength = 12;
        private const int NormalizationFixedLength = 8;
        private const int ParametersFixedLength = 12;
        private const int TensorRecordLength = 8;

        private static readonly byte[] Magic = { (byte)'E', (byte)'A', (byte)'E', (byte)'W' };
        private static readonly string[] RoleNames = { "encoder", "code", "decoder", "output" };
        private static readonly uint[] CrcTable = CreateCrcTable();

        /// <summary>Serialises <paramref name="data"/>; throws <see cref="ArgumentException"/> when its arrays are inconsistent.</summary>
        public static byte[] Write(WeightFileData data)
        {
            if (data == null)
            {
                throw new ArgumentNullException(nameof(data));
            }

            LayerFingerprint[] layers = data.Layers ?? throw new ArgumentException("Layers is null.", nameof(data));
            float[] offset = data.NormalizationOffset ?? throw new ArgumentException("NormalizationOffset is null.", nameof(data));
            float[] scale = data.NormalizationScale ?? throw new ArgumentException("NormalizationScale is null.", nameof(data));
            TensorEntry[] tensors = data.Tensors ?? throw new ArgumentException("Tensors is null.", nameof(data));
            float[] parameters = data.Parameters ?? throw new ArgumentException("Parameters is null.", nameof(data));
            if (offset.Length != scale.Length)
            {
                throw new ArgumentException($"Expected as many normalisation scales as offsets ({offset.Length}) but found {scale.Length}.", nameof(data));
            }

            if (layers.Length > ushort.MaxValue)
            {
                throw new ArgumentException($"At most {ushort.MaxValue} layers fit in a weight file, not {layers.Length}.", nameof(data));
            }

            if (data.ElementType != ElementTypeFloat32 && data.ElementType != ElementTypeInt8)
            {
                throw new ArgumentException($"Only element types {ElementTypeFloat32} (float32) and {ElementTypeInt8} (int8) can be written, not {data.ElementType}.", nameof(data));
            }

            bool int8 = data.ElementType == ElementTypeInt8;

            long total = 0;
            foreach (TensorEntry tensor in tensors)
            {
                total += tensor.Count;
            }

            if (!int8 && total != parameters.Length)
            {
                throw new ArgumentException($"The tensors hold {total} values but {parameters.Length} parameters were given.", nameof(data));
            }

            long topologyLength = TopologyFixedLength + (long)LayerRecordLength * layers.Length;
            long normalizationLength = NormalizationFixedLength + 8L * offset.Length;
            long parametersLength = int8 ? Int8ParametersLength(data) : ParametersFixedLength + (long)TensorRecordLength * tensors.Length + 4L * parameters.Length;
            float[] codecMin = data.CodecMin ?? new float[0];
            float[] codecMax = data.CodecMax ?? new float[0];
            if (data.CodecBits != 0 && (codecMin.Length != codecMax.Length || codecMin.Length == 0))
            {
                throw new ArgumentException($"The code range needs as many maxima as minima, at least one ({codecMin.Length} minima, {codecMax.Length} maxima).", nameof(data));
            }

            long codecLength = data.CodecBits == 0 ? 0 : CodecFixedLength + 8L * codecMin.Length;
            long baselineLength = BaselineLength(data);
            long fileLength = PreambleLength + (3L * SectionHeaderLength) + topologyLength + normalizationLength + parametersLength + ChecksumLength
                + (data.CodecBits == 0 ? 0 : SectionHeaderLength + codecLength)
                + (data.HasAnomalyThreshold ? SectionHeaderLength + AnomalyLength : 0)
                + (baselineLength == 0 ? 0 : SectionHeaderLength + baselineLength);
            if (fileLength > int.MaxValue)
            {
                throw new ArgumentException($"A weight file of {fileLength} bytes is too large.", nameof(data));
            }

            var bytes = new byte[fileLength];
            int p = 0;
            Array.Copy(Magic, 0, bytes, 0, Magic.Length);
            p += Magic.Length;
            p = PutU16(bytes, p, Version);
            p = PutU16(bytes, p, 0);
            p = PutU32(bytes, p, (uint)fileLength);

            p = PutTag(bytes, p, TopologyTag, topologyLength);
            p = PutU32(bytes, p, (uint)data.InputWidth);
            bytes[p++] = data.Loss;
            bytes[p++] = data.TiedWeights ? (byte)1 : (byte)0;
            p = PutU16(bytes, p, (ushort)layers.Length);
            foreach (LayerFingerprint layer in layers)
            {
                bytes[p++] = layer.Role;
                bytes[p++] = layer.Activation;
                p = PutU16(bytes, p, 0);
                p = PutU32(bytes, p, (uint)layer.InputWidth);
                p = PutU32(bytes, p, (uint)layer.Width);
            }

            p = PutTag(bytes, p, NormalizationTag, normalizationLength);
            bytes[p++] = data.NormalizationKind;
            p += 3;
            p = PutU32(bytes, p, (uint)offset.Length);
            foreach (float value in offset)
            {
                p = PutF32(bytes, p, value);
            }

            foreach (float value in scale)
            {
                p = PutF32(bytes, p, value);
            }

            p = PutTag(bytes, p, ParametersTag, parametersLength);
            if (int8)
            {
                p = WriteInt8Parameters(bytes, p, data);
            }
            else
            {
                bytes[p++] = data.ElementType;
                p += 3;
                p = PutU32(bytes, p, (uint)tensors.Length);
                p = PutU32(bytes, p, (uint)parameters.Length);
                foreach (TensorEntry tensor in tensors)
                {
                    p = PutU16(bytes, p, (ushort)tensor.LayerIndex);
                    bytes[p++] = tensor.Kind;
                    bytes[p++] = 0;
                    p = PutU32(bytes, p, (uint)tensor.Count);
                }

                foreach (float value in parameters)
                {
                    p = PutF32(bytes, p, value);
                }
            }

            if (data.CodecBits != 0)
            {
                p = PutTag(bytes, p, CodecTag, codecLength);
                bytes[p++] = (byte)data.CodecBits;
                p += 3;
                p = PutU32(bytes, p, (uint)codecMin.Length);
                foreach (float value in codecMin)
                {
                    p = PutF32(bytes, p, value);
                }

                foreach (float value in codecMax)
                {
                    p = PutF32(bytes, p, value);
                }
            }

            if (data.HasAnomalyThreshold)
            {
                p = WriteAnomaly(bytes, p, data);
            }

            if (baselineLength != 0)
            {
                p = PutTag(bytes, p, BaselineTag, baselineLength);
                p = PutU32(bytes, p, (uint)data.BaselineMean.Length);
                p = PutU32(bytes, p, (uint)data.BaselineComponents);
                p = PutU32(bytes, p, (uint)data.BaselineSamples);
                p = PutF32(bytes, p, data.BaselineTotalVariance);
                foreach (float[] values in new[] { data.BaselineMean, data.BaselineVariances, data.BaselineBasis })
                {
                    foreach (float value in values)
                    {
                        p = PutF32(bytes, p, value);
                    }
                }
            }

            uint crc = ComputeCrc32(bytes, 0, p);
            PutU32(bytes, p, crc);
            data.Checksum = crc;
            data.FileLength = bytes.Length;
            return bytes;
        }

        /// <summary>Parses and validates a weight file; never throws.</summary>
        public static bool TryParse(byte[] bytes, out WeightFileData? data, out string error)
            => TryParse(bytes, out data, out _, out error);

        /// <summary>Parses and validates a weight file; never throws. <paramref name="kind"/> classifies the failure.</summary>
        public static bool TryParse(byte[] bytes, out WeightFileData? data, out WeightFileFormatErrorKind kind, out string error)
        {
            data = null;
            try
            {
                error = Parse(bytes, out data, out kind);
            }
            catch (Exception exception)
            {
                // Defence in depth: a bug in the checks above must still surface as a format error.
                data = null;
                kind = WeightFileFormatErrorKind.Malformed;
                error = "internal error while reading the weight file: " + exception.Message;
            }

            if (kind != WeightFileFormatErrorKind.None)
            {
                data = null;
                return false;
            }

            return true;
        }

        /// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF).</summary>
        public static uint ComputeCrc32(byte[] bytes, int offset, int count)
        {
            uint crc = 0xFFFFFFFFu;
            int end = offset + count;
            for (int i = offset; i < end; i++)
            {
                crc = CrcTable[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
            }

            return ~crc;
        }

        /// <summary>The lower-case name of a layer role code ("decoder"), or "role N".</summary>
        public static string RoleName(byte role) => role < RoleNames.Length ? RoleNames[role] : "role " + role.ToString(CultureInfo.InvariantCulture);

        private static string Parse(byte[] bytes, out WeightFileData? data, out WeightFileFormatErrorKind kind)
        {
            data = null;
            if (bytes == null)
            {
                kind = WeightFileFormatErrorKind.Malformed;
                return "no bytes to read";
            }

            int n = bytes.Length;
            for (int i = 0; i < Magic.Length; i++)
            {
                if (i >= n)
                {
                    kind = WeightFileFormatErrorKind.Truncated;
                    return Truncated(n, MinimumLength);
                }

                if (bytes[i] != Magic[i])
                {
                    kind = WeightFileFormatErrorKind.NotAnEdgeAeFile;
                    return "not an EdgeAe weight file (magic " + DescribeMagic(bytes) + ", expected 45-41-45-57 \"EAEW\")";
                }
            }

            if (n < 6)
            {
                kind = WeightFileFormatErrorKind.Truncated;
                return Truncated(n, MinimumLength);
            }

            int version = U16(bytes, 4);
            if (version != Version)
            {
                kind = WeightFileFormatErrorKind.UnsupportedVersion;
                return Invariant($"unsupported format version {version} (this EdgeAe reads version {Version})");
            }

            if (n < MinimumLength)
            {
                kind = WeightFileFormatErrorKind.Truncated;
                return Truncated(n, MinimumLength);
            }

            int flags = U16(bytes, 6);
            uint declared = U32(bytes, 8);
            if (declared > (uint)n)
            {
                kind = WeightFileFormatErrorKind.Truncated;
                return Truncated(n, declared);
            }

            if (declared < MinimumLength)
            {
                kind = WeightFileFormatErrorKind.Malformed;
                return Invariant($"declared file length {declared} at byte 8 is shorter than the smallest weight file ({MinimumLength} bytes)");
            }

            int length = (int)declared;
            int end = length - ChecksumLength;
            uint stored = U32(bytes, end);
            uint computed = ComputeCrc32(bytes, 0, end);
            if (stored != computed)
            {
                kind = WeightFileFormatErrorKind.ChecksumMismatch;
                return Invariant($"checksum mismatch: stored 0x{stored:X8}, computed 0x{computed:X8}");
            }

            if (n > length)
            {
                kind = WeightFileFormatErrorKind.Malformed;
                return Invariant($"{n - length} trailing bytes after the end of the weight file at byte {length}");
            }

            kind = WeightFileFormatErrorKind.Malformed;
            if (flags != 0)
            {
                return Invariant($"unknown flags 0x{flags:X4} at byte 6 (version {Version} defines none)");
            }

            // Sections: tag, u32 payload length, payload.
            int topologyAt = -1, normalizationAt = -1, parametersAt = -1, codecAt = -1, anomalyAt = -1, baselineAt = -1;
            int topologyLength = 0, normalizationLength = 0, parametersLength = 0, codecLength = 0, baselineLength = 0;
            int p = PreambleLength;
            while (p < end)
            {
                if (end - p < SectionHeaderLength)
                {
                    return Invariant($"section header at byte {p} runs past the end of the data at byte {end}");
                }

                string tag = Tag(bytes, p);
                uint sectionLength = U32(bytes, p + 4);
                if (sectionLength > (uint)(end - p - SectionHeaderLength))
                {
                    return Invariant($"section '{Printable(tag)}' at byte {p} declares {sectionLength} bytes but only {end - p - SectionHeaderLength} remain before the checksum");
                }

                int payload = p + SectionHeaderLength;
                int payloadLength = (int)sectionLength;
                if (tag == TopologyTag || tag == NormalizationTag || tag == ParametersTag)
                {
                    ref int at = ref (tag == TopologyTag ? ref topologyAt : ref tag == NormalizationTag ? ref normalizationAt : ref parametersAt);
                    if (at >= 0)
                    {
                        return Invariant($"section '{tag}' appears twice (again at byte {p})");
                    }

                    at = payload;
                    if (tag == TopologyTag)
                    {
                        topologyLength = payloadLength;
                    }
                    else if (tag == NormalizationTag)
                    {
                        normalizationLength = payloadLength;
                    }
                    else
                    {
                        parametersLength = payloadLength;
                    }
                }
                else if (tag == CodecTag)
                {
                    if (codecAt >= 0)
                    {
                        return Invariant($"section '{tag}' appears twice (again at byte {p})");
                    }

                    codecAt = payload;
                    codecLength = payloadLength;
                }
                else if (tag == AnomalyTag)
                {
                    if (anomalyAt >= 0)
                    {
                        return Invariant($"section '{tag}' appears twice (again at byte {p})");
                    }

                    anomalyAt = payload;
                    if (payloadLength != AnomalyLength)
                    {
                        return Invariant($"section 'anom' is {payloadLength} bytes, expected {AnomalyLength}");
                    }
                }
                else if (tag == BaselineTag)
                {
                    if (baselineAt >= 0)
                    {
                        return Invariant($"section '{tag}' appears twice (again at byte {p})");
                    }

                    baselineAt = payload;
                    baselineLength = payloadLength;
                }
                else if (!(bytes[p] >= (byte)'a' && bytes[p] <= (byte)'z'))
                {
                    // A lower-case first letter marks an optional section a reader may skip; anything else is required.
                    return Invariant($"unknown required section '{Printable(tag)}' at byte {p}");
                }

                p = payload + payloadLength;
            }

            if (topologyAt < 0)
            {
                return "missing section 'TOPO'";
            }

            if (normalizationAt < 0)
            {
                return "missing section 'NORM'";
            }

            if (parametersAt < 0)
            {
                return "missing section 'PARM'";
            }

            var result = new WeightFileData { FormatVersion = version, Checksum = stored, FileLength = length };
            string? problem = ReadTopology(bytes, topologyAt, topologyLength, result)
                ?? ReadNormalization(bytes, normalizationAt, normalizationLength, result, out kind)
                ?? ReadParameters(bytes, parametersAt, parametersLength, result, out kind)
                ?? (codecAt < 0 ? null : ReadCodec(bytes, codecAt, codecLength, result, out kind))
                ?? (anomalyAt < 0 ? null : ReadAnomaly(bytes, anomalyAt, result, out kind))
                ?? (baselineAt < 0 ? null : ReadBaseline(bytes, baselineAt, baselineLength, result, out kind));
            if (problem != null)
            {
                return problem;
            }

            kind = WeightFileFormatErrorKind.None;
            data = result;
            return string.Empty;
        }

        private static int WriteAnomaly(byte[] bytes, int p, WeightFileData data)
        {
            if (!IsFinite(data.AnomalyThreshold) || data.AnomalyMethod > AnomalyMethodMax || double.IsNaN(data.AnomalyParameter) || double.IsInfinity(data.AnomalyParameter) || data.AnomalySamples < 0)
            {
                throw new ArgumentException(Invariant($"An anomaly threshold needs a finite threshold and parameter, a method code up to {AnomalyMethodMax} and a sample count of at least 0 (threshold {Describe(data.AnomalyThreshold)}, method {data.AnomalyMethod}, parameter {data.AnomalyParameter}, samples {data.AnomalySamples})."), nameof(data));
            }

            p = PutTag(bytes, p, AnomalyTag, AnomalyLength);
            bytes[p++] = data.AnomalyMethod;
            p += 3;
            p = PutF32(bytes, p, data.AnomalyThreshold);
            long bits = BitConverter.DoubleToInt64Bits(data.AnomalyParameter);
            p = PutU32(bytes, p, (uint)bits);
            p = PutU32(bytes, p, (uint)(bits >> 32));
            return PutU32(bytes, p, (uint)data.AnomalySamples);
        }

        private static string? ReadAnomaly(byte[] bytes, int p, WeightFileData result, out WeightFileFormatErrorKind kind)
        {
            kind = WeightFileFormatErrorKind.Malformed;
            byte method = bytes[p];
            if (method > AnomalyMethodMax)
            {
                return Invariant($"section 'anom' gives calibration method {method} (this EdgeAe knows 0 to {AnomalyMethodMax})");
            }

            if (bytes[p + 1] != 0 || bytes[p + 2] != 0 || bytes[p + 3] != 0)
            {
                return "reserved bytes of section 'anom' are not zero";
            }

            float threshold = F32(bytes, p + 4);
            double parameter = BitConverter.Int64BitsToDouble((long)(U32(bytes, p + 8) | ((ulong)U32(bytes, p + 12) << 32)));
            uint samples = U32(bytes, p + 16);
            if (!IsFinite(threshold) || double.IsNaN(parameter) || double.IsInfinity(parameter))
            {
                kind = WeightFileFormatErrorKind.NonFiniteValue;
                return Invariant($"anomaly threshold {Describe(threshold)} or its method's parameter {parameter.ToString("R", CultureInfo.InvariantCulture)} is not finite");
            }

            if (samples > int.MaxValue)
            {
                return Invariant($"section 'anom' gives {samples} calibration samples");
            }

            result.HasAnomalyThreshold = true;
            result.AnomalyMethod = method;
            result.AnomalyThreshold = threshold;
            result.AnomalyParameter = parameter;
            result.AnomalySamples = (int)samples;
            kind = WeightFileFormatErrorKind.None;
            return null;
        }

        private static string? ReadCodec(byte[] bytes, int p, int length, WeightFileData result, out WeightFileFormatErrorKind kind)
        {
            kind = WeightFileFormatErrorKind.Malformed;
            if (length < CodecFixedLength)
            {
                return Invariant($"section 'qant' is {length} bytes, shorter than its fixed part ({CodecFixedLength} bytes)");
            }

            byte bits = bytes[p];
            if (bits != 8 && bits != 16)
            {
                return Invariant($"section 'qant' gives {bits} bits per code value (expected 8 or 16)");
            }

            if (bytes[p + 1] != 0 || bytes[p + 2] != 0 || bytes[p + 3] != 0)
            {
                return "reserved bytes of section 'qant' are not zero";
            }

            uint width = U32(bytes, p + 4);
            int codeWidth = 0;
            foreach (LayerFingerprint layer in result.Layers)
            {
                if (layer.Role == 1)
                {
                    codeWidth = layer.Width;
                }
            }

            if (width != (uint)codeWidth)
            {
                return Invariant($"section 'qant' describes {width} code values but the code layer is {codeWidth} wide");
            }

            long expected = CodecFixedLength + 8L * width;
            if (length != expected)
            {
                return Invariant($"section 'qant' is {length} bytes, expected {expected} for {width} code values");
            }

            var min = new float[width];
            var max = new float[width];
            for (int j = 0; j < width; j++)
            {
                min[j] = F32(bytes, p + CodecFixedLength + 4 * j);
                max[j] = F32(bytes, p + CodecFixedLength + 4 * ((int)width + j));
                if (!IsFinite(min[j]) || !IsFinite(max[j]) || !(max[j] > min[j]))
                {
                    kind = IsFinite(min[j]) && IsFinite(max[j]) ? WeightFileFormatErrorKind.Malformed : WeightFileFormatErrorKind.NonFiniteValue;
                    return Invariant($"code range [{Describe(min[j])}, {Describe(max[j])}] of code value {j} is not a finite interval with max > min");
                }
            }

            result.CodecBits = bits;
            result.CodecMin = min;
            result.CodecMax = max;
            kind = WeightFileFormatErrorKind.None;
            return null;
        }

        /// <summary>The <c>pcab</c> payload length of <paramref name="data"/> (0: no baseline); throws when its arrays disagree.</summary>
        private static long BaselineLength(WeightFileData data)
        {
            if (data.BaselineComponents == 0)
            {
                return 0;
            }

            int width = data.BaselineMean == null ? 0 : data.BaselineMean.Length;
            int k = data.BaselineComponents;
            if (width != data.InputWidth || k < 0 || k > width || data.BaselineVariances == null || data.BaselineVariances.Length != k
                || data.BaselineBasis == null || data.BaselineBasis.Length != (long)k * width)
            {
                throw new ArgumentException(Invariant($"The baseline needs a mean of {data.InputWidth} values, {k} variances and {k} × {data.InputWidth} basis values."), nameof(data));
            }

            return BaselineFixedLength + 4L * (width + k + ((long)k * width));
        }

        private static string? ReadBaseline(byte[] bytes, int p, int length, WeightFileData result, out WeightFileFormatErrorKind kind)
        {
            kind = WeightFileFormatErrorKind.Malformed;
            if (length < BaselineFixedLength)
            {
                return Invariant($"section 'pcab' is {length} bytes, shorter than its fixed part ({BaselineFixedLength} bytes)");
            }

            uint width = U32(bytes, p);
            uint k = U32(bytes, p + 4);
            uint samples = U32(bytes, p + 8);
            float total = F32(bytes, p + 12);
            if (width != (uint)result.InputWidth)
            {
                return Invariant($"section 'pcab' describes {width} inputs but the input width is {result.InputWidth}");
            }

            if (k == 0 || k > width)
            {
                return Invariant($"section 'pcab' keeps {k} components of {width} inputs (expected 1 to {width})");
            }

            if (samples > int.MaxValue)
            {
                return Invariant($"section 'pcab' was fitted on {samples} samples, more than {int.MaxValue}");
            }

            long expected = BaselineFixedLength + 4L * (width + k + ((long)k * width));
            if (length != expected)
            {
                return Invariant($"section 'pcab' is {length} bytes, expected {expected} for {k} components of {width} inputs");
            }

            var mean = new float[width];
            var variances = new float[k];
            var basis = new float[k * width];
            int q = p + BaselineFixedLength;
            foreach (float[] values in new[] { mean, variances, basis })
            {
                for (int i = 0; i < values.Length; i++, q += 4)
                {
                    values[i] = F32(bytes, q);
                    if (!IsFinite(values[i]))
                    {
                        kind = WeightFileFormatErrorKind.NonFiniteValue;
                        return Invariant($"section 'pcab' holds {Describe(values[i])} at byte {q}");
                    }
                }
            }

            if (!IsFinite(total) || total < 0)
            {
                kind = IsFinite(total) ? WeightFileFormatErrorKind.Malformed : WeightFileFormatErrorKind.NonFiniteValue;
                return Invariant($"section 'pcab' gives a total variance of {Describe(total)}");
            }

            foreach (float v in variances)
            {
                if (v < 0)
                {
                    return Invariant($"section 'pcab' gives a negative component variance {Describe(v)}");
                }
            }

            result.BaselineComponents = (int)k;
            result.BaselineSamples = (int)samples;
            result.BaselineTotalVariance = total;
            result.BaselineMean = mean;
            result.BaselineVariances = variances;
            result.BaselineBasis = basis;
            kind = WeightFileFormatErrorKind.None;
            return null;
        }

        private static string? ReadTopology(byte[] bytes, int p, int length, WeightFileData result)
        {
            if (length < TopologyFixedLength)
            {
                return Invariant($"section 'TOPO' is {length} bytes, shorter than its fixed part ({TopologyFixedLength} bytes)");
            }

            uint inputWidth = U32(bytes, p);
            byte loss = bytes[p + 4];
            byte tied = bytes[p + 5];
            int count = U16(bytes, p + 6);
            long expected = TopologyFixedLength + (long)LayerRecordLength * count;
            if (length != expected)
            {
                return Invariant($"section 'TOPO' is {length} bytes, expected {expected} for {count} layers");
            }

            if (inputWidth == 0 || inputWidth > int.MaxValue)
            {
                return Invariant($"input width {inputWidth} is out of range");
            }

            if (loss > 1)
            {
                return Invariant($"unknown loss code {loss}");
            }

            if (tied > 1)
            {
                return Invariant($"tied-weights flag is {tied} (expected 0 or 1)");
            }

            if (count == 0)
            {
                return "the topology has no layers";
            }

            var layers = new LayerFingerprint[count];
            long previousWidth = inputWidth;
            int q = p + TopologyFixedLength;
            for (int i = 0; i < count; i++, q += LayerRecordLength)
            {
                byte role = bytes[q];
                byte activation = bytes[q + 1];
                int reserved = U16(bytes, q + 2);
                uint layerInput = U32(bytes, q + 4);
                uint width = U32(bytes, q + 8);
                if (role > 3)
                {
                    return Invariant($"unknown layer role code {role} in layer {i}");
                }

                if (activation > 3)
                {
                    return Invariant($"unknown activation code {activation} in layer {i}");
                }

                if (reserved != 0)
                {
                    return Invariant($"reserved bytes of layer {i} are 0x{reserved:X4} (expected 0)");
                }

                if (width == 0 || width > int.MaxValue)
                {
                    return Invariant($"width {width} of layer {i} is out of range");
                }

                if (layerInput != previousWidth)
                {
                    return Invariant($"layer {i} takes {layerInput} inputs but the previous width is {previousWidth}");
                }

                layers[i] = new LayerFingerprint(role, (int)layerInput, (int)width, activation);
                previousWidth = width;
            }

            if (previousWidth != inputWidth)
            {
                return Invariant($"the last layer has width {previousWidth} but the input width is {inputWidth}");
            }

            result.InputWidth = (int)inputWidth;
            result.Loss = loss;
            result.TiedWeights = tied == 1;
            result.Layers = layers;
            return null;
        }

        private static string? ReadNormalization(byte[] bytes, int p, int length, WeightFileData result, out WeightFileFormatErrorKind kind)
        {
            kind = WeightFileFormatErrorKind.Malformed;
            if (length < NormalizationFixedLength)
            {
                return Invariant($"section 'NORM' is {length} bytes, shorter than its fixed part ({NormalizationFixedLength} bytes)");
            }

            byte normalizationKind = bytes[p];
            if (normalizationKind > 2)
            {
                return Invariant($"unknown normalisation kind {normalizationKind}");
            }

            if (bytes[p + 1] != 0 || bytes[p + 2] != 0 || bytes[p + 3] != 0)
            {
                return "reserved bytes of section 'NORM' are not 0";
            }

            uint width = U32(bytes, p + 4);
            long expected = NormalizationFixedLength + 8L * width;
            if (length != expected)
            {
                return Invariant($"section 'NORM' is {length} bytes, expected {expected} for {width} features");
            }

            if (normalizationKind == 0 ? width != 0 : width != result.InputWidth)
            {
                return normalizationKind == 0
                    ? Invariant($"normalisation kind none carries {width} features (expected 0)")
                    : Invariant($"normalisation describes {width} features but the input width is {result.InputWidth}");
            }

            var offset = new float[width];
            var scale = new float[width];
            int q = p + NormalizationFixedLength;
            for (int i = 0; i < offset.Length; i++)
            {
                offset[i] = F32(bytes, q + (4 * i));
                scale[i] = F32(bytes, q + (4 * (offset.Length + i)));
            }

            for (int i = 0; i < offset.Length; i++)
            {
                if (!IsFinite(offset[i]))
                {
                    kind = WeightFileFormatErrorKind.NonFiniteValue;
                    return Invariant($"normalisation offset {Describe(offset[i])} at feature {i}");
                }

                if (!IsFinite(scale[i]))
                {
                    kind = WeightFileFormatErrorKind.NonFiniteValue;
                    return Invariant($"normalisation scale {Describe(scale[i])} at feature {i}");
                }

                if (scale[i] == 0f)
                {
                    return Invariant($"normalisation scale 0 at feature {i}");
                }
            }

            result.NormalizationKind = normalizationKind;
            result.NormalizationOffset = offset;
            result.NormalizationScale = scale;
            kind = WeightFileFormatErrorKind.None;
            return null;
        }

        private static string? ReadParameters(byte[] bytes, int p, int length, WeightFileData result, out WeightFileFormatErrorKind kind)
        {
            kind = WeightFileFormatErrorKind.Malformed;
            if (length < ParametersFixedLength)
            {
                return Invariant($"section 'PARM' is {length} bytes, shorter than its fixed part ({ParametersFixedLength} bytes)");
            }

            byte elementType = bytes[p];
            if (elementType != ElementTypeFloat32 && elementType != ElementTypeInt8)
            {
                return Invariant($"unknown element type {elementType}");
            }

            if (bytes[p + 1] != 0 || bytes[p + 2] != 0 || bytes[p + 3] != 0)
            {
                return "reserved bytes of section 'PARM' are not 0";
            }

            if (elementType == ElementTypeInt8)
            {
                return ReadInt8Parameters(bytes, p, length, result, out kind);
            }

            uint tensorCount = U32(bytes, p + 4);
            uint parameterCount = U32(bytes, p + 8);
            long expected = ParametersFixedLength + (TensorRecordLength * (long)tensorCount) + (4L * parameterCount);
            if (length != expected)
            {
                return Invariant($"section 'PARM' is {length} bytes, expected {expected} for {tensorCount} tensors of {parameterCount} values in all");
            }

            LayerFingerprint[] layers = result.Layers;
            if (tensorCount > 2L * layers.Length)
            {
                return Invariant($"{tensorCount} tensors for {layers.Length} layers (at most two per layer)");
            }

            var tensors = new TensorEntry[tensorCount];
            var seen = new bool[layers.Length, 2];
            long total = 0;
            int q = p + ParametersFixedLength;
            for (int t = 0; t < tensors.Length; t++, q += TensorRecordLength)
            {
                int layerIndex = U16(bytes, q);
                byte tensorKind = bytes[q + 2];
                byte reserved = bytes[q + 3];
                uint count = U32(bytes, q + 4);
                if (layerIndex >= layers.Length)
                {
                    return Invariant($"tensor {t} belongs to layer {layerIndex} but there are {layers.Length} layers");
                }

                if (tensorKind > 1)
                {
                    return Invariant($"unknown tensor kind {tensorKind} for tensor {t}");
                }

                if (reserved != 0)
                {
                    return Invariant($"reserved byte of tensor {t} is {reserved} (expected 0)");
                }

                if (seen[layerIndex, tensorKind])
                {
                    return Invariant($"layer {layerIndex} has two {(tensorKind == 0 ? "W" : "b")} tensors");
                }

                seen[layerIndex, tensorKind] = true;
                LayerFingerprint layer = layers[layerIndex];
                long expectedCount = tensorKind == 0 ? (long)layer.InputWidth * layer.Width : layer.Width;
                if (count != expectedCount)
                {
                    return Invariant($"tensor {t} ({(tensorKind == 0 ? "W" : "b")} of layer {layerIndex}) has {count} values, expected {expectedCount}");
                }

                tensors[t] = new TensorEntry(layerIndex, tensorKind, (int)count);
                total += count;
            }

            for (int i = 0; i < layers.Length; i++)
            {
                bool mayShare = result.TiedWeights && (layers[i].Role == 2 || layers[i].Role == 3);
                if (!seen[i, 0] && !mayShare)
                {
                    return Invariant($"layer {i} ({RoleName(layers[i].Role)}) has no W tensor");
                }

                if (!seen[i, 1])
                {
                    return Invariant($"layer {i} ({RoleName(layers[i].Role)}) has no b tensor");
                }
            }

            if (total != parameterCount)
            {
                return Invariant($"the tensors hold {total} values but the parameter count is {parameterCount}");
            }

            var parameters = new float[parameterCount];
            for (int i = 0; i < parameters.Length; i++)
            {
                parameters[i] = F32(bytes, q + (4 * i));
            }

            int start = 0;
            foreach (TensorEntry tensor in tensors)
            {
                for (int j = 0; j < tensor.Count; j++)
                {
                    float value = parameters[start + j];
                    if (!IsFinite(value))
                    {
                        kind = WeightFileFormatErrorKind.NonFiniteValue;
                        return Invariant($"weight {Describe(value)} in layer {tensor.LayerIndex} ({RoleName(layers[tensor.LayerIndex].Role)}) {(tensor.Kind == 0 ? "W" : "b")}[{j}]");
                    }
                }

                start += tensor.Count;
            }

            result.ElementType = elementType;
            result.Tensors = tensors;
            result.Parameters = parameters;
            kind = WeightFileFormatErrorKind.None;
            return null;
        }

        private static uint[] CreateCrcTable()
        {
            var table = new uint[256];
            for (uint i = 0; i < table.Length; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                }

                table[i] = c;
            }

            return table;
        }

        private static string Truncated(long actual, long expected) => Invariant($"truncated at byte {actual} (expected at least {expected})");

        private static string DescribeMagic(byte[] bytes)
        {
            int count = Math.Min(bytes.Length, 4);
            var hex = new StringBuilder();
            var text = new StringBuilder();
            for (int i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    hex.Append('-');
                }

                hex.Append(bytes[i].ToString("X2", CultureInfo.InvariantCulture));
                text.Append(bytes[i] >= 0x20 && bytes[i] < 0x7F ? (char)bytes[i] : '.');
            }

            return hex + " \"" + text + "\"";
        }

        private static string Printable(string tag)
        {
            var text = new StringBuilder(tag.Length);
            foreach (char c in tag)
            {
                text.Append(c >= (char)0x20 && c < (char)0x7F ? c : '.');
            }

            return text.ToString();
        }

        private static string Describe(float value)
            => float.IsNaN(value) ? "NaN" : float.IsPositiveInfinity(value) ? "+Infinity" : float.IsNegativeInfinity(value) ? "-Infinity" : value.ToString("R", CultureInfo.InvariantCulture);

        private static bool IsFinite(float value) => !float.IsNaN(value) && !float.IsInfinity(value);

        private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

        private static string Tag(byte[] bytes, int p)
            => new string(new[] { (char)bytes[p], (char)bytes[p + 1], (char)bytes[p + 2], (char)bytes[p + 3] });

        private static int U16(byte[] bytes, int p) => bytes[p] | (bytes[p + 1] << 8);

        private static uint U32(byte[] bytes, int p)
            => bytes[p] | ((uint)bytes[p + 1] << 8) | ((uint)bytes[p + 2] << 16) | ((uint)bytes[p + 3] << 24);

        private static float F32(byte[] bytes, int p) => new FloatBits { Bits = U32(bytes, p) }.Value;

        private static int PutU16(byte[] bytes, int p, int value)
        {
            bytes[p] = (byte)value;
            bytes[p + 1] = (byte)(value >> 8);
            return p + 2;
        }

        private static int PutU32(byte[] bytes, int p, uint value)
        {
            bytes[p] = (byte)value;
            bytes[p + 1] = (byte)(value >> 8);
            bytes[p + 2] = (byte)(value >> 16);
            bytes[p + 3] = (byte)(value >> 24);
            return p + 4;
        }

        private static int PutF32(byte[] bytes, int p, float value) => PutU32(bytes, p, new FloatBits { Value = value }.Bits);

        private static int PutTag(byte[] bytes, int p, string tag, long length)
        {
            for (int i = 0; i < 4; i++)
            {
                bytes[p + i] = (byte)tag[i];
            }

            return PutU32(bytes, p + 4, (uint)length);
        }

        /// <summary>Reinterprets float bits without BitConverter.SingleToInt32Bits (absent from netstandard2.0).</summary>
        [StructLayout(LayoutKind.Explicit)]
        private struct FloatBits
        {
            [FieldOffset(0)]
            public uint Bits;

            [FieldOffset(0)]
            public float Value;
        }
    }
}
