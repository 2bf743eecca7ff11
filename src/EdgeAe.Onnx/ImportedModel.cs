using EdgeAe.Data;
using EdgeAe.IO;

namespace EdgeAe.Onnx;

/// <summary>One layer of an imported model and the ONNX node its product came from.</summary>
/// <param name="Role">Where it sits.</param>
/// <param name="InputWidth">Inputs.</param>
/// <param name="Width">Outputs.</param>
/// <param name="Activation">Its activation.</param>
/// <param name="Node">The node of its product, e.g. <c>node '/encoder/0/Gemm' (Gemm)</c>.</param>
public sealed record ImportedLayer(LayerRole Role, int InputWidth, int Width, ActivationKind Activation, string Node);

/// <summary>
/// The result of an import, in memory: an EdgeAe declaration (C# source) and a weight file (.eaw bytes) that belong
/// together. <see cref="Save(string, string)"/> writes both or neither.
/// </summary>
public sealed class ImportedModel
{
    private readonly byte[] _weightFile;

    internal ImportedModel(AutoencoderData data, IReadOnlyList<ImportedLayer> layers, string declaration, byte[] weightFile, IReadOnlyList<string> notes, string className)
    {
        InputSize = data.InputSize;
        Loss = data.Loss;
        TiedWeights = data.TiedWeights;
        CodeLayerIndex = data.CodeLayerIndex;
        Normalization = data.Normalization;
        Topology = data.Describe();
        Layers = layers;
        Declaration = declaration;
        _weightFile = weightFile;
        Notes = notes;
        ClassName = className;
        ParameterCount = data.Layers.Sum(l => (l.TiedTo >= 0 ? 0 : l.InputWidth * l.Width) + l.Width);
    }

    /// <summary>The declared class's name.</summary>
    public string ClassName { get; }

    /// <summary>Width of the input and of the reconstruction.</summary>
    public int InputSize { get; }

    /// <summary>The declared loss (as given, from EdgeAe metadata, or inferred from the output activation; see <see cref="Notes"/>).</summary>
    public LossKind Loss { get; }

    /// <summary>Whether every decoder layer reads its mirror encoder layer's weights transposed.</summary>
    public bool TiedWeights { get; }

    /// <summary>The dense layers, encoder first.</summary>
    public IReadOnlyList<ImportedLayer> Layers { get; }

    /// <summary>Index of the code layer in <see cref="Layers"/>.</summary>
    public int CodeLayerIndex { get; }

    /// <summary>Trainable parameters (a tied W counted once).</summary>
    public int ParameterCount { get; }

    /// <summary>The normalisation stored in the weight file (none unless the graph was exported by EdgeAe with one).</summary>
    public Normalization Normalization { get; }

    /// <summary>A short description such as <c>64→16→64 (Sigmoid, Sigmoid), BinaryCrossEntropy</c>.</summary>
    public string Topology { get; }

    /// <summary>The C# declaration (attributes on a partial class).</summary>
    public string Declaration { get; }

    /// <summary>The weight file's bytes (a valid <c>.eaw</c>, version 1).</summary>
    public ReadOnlySpan<byte> WeightFile => _weightFile;

    /// <summary>How the code layer, the loss, tied weights and the normalisation were decided, one sentence each.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// Writes the declaration to <paramref name="declarationPath"/> and the weights to <paramref name="weightsPath"/>, both
    /// or neither: each file is written atomically (EdgeAe.IO.AtomicFile); when the second write fails, the first file is
    /// put back as it was (or removed when it did not exist).
    /// </summary>
    /// <exception cref="OnnxImportException">With <see cref="OnnxImportError.Io"/> when a file cannot be written, or when both paths name the same file.</exception>
    public void Save(string declarationPath, string weightsPath) => Save(declarationPath, weightsPath, AtomicFile.WriteAllText);

    /// <summary>Save with an injectable writer of the declaration (tests make it fail after the weights were written).</summary>
    internal void Save(string declarationPath, string weightsPath, Action<string, string> writeDeclaration)
    {
        ArgumentNullException.ThrowIfNull(declarationPath);
        ArgumentNullException.ThrowIfNull(weightsPath);
        if (FileIdentity.SameFile(declarationPath, weightsPath))
        {
            throw new OnnxImportException(OnnxImportError.Io, $"the declaration and the weights would both be written to '{weightsPath}'");
        }

        foreach (string path in new[] { declarationPath, weightsPath })
        {
            if (AtomicFile.ProblemWriting(path) is string problem)
            {
                throw new OnnxImportException(OnnxImportError.Io, $"cannot write '{path}': {problem}");
            }
        }

        byte[]? previous = null;
        bool existed = File.Exists(weightsPath);
        try
        {
            if (existed)
            {
                previous = File.ReadAllBytes(weightsPath);
            }

            AtomicFile.WriteAllBytes(weightsPath, _weightFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxImportException(OnnxImportError.Io, $"cannot write '{weightsPath}': {e.Message}", inner: e);
        }

        try
        {
            writeDeclaration(declarationPath, Declaration);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Restore(weightsPath, existed, previous);
            throw new OnnxImportException(OnnxImportError.Io, $"cannot write '{declarationPath}': {e.Message} (the weight file was left as it was)", inner: e);
        }
    }

    private static void Restore(string path, bool existed, byte[]? previous)
    {
        try
        {
            if (existed)
            {
                AtomicFile.WriteAllBytes(path, previous);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original error is the one to report; a folder that refuses both writes has nothing to restore into.
        }
    }
}
