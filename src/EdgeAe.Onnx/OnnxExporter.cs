using System.Reflection;
using EdgeAe.Data;
using EdgeAe.IO;
using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx;

/// <summary>Which part of the autoencoder an exported graph computes (docs/onnx.md, "Export").</summary>
public enum OnnxGraphPart
{
    /// <summary><c>input</c> → <c>reconstruction</c> and <c>code</c> (two outputs of one graph).</summary>
    Autoencoder,

    /// <summary><c>input</c> → <c>code</c>.</summary>
    Encoder,

    /// <summary><c>code</c> → <c>reconstruction</c>.</summary>
    Decoder,
}

/// <summary>How to export.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>The part of the model the graph computes.</summary>
    public OnnxGraphPart Part { get; set; } = OnnxGraphPart.Autoencoder;

    /// <summary>The opset of the default domain (<see cref="OnnxExporter.MinOpset"/> to <see cref="OnnxExporter.MaxOpset"/>); the graph is the same for all.</summary>
    public int Opset { get; set; } = OnnxExporter.DefaultOpset;

    /// <summary>The graph's name; null: the model's name, else "edgeae".</summary>
    public string? GraphName { get; set; }
}

/// <summary>
/// Writes an EdgeAe model as an ONNX graph that ONNX Runtime (or any ONNX consumer) runs: one Gemm per dense layer
/// (W stored [in, out] as EdgeAe stores it; a tied decoder layer reads its mirror's initializer with transB = 1), then
/// the activation. Float32. The graph's values are named <see cref="InputName"/>, <see cref="CodeName"/> and
/// <see cref="ReconstructionName"/> in every part, so a server encodes, decodes or reconstructs by those names.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The graph input of the autoencoder and encoder parts.</summary>
    public const string InputName = "input";

    /// <summary>The code: an output of the autoencoder and encoder parts, the input of the decoder part.</summary>
    public const string CodeName = "code";

    /// <summary>The reconstruction: an output of the autoencoder and decoder parts.</summary>
    public const string ReconstructionName = "reconstruction";

    /// <summary>The opset written unless another is asked for (ONNX Runtime runs it everywhere).</summary>
    public const int DefaultOpset = 13;

    /// <summary>The oldest opset written (Gemm broadcasts its bias from opset 7 on).</summary>
    public const int MinOpset = 7;

    /// <summary>The newest opset written.</summary>
    public const int MaxOpset = 21;

    /// <summary>The ONNX graph of a live model's current parameters (copied), with <paramref name="normalization"/> in the metadata.</summary>
    public static byte[] Export(IAutoencoder model, Normalization? normalization = null, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Build(AutoencoderData.FromModel(model, normalization), options ?? new OnnxExportOptions(), model.Topology.Name).ToByteArray();
    }

    /// <summary>The ONNX graph of the weight file at <paramref name="weightsPath"/> (no compiled model is needed: the file holds the topology).</summary>
    /// <exception cref="WeightFileException">The weight file cannot be read or is invalid.</exception>
    public static byte[] ExportWeightFile(string weightsPath, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weightsPath);

        // The runtime's reader reports a bad file with its reason (Truncated, ChecksumMismatch, …); then the values are read.
        WeightFile.Read(weightsPath);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(weightsPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new WeightFileException(WeightFileErrorReason.Io, $"Cannot read weights from '{weightsPath}': {e.Message}", e);
        }

        // An int8 model becomes a QDQ graph (docs/onnx.md, "Int8 models").
        if (IO.Format.WeightFileFormat.TryParse(bytes, out IO.Format.WeightFileData? parsed, out _) && parsed?.Int8 is not null)
        {
            return QdqExporter.Build(parsed, options ?? new OnnxExportOptions(), null).ToByteArray();
        }

        return Build(AutoencoderData.FromWeightFile(bytes, weightsPath), options ?? new OnnxExportOptions(), null).ToByteArray();
    }

    /// <summary>A float32 graph value of shape [batch, <paramref name="width"/>].</summary>
    internal static ValueInfoProto FloatValueInfo(string name, int width) => ValueInfo(name, width);

    /// <summary>The model around an int8 graph: opset, producer, and the loss, part and normalisation metadata.</summary>
    internal static ModelProto Model(GraphProto graph, OnnxExportOptions options, string doc, IO.Format.WeightFileData data)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion(options.Opset),
            ProducerName = "EdgeAe",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0",
            Graph = graph,
            DocString = doc,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = options.Opset });
        EdgeAeMetadata.WriteInt8(model, data, options.Part);
        return model;
    }

    /// <summary>Exports the weight file at <paramref name="weightsPath"/> to <paramref name="onnxPath"/>, written atomically.</summary>
    /// <exception cref="ArgumentException">Both paths name the same file.</exception>
    /// <exception cref="WeightFileException">The weight file cannot be read or is invalid.</exception>
    /// <exception cref="IOException">The output cannot be written (the previous file, if any, is left as it was).</exception>
    public static void ExportFile(string weightsPath, string onnxPath, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onnxPath);
        if (FileIdentity.SameFile(weightsPath, onnxPath))
        {
            throw new ArgumentException($"The ONNX output '{onnxPath}' is the weight file '{weightsPath}'; choose another path.", nameof(onnxPath));
        }

        byte[] bytes = ExportWeightFile(weightsPath, options);
        AtomicFile.WriteAllBytes(onnxPath, bytes);
    }

    internal static ModelProto Build(AutoencoderData data, OnnxExportOptions options, string? modelName)
    {
        if (options.Opset < MinOpset || options.Opset > MaxOpset)
        {
            throw new ArgumentException($"Opset {options.Opset} is not written; choose {MinOpset} to {MaxOpset}.", nameof(options));
        }

        int code = data.CodeLayerIndex;
        int last = data.Layers.Count - 1;
        (int first, int end) = options.Part switch
        {
            OnnxGraphPart.Encoder => (0, code),
            OnnxGraphPart.Decoder => (code + 1, last),
            _ => (0, last),
        };

        var graph = new GraphProto { Name = options.GraphName ?? modelName ?? "edgeae" };
        graph.DocString = $"EdgeAe {data.Describe()}; part {options.Part}; W stored [in, out]";
        string x = first == 0 ? InputName : CodeName;
        graph.Input.Add(ValueInfo(x, first == 0 ? data.InputSize : data.CodeSize));
        var written = new HashSet<string>(StringComparer.Ordinal);
        for (int l = first; l <= end; l++)
        {
            DenseLayer layer = data.Layers[l];
            string output = l == code ? CodeName : l == last ? ReconstructionName : $"layer{l}";
            string linear = layer.Activation == ActivationKind.Linear ? output : $"layer{l}.linear";
            string bias = $"layer{l}.bias";
            graph.Initializer.Add(Tensors.Float(bias, [layer.Width], layer.Biases));
            var gemm = new NodeProto { Name = $"layer{l}.dense", OpType = "Gemm" };
            gemm.Input.Add(x);
            gemm.Input.Add(Weight(graph, data, l, written, gemm));
            gemm.Input.Add(bias);
            gemm.Output.Add(linear);
            graph.Node.Add(gemm);
            if (layer.Activation != ActivationKind.Linear)
            {
                var activation = new NodeProto { Name = $"layer{l}.{layer.Activation.ToString().ToLowerInvariant()}", OpType = layer.Activation.ToString() };
                activation.Input.Add(linear);
                activation.Output.Add(output);
                graph.Node.Add(activation);
            }

            x = output;
        }

        if (options.Part != OnnxGraphPart.Encoder)
        {
            graph.Output.Add(ValueInfo(ReconstructionName, data.InputSize));
        }

        if (options.Part != OnnxGraphPart.Decoder)
        {
            graph.Output.Add(ValueInfo(CodeName, data.CodeSize));
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion(options.Opset),
            ProducerName = "EdgeAe",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0",
            Graph = graph,
            DocString = $"An EdgeAe autoencoder: {data.Describe()}",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = options.Opset });

        // What ONNX has no place for (loss, code, normalisation, code range, threshold, baseline, fingerprints): EdgeAe's
        // metadata keys. The weight file's own CRC-32 when exported from one (unknown optional sections included).
        EdgeAeMetadata.Write(model, data, options.Part, data.SourceChecksum ?? data.Checksum());
        return model;
    }

    /// <summary>
    /// The name of layer <paramref name="l"/>'s weight initializer, added once. A tied decoder layer names its mirror's
    /// initializer and sets transB = 1. (Int8 models take another path: <see cref="QdqExporter"/>.)
    /// </summary>
    private static string Weight(GraphProto graph, AutoencoderData data, int l, HashSet<string> written, NodeProto gemm)
    {
        DenseLayer layer = data.Layers[l];
        int owner = layer.TiedTo >= 0 ? layer.TiedTo : l;
        string name = $"layer{owner}.weight";
        if (written.Add(name))
        {
            DenseLayer source = data.Layers[owner];
            graph.Initializer.Add(Tensors.Float(name, [source.InputWidth, source.Width], source.Weights));
        }

        if (layer.TiedTo >= 0)
        {
            gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        }

        return name;
    }

    private static ValueInfoProto ValueInfo(string name, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>The IR version that goes with an opset (ONNX's versioning table).</summary>
    private static long IrVersion(int opset) => opset switch
    {
        <= 8 => 3,
        9 => 4,
        10 => 5,
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };
}
