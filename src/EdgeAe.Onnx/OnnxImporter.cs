using EdgeAe.IO;
using Onnx;

namespace EdgeAe.Onnx;

/// <summary>
/// Imports a dense autoencoder from an ONNX file (PyTorch's TorchScript and dynamo exporters, Keras through tf2onnx) as an
/// EdgeAe declaration plus a weight file. The supported subset and the rules are in docs/onnx.md; anything outside it is
/// one <see cref="OnnxImportException"/> naming the node, its operator and what is supported.
/// </summary>
public static class OnnxImporter
{
    /// <summary>Reads and converts the ONNX file at <paramref name="path"/>; nothing is written (see <see cref="ImportedModel.Save(string, string)"/>).</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="options">Code layer, loss and class name; null: defaults (the graph must then mark its code layer).</param>
    /// <param name="weightsFileName">The weight file's name, as the declaration's comment mentions it.</param>
    /// <exception cref="OnnxImportException">The file cannot be read or imported.</exception>
    public static ImportedModel Import(string path, OnnxImportOptions? options = null, string weightsFileName = "model.eaw")
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new OnnxImportException(OnnxImportError.Io, $"cannot read '{path}': {e.Message}", inner: e);
        }

        return Import(bytes, path, options, weightsFileName);
    }

    /// <summary>Converts the bytes of an ONNX model (named <paramref name="source"/> in messages).</summary>
    /// <exception cref="OnnxImportException">The bytes cannot be imported.</exception>
    public static ImportedModel Import(byte[] bytes, string source, OnnxImportOptions? options = null, string weightsFileName = "model.eaw")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(source);
        options ??= new OnnxImportOptions();
        if (!DeclarationWriter.IsIdentifier(options.ClassName))
        {
            throw new OnnxImportException(OnnxImportError.InvalidOption, $"'{options.ClassName}' is not a C# class name (letters, digits and '_', not starting with a digit, not a keyword)");
        }

        if (DeclarationWriter.Hidden.Contains(options.ClassName))
        {
            throw new OnnxImportException(OnnxImportError.InvalidOption,
                $"a class named '{options.ClassName}' would hide EdgeAe's {options.ClassName}, which the declaration uses, so it would not compile; choose another class name");
        }

        if (!string.IsNullOrEmpty(options.Namespace) && !options.Namespace.Split('.').All(DeclarationWriter.IsIdentifier))
        {
            throw new OnnxImportException(OnnxImportError.InvalidOption, $"'{options.Namespace}' is not a C# namespace");
        }

        if (options.Namespace?.Split('.').FirstOrDefault(n => n is "Loss" or "Activation") is string hiding)
        {
            throw new OnnxImportException(OnnxImportError.InvalidOption,
                $"in namespace '{options.Namespace}' the name {hiding} would mean the namespace, not EdgeAe's {hiding}, which the declaration uses, so it would not compile; choose another namespace");
        }

        DenseNetwork network = ReadNetwork(bytes, source);
        (AutoencoderData data, IReadOnlyList<string> notes) = AutoencoderBuilder.Build(network, options);
        NetworkStep[] dense = network.Steps.Where(s => s.Kind == StepKind.Dense).ToArray();
        ImportedLayer[] layers = data.Layers.Select((l, i) => new ImportedLayer(l.Role, l.InputWidth, l.Width, l.Activation, dense[i].Describe())).ToArray();
        byte[] weightFile = WeightFileOf(data, source);
        uint checksum = AutoencoderData.ChecksumOf(weightFile);
        string declaration = DeclarationWriter.Write(data, network, options, Path.GetFileName(weightsFileName), checksum, notes);
        return new ImportedModel(data, layers, declaration, weightFile, notes, options.ClassName);
    }

    /// <summary>
    /// The weight file of an import, checked by the format's own reader: every value restored from the metadata was
    /// validated on the way in, so a refusal here is a defect, but it must still end as the import's one exception.
    /// </summary>
    private static byte[] WeightFileOf(AutoencoderData data, string source)
    {
        byte[] bytes;
        try
        {
            bytes = data.ToWeightFile();
        }
        catch (ArgumentException e)
        {
            throw new OnnxImportException(OnnxImportError.Malformed, $"{source}: the graph and its metadata do not make a valid weight file: {e.Message}", inner: e);
        }

        return IO.Format.WeightFileFormat.TryParse(bytes, out _, out string error)
            ? bytes
            : throw new OnnxImportException(OnnxImportError.Malformed, $"{source}: the graph and its metadata do not make a valid weight file: {error}");
    }

    /// <summary>Imports <paramref name="onnxPath"/> and writes the declaration and the weight file, both or neither.</summary>
    /// <exception cref="OnnxImportException">The import failed (nothing was written), or an output equals the input.</exception>
    public static ImportedModel ImportFile(string onnxPath, string declarationPath, string weightsPath, OnnxImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onnxPath);
        ArgumentNullException.ThrowIfNull(declarationPath);
        ArgumentNullException.ThrowIfNull(weightsPath);
        foreach (string output in new[] { declarationPath, weightsPath })
        {
            if (FileIdentity.SameFile(onnxPath, output))
            {
                throw new OnnxImportException(OnnxImportError.Io, $"the output '{output}' is the input '{onnxPath}'; choose another path");
            }
        }

        ImportedModel model = Import(onnxPath, options, weightsPath);
        model.Save(declarationPath, weightsPath);
        return model;
    }

    /// <summary>The graph as a chain of dense steps and activations (the level below the autoencoder; conformance tests use it).</summary>
    internal static DenseNetwork ReadNetwork(byte[] bytes, string source)
    {
        ModelProto model = GraphReader.Parse(bytes, source);
        return GraphReader.Read(model, source);
    }
}
