namespace EdgeAe.Onnx;

/// <summary>Why an ONNX file cannot be imported as an EdgeAe model.</summary>
public enum OnnxImportError
{
    /// <summary>The bytes are not a readable ONNX model (protobuf decoding failed, or a required part is missing).</summary>
    Malformed,

    /// <summary>The model announces an opset, a domain or a feature outside what the importer reads.</summary>
    UnsupportedVersion,

    /// <summary>A node's operator (or one of its attributes) is not in the supported subset.</summary>
    UnsupportedOperator,

    /// <summary>The graph is not one chain of dense layers and activations (branches, weights as inputs, non-bias broadcasts, layout changes).</summary>
    UnsupportedStructure,

    /// <summary>A tensor has an unsupported element type, dynamic or invalid dimensions, external data or non-finite values.</summary>
    UnsupportedTensor,

    /// <summary>The graph is a dense chain, but not an autoencoder EdgeAe can declare (widths, code layer, activations, loss).</summary>
    NotAnAutoencoder,

    /// <summary>The options given to the importer contradict each other or the graph (code layer out of range, unknown output name).</summary>
    InvalidOption,

    /// <summary>The file cannot be read, or an output cannot be written.</summary>
    Io,
}

/// <summary>
/// The one error an ONNX import ends with: it names the node and its operator type where one is to blame, says what
/// is supported, and leaves no output behind (docs/onnx.md).
/// </summary>
public sealed class OnnxImportException : Exception
{
    /// <summary>Creates the exception; <paramref name="message"/> is a complete sentence-like line.</summary>
    public OnnxImportException(OnnxImportError reason, string message, string? nodeName = null, string? opType = null, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
        NodeName = nodeName;
        OpType = opType;
    }

    /// <summary>The class of the problem.</summary>
    public OnnxImportError Reason { get; }

    /// <summary>The name of the node at fault (its output name when it has no name), or null when no node is.</summary>
    public string? NodeName { get; }

    /// <summary>The operator type of the node at fault, or null.</summary>
    public string? OpType { get; }
}
