// The int8 form of the 'PARM' section (element type 2): docs/weight-file-format.md, "Element type 2: int8".
// Like WeightFileFormat.cs, this file also compiles in the netstandard2.0 source generator (it bakes int8 models
// into firmware code): keep it free of APIs newer than netstandard2.0.
#nullable enable

using System;

namespace EdgeAe.IO.Format
{
    /// <summary>One layer of an int8 model as the file stores it (docs/quantization.md defines the arithmetic).</summary>
    internal sealed class Int8LayerData
    {
        /// <summary>Bits of the layer's output codes: 8 (other values are reserved).</summary>
        public int OutputBits { get; set; } = 8;

        /// <summary>The right shift n of the requantisation, 31..62 (one per layer).</summary>
        public int Shift { get; set; }

        /// <summary>Scale of the requantised accumulator (the pre-activation z; for ReLU and linear: the output's).</summary>
        public float ZScale { get; set; }

        /// <summary>Zero point of the requantised accumulator.</summary>
        public int ZZeroPoint { get; set; }

        /// <summary>Scale of the layer's output (the next layer's input).</summary>
        public float OutputScale { get; set; }

        /// <summary>Zero point of the layer's output.</summary>
        public int OutputZeroPoint { get; set; }

        /// <summary>Per output channel: the scale of its int8 weights (symmetric, zero point 0).</summary>
        public float[] WeightScales { get; set; } = new float[0];

        /// <summary>Per output channel: the Q31 multiplier M (0 ≤ M &lt; 2³¹) of the requantisation.</summary>
        public int[] Multipliers { get; set; } = new int[0];

        /// <summary>Sigmoid and tanh: output code for each z code −128..127 (256 entries); empty otherwise.</summary>
        public sbyte[] Table { get; set; } = new sbyte[0];

        /// <summary>W, input-major (W[i, j] at i·Width + j), each in −127..127.</summary>
        public sbyte[] Weights { get; set; } = new sbyte[0];

        /// <summary>Per output channel: the bias in units of input scale × weight scale (zero point not folded in).</summary>
        public int[] Biases { get; set; } = new int[0];
    }

    /// <summary>The quantisation of a whole int8 model: the input's scale and zero point, and every layer.</summary>
    internal sealed class Int8Data
    {
        public float InputScale { get; set; }

        public int InputZeroPoint { get; set; }

        public Int8LayerData[] Layers { get; set; } = new Int8LayerData[0];
    }

    /// <content>Element type 2 of the 'PARM' section: an int8 model.</content>
    internal static partial class WeightFileFormat
    {
        /// <summary>Largest input width of an int8 layer: keeps every int32 accumulator below 2³⁰ (docs/quantization.md).</summary>
        public const int Int8MaxInputs = 32768;

        /// <summary>Largest magnitude of a stored int8 model bias (2²⁹).</summary>
        public const int Int8MaxBias = 1 << 29;

        public const int Int8MinShift = 31;
        public const int Int8MaxShift = 62;
        public const int Int8TableLength = 256;

        private const int Int8InputRecordLength = 8;
        private const int Int8LayerRecordLength = 20;

        /// <summary>True for the activations whose int8 form is a 256-entry table (sigmoid, tanh).</summary>
        public static bool HasInt8Table(byte activation) => activation == 1 || activation == 2;

        /// <summary>The 'PARM' payload length of an int8 model, or an exception when the data is inconsistent.</summary>
        private static long Int8ParametersLength(WeightFileData data)
        {
            Int8Data int8 = data.Int8 ?? throw new ArgumentException("Element type 2 needs Int8.", nameof(data));
            LayerFingerprint[] layers = data.Layers;
            if (int8.Layers.Length != layers.Length)
            {
                throw new ArgumentException($"Int8 describes {int8.Layers.Length} layers but the topology has {layers.Length}.", nameof(data));
            }

            long length = ParametersFixedLength + (TensorRecordLength * 2L * layers.Length) + Int8InputRecordLength + ((long)Int8LayerRecordLength * layers.Length);
            for (int i = 0; i < layers.Length; i++)
            {
                Int8LayerData layer = int8.Layers[i];
                int inputs = layers[i].InputWidth, width = layers[i].Width;
                if (layer.WeightScales.Length != width || layer.Multipliers.Length != width || layer.Biases.Length != width
                    || layer.Weights.Length != (long)inputs * width || layer.Table.Length != (HasInt8Table(layers[i].Activation) ? Int8TableLength : 0))
                {
                    throw new ArgumentException($"The int8 arrays of layer {i} do not fit its {inputs} inputs, {width} outputs and activation.", nameof(data));
                }

                length += (8L * width) + layer.Table.Length + Pad4(layer.Weights.Length) + (4L * width);
            }

            return length;
        }

        private static int WriteInt8Parameters(byte[] bytes, int p, WeightFileData data)
        {
            Int8Data int8 = data.Int8!;
            LayerFingerprint[] layers = data.Layers;
            long count = 0;
            foreach (LayerFingerprint layer in layers)
            {
                count += ((long)layer.InputWidth * layer.Width) + layer.Width;
            }

            bytes[p++] = ElementTypeInt8;
            p += 3;
            p = PutU32(bytes, p, (uint)(2 * layers.Length));
            p = PutU32(bytes, p, (uint)count);
            for (int i = 0; i < layers.Length; i++)
            {
                p = PutU16(bytes, p, (ushort)i);
                bytes[p++] = TensorEntry.WeightKind;
                bytes[p++] = 0;
                p = PutU32(bytes, p, (uint)(layers[i].InputWidth * layers[i].Width));
                p = PutU16(bytes, p, (ushort)i);
                bytes[p++] = TensorEntry.BiasKind;
                bytes[p++] = 0;
                p = PutU32(bytes, p, (uint)layers[i].Width);
            }

            p = PutF32(bytes, p, int8.InputScale);
            p = PutU32(bytes, p, (uint)int8.InputZeroPoint);
            foreach (Int8LayerData layer in int8.Layers)
            {
                bytes[p++] = (byte)layer.OutputBits;
                bytes[p++] = 0;
                bytes[p++] = (byte)layer.Shift;
                bytes[p++] = 0;
                p = PutF32(bytes, p, layer.ZScale);
                p = PutU32(bytes, p, (uint)layer.ZZeroPoint);
                p = PutF32(bytes, p, layer.OutputScale);
                p = PutU32(bytes, p, (uint)layer.OutputZeroPoint);
            }

            foreach (Int8LayerData layer in int8.Layers)
            {
                foreach (float scale in layer.WeightScales)
                {
                    p = PutF32(bytes, p, scale);
                }

                foreach (int multiplier in layer.Multipliers)
                {
                    p = PutU32(bytes, p, (uint)multiplier);
                }

                foreach (sbyte entry in layer.Table)
                {
                    bytes[p++] = (byte)entry;
                }
            }

            foreach (Int8LayerData layer in int8.Layers)
            {
                foreach (sbyte weight in layer.Weights)
                {
                    bytes[p++] = (byte)weight;
                }

                p += Pad4(layer.Weights.Length) - layer.Weights.Length;
                foreach (int bias in layer.Biases)
                {
                    p = PutU32(bytes, p, (uint)bias);
                }
            }

            return p;
        }

        /// <summary>Reads an element-type-2 'PARM' payload (after the element type and reserved bytes were read).</summary>
        private static string? ReadInt8Parameters(byte[] bytes, int p, int length, WeightFileData result, out WeightFileFormatErrorKind kind)
        {
            kind = WeightFileFormatErrorKind.Malformed;
            LayerFingerprint[] layers = result.Layers;
            uint tensorCount = U32(bytes, p + 4);
            uint parameterCount = U32(bytes, p + 8);
            if (tensorCount != 2L * layers.Length)
            {
                return Invariant($"an int8 'PARM' section holds a W and a b for each of the {layers.Length} layers ({2 * layers.Length} tensors), not {tensorCount}");
            }

            // Fixed part, tensor table and layer records first: the variable part's length follows from them.
            long fixedEnd = ParametersFixedLength + (TensorRecordLength * (long)tensorCount) + Int8InputRecordLength + ((long)Int8LayerRecordLength * layers.Length);
            if (length < fixedEnd)
            {
                return Invariant($"section 'PARM' is {length} bytes, shorter than the {fixedEnd} bytes of its int8 tables for {layers.Length} layers");
            }

            long total = 0;
            long expected = fixedEnd;
            int q = p + ParametersFixedLength;
            for (int t = 0; t < tensorCount; t++, q += TensorRecordLength)
            {
                int layerIndex = U16(bytes, q);
                byte tensorKind = bytes[q + 2];
                uint count = U32(bytes, q + 4);
                int i = t / 2;
                byte wanted = t % 2 == 0 ? TensorEntry.WeightKind : TensorEntry.BiasKind;
                if (layerIndex != i || tensorKind != wanted || bytes[q + 3] != 0)
                {
                    return Invariant($"tensor {t} of an int8 model must be {(wanted == TensorEntry.WeightKind ? "W" : "b")} of layer {i} (found kind {tensorKind} of layer {layerIndex}, reserved {bytes[q + 3]})");
                }

                long expectedCount = wanted == TensorEntry.WeightKind ? (long)layers[i].InputWidth * layers[i].Width : layers[i].Width;
                if (count != expectedCount)
                {
                    return Invariant($"tensor {t} ({(wanted == TensorEntry.WeightKind ? "W" : "b")} of layer {i}) has {count} values, expected {expectedCount}");
                }

                total += count;
                expected += wanted == TensorEntry.WeightKind ? Pad4(count) : 4L * count;
            }

            if (total != parameterCount)
            {
                return Invariant($"the tensors hold {total} values but the parameter count is {parameterCount}");
            }

            foreach (LayerFingerprint layer in layers)
            {
                expected += (8L * layer.Width) + (HasInt8Table(layer.Activation) ? Int8TableLength : 0);
                if (layer.InputWidth > Int8MaxInputs)
                {
                    return Invariant($"an int8 layer takes at most {Int8MaxInputs} inputs, not {layer.InputWidth}");
                }
            }

            if (length != expected)
            {
                return Invariant($"section 'PARM' is {length} bytes, expected {expected} for this int8 model");
            }

            var int8 = new Int8Data { InputScale = F32(bytes, q), InputZeroPoint = I32(bytes, q + 4), Layers = new Int8LayerData[layers.Length] };
            string? problem = CheckScale(int8.InputScale, "input scale", ref kind) ?? CheckZeroPoint(int8.InputZeroPoint, 8, "input zero point");
            if (problem != null)
            {
                return problem;
            }

            q += Int8InputRecordLength;
            for (int i = 0; i < layers.Length; i++, q += Int8LayerRecordLength)
            {
                var layer = new Int8LayerData
                {
                    OutputBits = bytes[q],
                    Shift = bytes[q + 2],
                    ZScale = F32(bytes, q + 4),
                    ZZeroPoint = I32(bytes, q + 8),
                    OutputScale = F32(bytes, q + 12),
                    OutputZeroPoint = I32(bytes, q + 16),
                };
                int8.Layers[i] = layer;
                bool clamp = layers[i].Activation == 0 || layers[i].Activation == 3;
                if (bytes[q + 1] != 0 || bytes[q + 3] != 0)
                {
                    return Invariant($"reserved bytes of int8 layer {i} are not 0");
                }

                if (layer.OutputBits != 8)
                {
                    return Invariant($"int8 layer {i} has {layer.OutputBits}-bit outputs (this EdgeAe reads 8; other widths are reserved)");
                }

                if (layer.Shift < Int8MinShift || layer.Shift > Int8MaxShift)
                {
                    return Invariant($"int8 layer {i} shifts by {layer.Shift} (expected {Int8MinShift}..{Int8MaxShift})");
                }

                problem = CheckScale(layer.ZScale, Invariant($"z scale of layer {i}"), ref kind)
                    ?? CheckScale(layer.OutputScale, Invariant($"output scale of layer {i}"), ref kind)
                    ?? CheckZeroPoint(layer.ZZeroPoint, layer.OutputBits, Invariant($"z zero point of layer {i}"))
                    ?? CheckZeroPoint(layer.OutputZeroPoint, layer.OutputBits, Invariant($"output zero point of layer {i}"));
                if (problem != null)
                {
                    return problem;
                }

                if (clamp && (F32Bits(layer.ZScale) != F32Bits(layer.OutputScale) || layer.ZZeroPoint != layer.OutputZeroPoint))
                {
                    return Invariant($"int8 layer {i} is {(layers[i].Activation == 0 ? "linear" : "ReLU")}: its z and output quantisation must be the same");
                }
            }

            for (int i = 0; i < layers.Length; i++)
            {
                Int8LayerData layer = int8.Layers[i];
                int width = layers[i].Width;
                layer.WeightScales = new float[width];
                layer.Multipliers = new int[width];
                for (int j = 0; j < width; j++, q += 4)
                {
                    layer.WeightScales[j] = F32(bytes, q);
                    problem = CheckScale(layer.WeightScales[j], Invariant($"weight scale {j} of layer {i}"), ref kind);
                    if (problem != null)
                    {
                        return problem;
                    }
                }

                for (int j = 0; j < width; j++, q += 4)
                {
                    layer.Multipliers[j] = I32(bytes, q);
                    if (layer.Multipliers[j] < 0)
                    {
                        return Invariant($"multiplier {j} of int8 layer {i} is negative ({layer.Multipliers[j]})");
                    }
                }

                if (HasInt8Table(layers[i].Activation))
                {
                    layer.Table = new sbyte[Int8TableLength];
                    for (int k = 0; k < Int8TableLength; k++)
                    {
                        layer.Table[k] = (sbyte)bytes[q++];
                    }
                }
            }

            for (int i = 0; i < layers.Length; i++)
            {
                Int8LayerData layer = int8.Layers[i];
                int count = layers[i].InputWidth * layers[i].Width;
                layer.Weights = new sbyte[count];
                for (int k = 0; k < count; k++)
                {
                    sbyte weight = (sbyte)bytes[q + k];
                    if (weight == sbyte.MinValue)
                    {
                        return Invariant($"weight -128 in int8 layer {i} W[{k}] (weights are symmetric, -127..127)");
                    }

                    layer.Weights[k] = weight;
                }

                for (int k = count; k < Pad4(count); k++)
                {
                    if (bytes[q + k] != 0)
                    {
                        return Invariant($"padding after W of int8 layer {i} is not 0");
                    }
                }

                q += Pad4(count);
                layer.Biases = new int[layers[i].Width];
                for (int j = 0; j < layer.Biases.Length; j++, q += 4)
                {
                    layer.Biases[j] = I32(bytes, q);
                    if (layer.Biases[j] < -Int8MaxBias || layer.Biases[j] > Int8MaxBias)
                    {
                        return Invariant($"bias {layer.Biases[j]} of int8 layer {i} b[{j}] is beyond ±2^29");
                    }
                }
            }

            var tensors = new TensorEntry[tensorCount];
            for (int i = 0; i < layers.Length; i++)
            {
                tensors[2 * i] = new TensorEntry(i, TensorEntry.WeightKind, layers[i].InputWidth * layers[i].Width);
                tensors[(2 * i) + 1] = new TensorEntry(i, TensorEntry.BiasKind, layers[i].Width);
            }

            result.ElementType = ElementTypeInt8;
            result.Tensors = tensors;
            result.Parameters = new float[0];
            result.Int8 = int8;
            kind = WeightFileFormatErrorKind.None;
            return null;
        }

        private static string? CheckScale(float scale, string what, ref WeightFileFormatErrorKind kind)
        {
            if (!IsFinite(scale))
            {
                kind = WeightFileFormatErrorKind.NonFiniteValue;
                return what + " is " + Describe(scale);
            }

            return scale > 0 ? null : what + " is " + Describe(scale) + " (expected > 0)";
        }

        private static string? CheckZeroPoint(int zeroPoint, int bits, string what)
        {
            int min = -(1 << (bits - 1)), max = (1 << (bits - 1)) - 1;
            return zeroPoint >= min && zeroPoint <= max ? null : Invariant($"{what} is {zeroPoint} (expected {min}..{max})");
        }

        private static int Pad4(long count) => (int)((count + 3) / 4 * 4);

        private static int I32(byte[] bytes, int p) => unchecked((int)U32(bytes, p));

        private static uint F32Bits(float value) => new FloatBits { Value = value }.Bits;
    }
}
