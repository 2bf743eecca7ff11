using System.Text;

namespace EdgeAe.Benchmarks;

/// <summary>
/// A minimal ONNX (protobuf) writer for chains of MatMul + Add + activation, enough to hand a
/// model's exact weights to ONNX Runtime. Field numbers from onnx.proto (ModelProto, GraphProto,
/// NodeProto, TensorProto, ValueInfoProto).
/// </summary>
internal static class Onnx
{
    /// <summary>The ONNX model of layers [0, last] of <paramref name="model"/> for a fixed batch.</summary>
    public static byte[] Build(IAutoencoder model, int last, int batch)
    {
        ModelTopology topology = model.Topology;
        ReadOnlySpan<float> p = model.Parameters;
        var graph = new Proto();
        string x = "x";
        for (int l = 0; l <= last; l++)
        {
            LayerInfo layer = topology.Layers[l];
            var w = new float[layer.InputWidth * layer.Width];
            for (int i = 0; i < layer.InputWidth; i++)
            {
                for (int j = 0; j < layer.Width; j++)
                {
                    w[i * layer.Width + j] = layer.IsTied ? p[layer.WeightOffset + j * layer.InputWidth + i] : p[layer.WeightOffset + i * layer.Width + j];
                }
            }

            graph.Message(5, Tensor($"W{l}", [layer.InputWidth, layer.Width], w));
            graph.Message(5, Tensor($"b{l}", [layer.Width], p.Slice(layer.BiasOffset, layer.Width).ToArray()));
            graph.Message(1, Node("MatMul", [x, $"W{l}"], $"m{l}"));
            string z = l == last && layer.Activation == ActivationKind.Linear ? "y" : $"z{l}";
            graph.Message(1, Node("Add", [$"m{l}", $"b{l}"], z));
            string op = layer.Activation switch
            {
                ActivationKind.Sigmoid => "Sigmoid",
                ActivationKind.Relu => "Relu",
                ActivationKind.Tanh => "Tanh",
                _ => string.Empty,
            };
            x = z;
            if (op.Length > 0)
            {
                x = l == last ? "y" : $"a{l}";
                graph.Message(1, Node(op, [z], x));
            }
        }

        graph.String(2, "edgeae");
        graph.Message(11, ValueInfo("x", batch, topology.InputSize));
        graph.Message(12, ValueInfo("y", batch, topology.Layers[last].Width));

        var opset = new Proto();
        opset.String(1, string.Empty);
        opset.Int(2, 17);
        var modelProto = new Proto();
        modelProto.Int(1, 8);
        modelProto.String(2, "EdgeAe.Benchmarks");
        modelProto.Message(7, graph);
        modelProto.Message(8, opset);
        return modelProto.ToArray();
    }

    private static Proto Tensor(string name, long[] dims, float[] values)
    {
        var t = new Proto();
        foreach (long d in dims)
        {
            t.Int(1, d);
        }

        t.Int(2, 1); // FLOAT
        t.String(8, name);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        t.Bytes(9, raw);
        return t;
    }

    private static Proto Node(string op, string[] inputs, string output)
    {
        var n = new Proto();
        foreach (string input in inputs)
        {
            n.String(1, input);
        }

        n.String(2, output);
        n.String(3, output + "_" + op);
        n.String(4, op);
        return n;
    }

    private static Proto ValueInfo(string name, params long[] dims)
    {
        var shape = new Proto();
        foreach (long d in dims)
        {
            var dim = new Proto();
            dim.Int(1, d);
            shape.Message(1, dim);
        }

        var tensorType = new Proto();
        tensorType.Int(1, 1);
        tensorType.Message(2, shape);
        var type = new Proto();
        type.Message(1, tensorType);
        var info = new Proto();
        info.String(1, name);
        info.Message(2, type);
        return info;
    }

    private sealed class Proto
    {
        private readonly MemoryStream _stream = new();

        public void Int(int field, long value)
        {
            Varint((ulong)(field << 3));
            Varint((ulong)value);
        }

        public void Bytes(int field, byte[] value)
        {
            Varint((ulong)(field << 3 | 2));
            Varint((ulong)value.Length);
            _stream.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Proto value) => Bytes(field, value.ToArray());

        public byte[] ToArray() => _stream.ToArray();

        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _stream.WriteByte((byte)value);
        }
    }
}
