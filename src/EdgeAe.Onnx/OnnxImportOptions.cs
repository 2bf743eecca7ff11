namespace EdgeAe.Onnx;

/// <summary>What the importer cannot read from an ONNX graph, stated by the user (docs/onnx.md).</summary>
public sealed class OnnxImportOptions
{
    /// <summary>
    /// The index of the code layer among the dense layers (0 = the first; the output layer cannot be it). Null: use
    /// <see cref="CodeOutput"/>, or what the graph marks (a second graph output, or metadata <c>edgeae.code</c>).
    /// </summary>
    public int? CodeLayer { get; set; }

    /// <summary>The name of the value the code layer produces (a graph output or an intermediate value).</summary>
    public string? CodeOutput { get; set; }

    /// <summary>The loss to declare. Null: metadata <c>edgeae.loss</c>, else binary cross-entropy for a Sigmoid output and squared error otherwise.</summary>
    public LossKind? Loss { get; set; }

    /// <summary>The class the declaration declares (a C# identifier).</summary>
    public string ClassName { get; set; } = "ImportedAe";

    /// <summary>The namespace of the declaration; null or empty: none.</summary>
    public string? Namespace { get; set; }

    /// <summary>The declaration's <c>Seed</c> (used when the model is re-initialised, e.g. to train from scratch).</summary>
    public int Seed { get; set; }
}
