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
        Threshold = data.Threshold;
        CodeBits = data.CodecBits;
        HasBaseline = data.Baseline is not null;
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

    /// <summary>The anomaly threshold stored in the weight file (restored from an EdgeAe export's metadata), or null.</summary>
    public Anomaly.AnomalyThreshold? Threshold { get; }

    /// <summary>Bits per code value of the stored code range (restored from an EdgeAe export's metadata), 0 without one.</summary>
    public int CodeBits { get; }

    /// <summary>Whether the weight file holds a PCA baseline (restored from an EdgeAe export's metadata).</summary>
    public bool HasBaseline { get; }

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
    /// or neither. Both are first written to temporary files beside their targets and flushed to disk; only then is the
    /// weight file renamed over its target, then the declaration. A failure before the renames replaces nothing; if the
    /// declaration's rename fails, the previous weight file is put back (or the new one removed when there was none).
    /// </summary>
    /// <remarks>
    /// A process killed between the two renames leaves the new weight file beside the previous declaration, never the
    /// previous weight file beside the new declaration: the weight file is what computes, and a declaration of another
    /// topology refuses it when the pair is loaded (<c>WeightFile.Load</c>'s <c>TopologyMismatch</c>, the generator's
    /// EAE0019 when it bakes the file). With the same topology the pair computes the new model, and only the declaration's
    /// header still describes the previous import: its CRC-32 line then differs from the weight file's (docs/cli.md).
    /// </remarks>
    /// <exception cref="OnnxImportException">With <see cref="OnnxImportError.Io"/> when a file cannot be written, or when both paths name the same file.</exception>
    public void Save(string declarationPath, string weightsPath) => Save(declarationPath, weightsPath, WriteDeclaration, betweenRenames: null);

    /// <summary>
    /// Save with an injectable writer of the declaration's content (tests make it fail) and an action run between the two
    /// renames (tests stop there, as a killed process would).
    /// </summary>
    internal void Save(string declarationPath, string weightsPath, Action<Stream, string> writeDeclaration, Action? betweenRenames)
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

        PreparedFile? weights = null, declaration = null;
        try
        {
            // Both files complete on disk before either target is replaced: a full disk or an unwritable file replaces nothing.
            weights = Prepare(weightsPath, stream => stream.Write(_weightFile));
            declaration = Prepare(declarationPath, stream => writeDeclaration(stream, Declaration));
            bool existed = File.Exists(weightsPath);
            byte[]? previous = null;
            try
            {
                previous = existed ? File.ReadAllBytes(weightsPath) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new OnnxImportException(OnnxImportError.Io, $"cannot read the existing '{weightsPath}', kept to be put back should the declaration fail: {e.Message} (neither file was replaced)", inner: e);
            }

            try
            {
                weights.Commit();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new OnnxImportException(OnnxImportError.Io, $"cannot write '{weightsPath}': {e.Message} (neither file was replaced)", inner: e);
            }

            // The window a kill can hit: the new weight file beside the previous declaration (see the remarks).
            betweenRenames?.Invoke();
            try
            {
                declaration.Commit();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                string restored = Restore(weightsPath, existed, previous);
                throw new OnnxImportException(OnnxImportError.Io, $"cannot write '{declarationPath}': {e.Message} ({restored})", inner: e);
            }
        }
        finally
        {
            declaration?.Dispose();
            weights?.Dispose();
        }
    }

    /// <summary>The weight file's CRC-32, as <c>edgeae inspect</c> prints it.</summary>
    public uint WeightFileChecksum => AutoencoderData.ChecksumOf(_weightFile);

    /// <summary>The model id the weight file's packets carry (its CRC-32 folded, docs/packet-format.md).</summary>
    public ushort PacketModelId => Compression.PacketFormat.ModelId(WeightFileChecksum);

    private static PreparedFile Prepare(string path, Action<Stream> write)
    {
        try
        {
            return AtomicFile.Prepare(path, write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxImportException(OnnxImportError.Io, $"cannot write '{path}': {e.Message} (neither file was replaced)", inner: e);
        }
    }

    private static void WriteDeclaration(Stream stream, string text)
    {
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
        writer.Write(text);
    }

    /// <summary>Puts the previous weight file back (or removes the new one); says what it did, for the error message.</summary>
    private static string Restore(string path, bool existed, byte[]? previous)
    {
        try
        {
            if (existed)
            {
                AtomicFile.WriteAllBytes(path, previous);
                return "the previous weight file was put back";
            }

            File.Delete(path);
            return "the new weight file was removed again";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original error is the one to report; a folder that refuses both writes has nothing to restore into.
            return $"the {(existed ? "previous weight file could not be put back" : "new weight file could not be removed")}: {e.Message}";
        }
    }
}
