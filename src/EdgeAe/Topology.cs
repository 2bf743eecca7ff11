namespace EdgeAe;

/// <summary>Activation function of a dense layer (mirrors the declaration's <c>EdgeAe.Activation</c>).</summary>
public enum ActivationKind
{
    /// <summary>Identity.</summary>
    Linear = 0,

    /// <summary>Logistic sigmoid.</summary>
    Sigmoid = 1,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh = 2,

    /// <summary>Rectified linear unit.</summary>
    Relu = 3,
}

/// <summary>Reconstruction loss (mirrors the declaration's <c>EdgeAe.Loss</c>).</summary>
public enum LossKind
{
    /// <summary>Binary cross-entropy summed over elements; reported as the mean per element.</summary>
    BinaryCrossEntropy = 0,

    /// <summary>Squared error ½Σ(x̂ − x)²; reported as the mean squared error per element.</summary>
    SquaredError = 1,
}

/// <summary>Where a layer sits in the autoencoder.</summary>
public enum LayerRole
{
    /// <summary>A hidden layer before the code.</summary>
    Encoder = 0,

    /// <summary>The code (bottleneck) layer.</summary>
    Code = 1,

    /// <summary>A hidden layer after the code.</summary>
    Decoder = 2,

    /// <summary>The reconstruction layer.</summary>
    Output = 3,
}

/// <summary>One dense layer of a generated model and where its tensors live in the parameter buffer.</summary>
/// <param name="Role">Where the layer sits.</param>
/// <param name="InputWidth">Inputs of the layer.</param>
/// <param name="Width">Outputs of the layer.</param>
/// <param name="Activation">Activation applied to the outputs.</param>
/// <param name="WeightOffset">Offset of W in the parameter buffer; W[i, j] (input i, output j) is at WeightOffset + i·Width + j.</param>
/// <param name="BiasOffset">Offset of the Width biases in the parameter buffer.</param>
/// <param name="TiedTo">For a tied decoder layer, the index of the encoder layer whose W it reads transposed (WeightOffset is that W); otherwise −1.</param>
public sealed record LayerInfo(LayerRole Role, int InputWidth, int Width, ActivationKind Activation, int WeightOffset, int BiasOffset, int TiedTo = -1)
{
    /// <summary>True when this layer uses another layer's weights transposed.</summary>
    public bool IsTied => TiedTo >= 0;

    /// <summary>Number of weights the layer uses (InputWidth × Width), owned or tied.</summary>
    public int WeightCount => InputWidth * Width;

    /// <summary>Parameters the layer owns: its weights (unless tied) plus its biases.</summary>
    public int ParameterCount => (IsTied ? 0 : InputWidth * Width) + Width;
}

/// <summary>
/// The static description of a generated model, emitted by the generator: the single source of
/// truth for its sizes and parameter layout at run time (weight files, optimizers, reports).
/// </summary>
public sealed class ModelTopology
{
    /// <summary>Creates a topology; called by generated code.</summary>
    public ModelTopology(string name, int inputSize, LossKind loss, int seed, int parameterBufferLength, int inferenceWorkspaceLength, int workspaceLength, LayerInfo[] layers, bool tiedWeights = false, int maxBatchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
        {
            throw new ArgumentException("A model has at least one layer.", nameof(layers));
        }

        Name = name;
        InputSize = inputSize;
        Loss = loss;
        Seed = seed;
        ParameterBufferLength = parameterBufferLength;
        InferenceWorkspaceLength = inferenceWorkspaceLength;
        WorkspaceLength = workspaceLength;
        Layers = layers.ToArray();
        TiedWeights = tiedWeights;
        MaxBatchSize = maxBatchSize;
        CodeLayerIndex = Array.FindIndex(layers, l => l.Role == LayerRole.Code);
        ParameterCount = layers.Sum(l => l.ParameterCount);
    }

    /// <summary>Full name of the declared type.</summary>
    public string Name { get; }

    /// <summary>Width of the input and of the reconstruction.</summary>
    public int InputSize { get; }

    /// <summary>Width of the code.</summary>
    public int CodeSize => Layers[CodeLayerIndex].Width;

    /// <summary>The loss training minimises.</summary>
    public LossKind Loss { get; }

    /// <summary>The declared initialisation seed.</summary>
    public int Seed { get; }

    /// <summary>
    /// True when each decoder layer uses the transpose of its mirror encoder layer's weights
    /// (one weight tensor, two uses); such decoder layers have only their own biases.
    /// </summary>
    public bool TiedWeights { get; }

    /// <summary>Largest batch the model's batch methods accept.</summary>
    public int MaxBatchSize { get; }

    /// <summary>The layers in order, encoder first.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>Index of the code layer in <see cref="Layers"/>.</summary>
    public int CodeLayerIndex { get; }

    /// <summary>Trainable parameters, padding excluded.</summary>
    public int ParameterCount { get; }

    /// <summary>Floats in the parameter buffer, alignment padding included.</summary>
    public int ParameterBufferLength { get; }

    /// <summary>Workspace floats used by inference.</summary>
    public int InferenceWorkspaceLength { get; }

    /// <summary>Workspace floats used by training.</summary>
    public int WorkspaceLength { get; }

    /// <summary>A short description such as <c>64→32→16→32→64 (Relu, Sigmoid, Relu, Sigmoid), BinaryCrossEntropy</c>.</summary>
    public override string ToString()
        => $"{InputSize}→{string.Join("→", Layers.Select(l => l.Width))} ({string.Join(", ", Layers.Select(l => l.Activation))}), {Loss}";
}
