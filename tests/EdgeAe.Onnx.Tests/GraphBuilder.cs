using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx.Tests;

/// <summary>Builds ONNX models with the classes generated from onnx.proto3, the way exporters write them.</summary>
internal sealed class GraphBuilder
{
    private readonly ModelProto _model;

    public GraphBuilder(int opset, string producer = "test")
    {
        Graph = new GraphProto { Name = "main_graph" };
        _model = new ModelProto { IrVersion = opset <= 8 ? 3 : opset == 9 ? 4 : opset <= 14 ? 7 : 8, ProducerName = producer, Graph = Graph };
        _model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
    }

    public GraphProto Graph { get; }

    public ModelProto Model => _model;

    public GraphBuilder Input(string name, params long[] sampleDims)
    {
        Graph.Input.Add(ValueInfo(name, sampleDims));
        return this;
    }

    public GraphBuilder Output(string name, params long[] sampleDims)
    {
        Graph.Output.Add(ValueInfo(name, sampleDims));
        return this;
    }

    public GraphBuilder Initializer(string name, long[] dims, float[] values, bool floatData = false)
    {
        TensorProto tensor = Tensors.Float(name, dims, values);
        if (floatData)
        {
            tensor.RawData = ByteString.Empty;
            tensor.FloatData.AddRange(values);
        }

        Graph.Initializer.Add(tensor);
        return this;
    }

    public GraphBuilder Longs(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return this;
    }

    public NodeProto Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public byte[] Build() => _model.ToByteArray();

    private static ValueInfoProto ValueInfo(string name, long[] sampleDims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (long d in sampleDims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}

/// <summary>A reference dense autoencoder (W stored [in, out]) and its graph in each exporter's form.</summary>
internal sealed class ReferenceAe
{
    public ReferenceAe(int seed, int[] widths, string[] activations, bool tied = false)
    {
        var random = new Random(seed);
        Widths = widths;
        Activations = activations;
        Tied = tied;
        int layers = widths.Length - 1;
        W = new float[layers][];
        B = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            int mirror = layers - 1 - l;
            W[l] = tied && l >= layers / 2
                ? AutoencoderData.Transpose(W[mirror], widths[mirror], widths[mirror + 1])
                : Enumerable.Range(0, widths[l] * widths[l + 1]).Select(_ => (random.NextSingle() * 2f) - 1f).ToArray();
            B[l] = Enumerable.Range(0, widths[l + 1]).Select(_ => (random.NextSingle() * 2f) - 1f).ToArray();
        }
    }

    public int[] Widths { get; }

    public string[] Activations { get; }

    public bool Tied { get; }

    /// <summary>W of layer l, [in, out] row-major.</summary>
    public float[][] W { get; }

    public float[][] B { get; }

    public int Layers => Widths.Length - 1;

    /// <summary>PyTorch's TorchScript exporter: Gemm(x, W[out, in], b, transB = 1), then the activation (tied: the mirror's initializer, transB = 0).</summary>
    public byte[] TorchScript(int opset, out string[] nodes)
    {
        var g = new GraphBuilder(opset, "pytorch").Input("input.1", Widths[0]);
        var names = new List<string>();
        string x = "input.1";
        for (int l = 0; l < Layers; l++)
        {
            int mirror = Layers - 1 - l;
            bool tiedUse = Tied && l >= Layers / 2;
            string weight = tiedUse ? $"layers.{mirror}.weight" : $"layers.{l}.weight";
            if (!tiedUse)
            {
                g.Initializer(weight, [Widths[l + 1], Widths[l]], AutoencoderData.Transpose(W[l], Widths[l], Widths[l + 1]));
            }

            g.Initializer($"layers.{l}.bias", [Widths[l + 1]], B[l], floatData: l % 2 == 1);
            string name = $"Gemm_{2 * l}";
            g.Node("Gemm", name, [x, weight, $"layers.{l}.bias"], $"{(2 * l) + 10}", GraphBuilder.Float("alpha", 1f), GraphBuilder.Float("beta", 1f), GraphBuilder.Int("transB", tiedUse ? 0 : 1));
            names.Add(name);
            x = Activate(g, l, $"{(2 * l) + 10}", $"{(2 * l) + 11}");
        }

        g.Output(x, Widths[^1]);
        nodes = [.. names];
        return g.Build();
    }

    /// <summary>PyTorch's dynamo exporter: Transpose(W[out, in]) + MatMul + Add, then the activation; the code is a second graph output.</summary>
    public byte[] Dynamo(int opset, int codeLayer, out string[] nodes)
    {
        var g = new GraphBuilder(opset, "pytorch").Input("x", Widths[0]);
        var names = new List<string>();
        string x = "x";
        string code = "";
        for (int l = 0; l < Layers; l++)
        {
            g.Initializer($"layers.{l}.weight", [Widths[l + 1], Widths[l]], AutoencoderData.Transpose(W[l], Widths[l], Widths[l + 1]));
            g.Initializer($"layers.{l}.bias", [Widths[l + 1]], B[l]);
            g.Node("Transpose", $"/layers.{l}/Transpose", [$"layers.{l}.weight"], $"t{l}", GraphBuilder.Ints("perm", 1, 0));
            g.Node("MatMul", $"/layers.{l}/MatMul", [x, $"t{l}"], $"mm{l}");
            names.Add($"/layers.{l}/MatMul");
            g.Node("Add", $"/layers.{l}/Add", [$"mm{l}", $"layers.{l}.bias"], $"add{l}");
            x = Activate(g, l, $"add{l}", l == codeLayer ? "code" : $"act{l}");
            code = l == codeLayer ? x : code;
        }

        g.Output(x, Widths[^1]).Output(code, Widths[codeLayer + 1]);
        nodes = [.. names];
        return g.Build();
    }

    /// <summary>Keras through tf2onnx: [batch, 4, 4] input, Flatten, MatMul(x, W[in, out]) + Add, and a Reshape back to [batch, 4, 4].</summary>
    public byte[] Tf2onnx(int opset, out string[] nodes)
    {
        var g = new GraphBuilder(opset, "tf2onnx").Input("input_1", 4, Widths[0] / 4);
        g.Node("Flatten", "model/flatten/Reshape", ["input_1"], "model/flatten/Reshape:0", GraphBuilder.Int("axis", 1));
        var names = new List<string>();
        string x = "model/flatten/Reshape:0";
        for (int l = 0; l < Layers; l++)
        {
            string prefix = $"model/dense_{l}";
            g.Initializer($"{prefix}/MatMul/ReadVariableOp:0", [Widths[l], Widths[l + 1]], W[l]);
            g.Initializer($"{prefix}/BiasAdd/ReadVariableOp:0", [Widths[l + 1]], B[l]);
            g.Node("MatMul", $"{prefix}/MatMul", [x, $"{prefix}/MatMul/ReadVariableOp:0"], $"{prefix}/MatMul:0");
            names.Add($"{prefix}/MatMul");
            g.Node("Add", $"{prefix}/BiasAdd", [$"{prefix}/MatMul:0", $"{prefix}/BiasAdd/ReadVariableOp:0"], $"{prefix}/BiasAdd:0");
            x = Activate(g, l, $"{prefix}/BiasAdd:0", $"{prefix}/{Activations[l]}:0");
        }

        g.Longs("model/reshape/shape", -1, 4, Widths[0] / 4);
        g.Node("Reshape", "model/reshape/Reshape", [x, "model/reshape/shape"], "reshape");
        g.Node("Identity", "Identity", ["reshape"], "output_1");
        g.Output("output_1", 4, Widths[0] / 4);
        nodes = [.. names];
        return g.Build();
    }

    /// <summary>
    /// The transposed form: the batch as columns ([features, batch]) between a Transpose of the input and one of the
    /// output; Gemm(W, x) with transA on every other layer.
    /// </summary>
    public byte[] FeatureMajor(int opset)
    {
        var g = new GraphBuilder(opset).Input("x", Widths[0]);
        g.Node("Transpose", "to_columns", ["x"], "xt", GraphBuilder.Ints("perm", 1, 0));
        string x = "xt";
        for (int l = 0; l < Layers; l++)
        {
            bool transA = l % 2 == 1;
            g.Initializer($"w{l}", transA ? [Widths[l], Widths[l + 1]] : [Widths[l + 1], Widths[l]], transA ? W[l] : AutoencoderData.Transpose(W[l], Widths[l], Widths[l + 1]));
            g.Initializer($"b{l}", [Widths[l + 1], 1], B[l]);
            g.Node("Gemm", $"gemm{l}", [$"w{l}", x, $"b{l}"], $"z{l}", GraphBuilder.Int("transA", transA ? 1 : 0));
            x = Activate(g, l, $"z{l}", $"a{l}");
        }

        g.Node("Transpose", "to_rows", [x], "y", GraphBuilder.Ints("perm", 1, 0));
        g.Output("y", Widths[^1]);
        return g.Build();
    }

    private string Activate(GraphBuilder g, int l, string input, string output)
    {
        string op = Activations[l];
        g.Node(op == "Linear" ? "Identity" : op, $"{op}_{l}", [input], output);
        return output;
    }
}
