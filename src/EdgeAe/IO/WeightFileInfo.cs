using EdgeAe.Data;

namespace EdgeAe.IO;

/// <summary>One layer as a weight file records it.</summary>
/// <param name="Role">Where the layer sits.</param>
/// <param name="InputWidth">Inputs of the layer.</param>
/// <param name="Width">Outputs of the layer.</param>
/// <param name="Activation">Activation applied to the outputs.</param>
public sealed record WeightFileLayer(LayerRole Role, int InputWidth, int Width, ActivationKind Activation)
{
    /// <summary>A short description such as <c>Code 64→16 Sigmoid</c>.</summary>
    public override string ToString() => $"{Role} {InputWidth}→{Width} {Activation}";
}

/// <summary>What a valid weight file holds, without its parameter values (for an <c>inspect</c> command).</summary>
public sealed class WeightFileInfo
{
    internal WeightFileInfo(string path, long fileSize, int formatVersion, uint checksum, int inputSize, LossKind loss, bool tiedWeights, IReadOnlyList<WeightFileLayer> layers, Normalization normalization, int elementType, int tensorCount, int parameterCount)
    {
        Path = path;
        FileSize = fileSize;
        FormatVersion = formatVersion;
        Checksum = checksum;
        InputSize = inputSize;
        Loss = loss;
        TiedWeights = tiedWeights;
        Layers = layers;
        Normalization = normalization;
        ElementType = elementType;
        TensorCount = tensorCount;
        ParameterCount = parameterCount;
    }

    /// <summary>The path the file was read from.</summary>
    public string Path { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize { get; }

    /// <summary>Format version of the file.</summary>
    public int FormatVersion { get; }

    /// <summary>The CRC-32 stored at the end of the file (verified).</summary>
    public uint Checksum { get; }

    /// <summary>Width of the input and of the reconstruction.</summary>
    public int InputSize { get; }

    /// <summary>The loss the model was declared with.</summary>
    public LossKind Loss { get; }

    /// <summary>Whether decoder layers reuse the transposed encoder weights.</summary>
    public bool TiedWeights { get; }

    /// <summary>The layers in order, encoder first.</summary>
    public IReadOnlyList<WeightFileLayer> Layers { get; }

    /// <summary>The normalisation stored with the weights.</summary>
    public Normalization Normalization { get; }

    /// <summary>Element type code of the parameter values (1 = float32, 2 = an int8 model).</summary>
    public int ElementType { get; }

    /// <summary>True when the file holds an int8 model (<see cref="Quantization"/>).</summary>
    public bool IsInt8 => Quantization is not null;

    /// <summary>The int8 model's scales, zero points and codes (null for a float32 file).</summary>
    public Quantization.QuantizedParameters? Quantization { get; internal init; }

    /// <summary>Number of stored tensors (weights and biases).</summary>
    public int TensorCount { get; }

    /// <summary>Number of stored parameter values (padding excluded).</summary>
    public int ParameterCount { get; }

    /// <summary>The anomaly threshold and how it was calibrated (<c>anom</c> section), or null when the file has none.</summary>
    public Anomaly.AnomalyThreshold? AnomalyThreshold { get; internal init; }
    /// <summary>Bits per code value of the stored code quantisation (<c>qant</c>), or null when the file has none.</summary>
    public int? CodeBits { get; init; }

    /// <summary>The stored PCA baseline (<c>pcab</c>), or null when the file has none.</summary>
    public Baselines.Pca? Baseline { get; init; }

    /// <summary>A short description of the topology, in the style of <see cref="ModelTopology.ToString"/>.</summary>
    public string Topology => WeightFile.Describe(InputSize, Layers, Loss, TiedWeights);

    /// <inheritdoc/>
    public override string ToString() => $"{Topology}; {ParameterCount} parameters{(IsInt8 ? " (int8)" : string.Empty)}; normalisation {Normalization.Kind}; CRC-32 0x{Checksum:X8}; {FileSize} bytes";
}
