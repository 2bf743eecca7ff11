using System.Buffers.Binary;
using System.Globalization;
using EdgeAe.IO.Format;
using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx;

/// <summary>
/// An int8 weight file as an ONNX QDQ graph (docs/onnx.md, "Int8 models"): the quantisation written as
/// QuantizeLinear/DequantizeLinear pairs around float operators, which ONNX Runtime and other int8 runtimes fuse into
/// integer kernels. Per layer: the input's codes (Q/DQ with the input's scale and zero point), W as an int8 initializer
/// dequantised per output channel (axis 1), the int32 biases dequantised with input scale × weight scale, a Gemm, then
/// ReLU and linear layers quantised to their output codes, sigmoid and tanh layers their pre-activation codes, the
/// function, and the output codes (what EdgeAe's tables compute). The arithmetic inside is the consumer's: its
/// requantisation rounds in float, so a code may differ by one step from EdgeAe's fixed-point result.
/// </summary>
internal static class QdqExporter
{
    /// <summary>QuantizeLinear/DequantizeLinear with per-axis scales (for W) need opset 13.</summary>
    public const int MinOpset = 13;

    public static ModelProto Build(WeightFileData data, OnnxExportOptions options, string? modelName)
    {
        if (options.Opset < MinOpset || options.Opset > OnnxExporter.MaxOpset)
        {
            throw new ArgumentException($"An int8 model is written as a QDQ graph from opset {MinOpset} on (per-channel DequantizeLinear); opset {options.Opset} is not.", nameof(options));
        }

        Int8Data int8 = data.Int8!;
        LayerFingerprint[] layers = data.Layers;
        int code = Array.FindIndex(layers, l => l.Role == (byte)LayerRole.Code);
        int last = layers.Length - 1;
        (int first, int end) = options.Part switch
        {
            OnnxGraphPart.Encoder => (0, code),
            OnnxGraphPart.Decoder => (code + 1, last),
            _ => (0, last),
        };

        var graph = new GraphProto { Name = options.GraphName ?? modelName ?? "edgeae" };
        graph.DocString = $"EdgeAe int8 model ({layers.Length} layers); part {options.Part}; QDQ; W int8 [in, out], per-output-channel scales";
        string x = first == 0 ? OnnxExporter.InputName : OnnxExporter.CodeName;
        graph.Input.Add(OnnxExporter.FloatValueInfo(x, first == 0 ? data.InputWidth : layers[code].Width));
        float inputScale = first == 0 ? int8.InputScale : int8.Layers[first - 1].OutputScale;
        int inputZeroPoint = first == 0 ? int8.InputZeroPoint : int8.Layers[first - 1].OutputZeroPoint;
        x = QuantizeDequantize(graph, x, $"input", inputScale, inputZeroPoint);
        for (int l = first; l <= end; l++)
        {
            LayerFingerprint layer = layers[l];
            Int8LayerData q = int8.Layers[l];
            string prefix = $"layer{l}";
            string output = l == code ? OnnxExporter.CodeName : l == last ? OnnxExporter.ReconstructionName : prefix;

            // W: int8 [in, out], zero points 0, one scale per output column (axis 1).
            graph.Initializer.Add(Int8Tensor($"{prefix}.weight.q", [layer.InputWidth, layer.Width], q.Weights));
            graph.Initializer.Add(Tensors.Float($"{prefix}.weight.scale", [layer.Width], q.WeightScales));
            graph.Initializer.Add(Int8Tensor($"{prefix}.weight.zero_point", [layer.Width], new sbyte[layer.Width]));
            graph.Node.Add(Node("DequantizeLinear", $"{prefix}.weight.dequantize", [$"{prefix}.weight.q", $"{prefix}.weight.scale", $"{prefix}.weight.zero_point"], $"{prefix}.weight", axis: 1));

            // b: int32 in units of input scale × weight scale (ONNX's QDQ bias convention).
            var biasScale = new float[layer.Width];
            for (int j = 0; j < biasScale.Length; j++)
            {
                biasScale[j] = inputScale * q.WeightScales[j];
            }

            graph.Initializer.Add(Int32Tensor($"{prefix}.bias.q", [layer.Width], q.Biases));
            graph.Initializer.Add(Tensors.Float($"{prefix}.bias.scale", [layer.Width], biasScale));
            graph.Initializer.Add(Int32Tensor($"{prefix}.bias.zero_point", [layer.Width], new int[layer.Width]));
            graph.Node.Add(Node("DequantizeLinear", $"{prefix}.bias.dequantize", [$"{prefix}.bias.q", $"{prefix}.bias.scale", $"{prefix}.bias.zero_point"], $"{prefix}.bias", axis: 0));

            string z = $"{prefix}.linear";
            graph.Node.Add(Node("Gemm", $"{prefix}.dense", [x, $"{prefix}.weight", $"{prefix}.bias"], z));
            switch ((ActivationKind)layer.Activation)
            {
                case ActivationKind.Relu:
                    graph.Node.Add(Node("Relu", $"{prefix}.relu", [z], $"{prefix}.relu"));
                    x = QuantizeDequantize(graph, $"{prefix}.relu", prefix, q.OutputScale, q.OutputZeroPoint, output);
                    break;
                case ActivationKind.Linear:
                    x = QuantizeDequantize(graph, z, prefix, q.OutputScale, q.OutputZeroPoint, output);
                    break;
                default:
                    string op = (ActivationKind)layer.Activation == ActivationKind.Sigmoid ? "Sigmoid" : "Tanh";
                    string zq = QuantizeDequantize(graph, z, prefix + ".pre", q.ZScale, q.ZZeroPoint);
                    graph.Node.Add(Node(op, $"{prefix}.{op.ToLowerInvariant()}", [zq], $"{prefix}.{op.ToLowerInvariant()}"));
                    x = QuantizeDequantize(graph, $"{prefix}.{op.ToLowerInvariant()}", prefix, q.OutputScale, q.OutputZeroPoint, output);
                    break;
            }

            // This layer's output codes are the next layer's input: its int32 biases are in units of that scale × its weight scales.
            inputScale = q.OutputScale;
        }

        if (options.Part != OnnxGraphPart.Encoder)
        {
            graph.Output.Add(OnnxExporter.FloatValueInfo(OnnxExporter.ReconstructionName, data.InputWidth));
        }

        if (options.Part != OnnxGraphPart.Decoder)
        {
            graph.Output.Add(OnnxExporter.FloatValueInfo(OnnxExporter.CodeName, layers[code].Width));
        }

        return OnnxExporter.Model(graph, options, $"An EdgeAe int8 autoencoder ({layers.Length} layers), QDQ", data);
    }

    /// <summary>value → QuantizeLinear → DequantizeLinear: the float value of its int8 code; returns the dequantised name.</summary>
    private static string QuantizeDequantize(GraphProto graph, string value, string prefix, float scale, int zeroPoint, string? output = null)
    {
        string scaleName = $"{prefix}.output.scale", zeroName = $"{prefix}.output.zero_point";
        graph.Initializer.Add(Tensors.Float(scaleName, [], [scale]));
        graph.Initializer.Add(Int8Tensor(zeroName, [], [(sbyte)zeroPoint]));
        graph.Node.Add(Node("QuantizeLinear", $"{prefix}.quantize", [value, scaleName, zeroName], $"{prefix}.q"));
        string result = output ?? $"{prefix}.dq";
        graph.Node.Add(Node("DequantizeLinear", $"{prefix}.dequantize", [$"{prefix}.q", scaleName, zeroName], result));
        return result;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, int? axis = null)
    {
        var node = new NodeProto { Name = name, OpType = op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        if (axis is int a)
        {
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = a });
        }

        return node;
    }

    private static TensorProto Int8Tensor(string name, long[] dims, ReadOnlySpan<sbyte> values)
    {
        var raw = new byte[values.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            raw[i] = (byte)values[i];
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static TensorProto Int32Tensor(string name, long[] dims, ReadOnlySpan<int> values)
    {
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(raw.AsSpan(4 * i), values[i]);
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int32, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }
}
