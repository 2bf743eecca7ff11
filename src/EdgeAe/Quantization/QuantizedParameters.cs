using System.Globalization;
using EdgeAe.IO.Format;

namespace EdgeAe.Quantization;

/// <summary>How a tensor's real values map to integer codes: real = <see cref="Scale"/>·(q − <see cref="ZeroPoint"/>).</summary>
/// <param name="Scale">The real step between two codes (finite, &gt; 0).</param>
/// <param name="ZeroPoint">The code of the real value 0.</param>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint)
{
    /// <summary>The int8 code of <paramref name="x"/> (<see cref="Int8Arithmetic.Quantize"/>).</summary>
    public int Quantize(float x, int min = Int8Arithmetic.Int8Min, int max = Int8Arithmetic.Int8Max)
        => Int8Arithmetic.Quantize(x, Int8Arithmetic.Inverse(Scale), ZeroPoint, min, max);

    /// <summary>The real value of code <paramref name="q"/>.</summary>
    public float Dequantize(int q) => Int8Arithmetic.Dequantize(q, Scale, ZeroPoint);

    /// <summary>The real interval the codes <paramref name="min"/>..<paramref name="max"/> cover.</summary>
    public (float Low, float High) Range(int min = Int8Arithmetic.Int8Min, int max = Int8Arithmetic.Int8Max) => (Dequantize(min), Dequantize(max));

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"scale {Scale:G6}, zero point {ZeroPoint}");
}

/// <summary>One dense layer of an int8 model: its codes, scales and requantisation constants (docs/quantization.md).</summary>
public sealed class QuantizedLayer
{
    internal QuantizedLayer(int index, LayerFingerprint layer, QuantizationParameters input, Int8LayerData data)
    {
        Index = index;
        Role = (LayerRole)layer.Role;
        InputWidth = layer.InputWidth;
        Width = layer.Width;
        Activation = (ActivationKind)layer.Activation;
        Input = input;
        Data = data;
        FoldedBiases = new int[Width];
        for (int j = 0; j < Width; j++)
        {
            FoldedBiases[j] = Int8Arithmetic.FoldBias(data.Biases[j], input.ZeroPoint, data.Weights, Width, j);
        }

        (ZMin, ZMax) = Int8Arithmetic.Range(OutputBits);
        if (Activation == ActivationKind.Relu)
        {
            ZMin = Math.Max(ZMin, data.ZZeroPoint);
        }
    }

    /// <summary>Index of the layer in the model (0 = first encoder layer).</summary>
    public int Index { get; }

    /// <summary>Where the layer sits.</summary>
    public LayerRole Role { get; }

    /// <summary>Inputs of the layer.</summary>
    public int InputWidth { get; }

    /// <summary>Outputs of the layer.</summary>
    public int Width { get; }

    /// <summary>The activation: ReLU and linear are clamps of the requantised value, sigmoid and tanh a 256-entry table.</summary>
    public ActivationKind Activation { get; }

    /// <summary>Quantisation of the layer's input (the previous layer's output, or the model's input).</summary>
    public QuantizationParameters Input { get; }

    /// <summary>
    /// Quantisation of the requantised accumulator z (the pre-activation); for ReLU and linear layers the same as
    /// <see cref="Output"/>.
    /// </summary>
    public QuantizationParameters PreActivation => new(Data.ZScale, Data.ZZeroPoint);

    /// <summary>Quantisation of the layer's output.</summary>
    public QuantizationParameters Output => new(Data.OutputScale, Data.OutputZeroPoint);

    /// <summary>Bits of the output codes: 8.</summary>
    public int OutputBits => Data.OutputBits;

    /// <summary>The right shift n of every channel's requantisation (31..62).</summary>
    public int Shift => Data.Shift;

    /// <summary>Per output channel: the scale of its weights (symmetric: zero point 0).</summary>
    public ReadOnlySpan<float> WeightScales => Data.WeightScales;

    /// <summary>Per output channel: the Q31 multiplier M, factor M/2ⁿ ≈ input scale · weight scale / z scale.</summary>
    public ReadOnlySpan<int> Multipliers => Data.Multipliers;

    /// <summary>Sigmoid and tanh: the output code of each z code −128..127; empty for ReLU and linear.</summary>
    public ReadOnlySpan<sbyte> Table => Data.Table;

    /// <summary>W input-major (W[i, j] at i·Width + j), codes −127..127.</summary>
    public ReadOnlySpan<sbyte> Weights => Data.Weights;

    /// <summary>The biases in units of input scale × weight scale, as stored.</summary>
    public ReadOnlySpan<int> Biases => Data.Biases;

    /// <summary>B = b − zp_x·Σᵢ W[i, j]: the accumulator's start value per output.</summary>
    internal int[] FoldedBiases { get; }

    /// <summary>Lowest requantised code (the zero point for ReLU, else the range's minimum).</summary>
    internal int ZMin { get; }

    /// <summary>Highest requantised code.</summary>
    internal int ZMax { get; }

    internal Int8LayerData Data { get; }
}

/// <summary>
/// An int8 model: the quantisation of its input and every layer's codes and constants, for the topology it was made
/// for. Made by <see cref="Quantizer"/>, saved and read with <c>WeightFile</c>, run by a generated model's <c>Int8</c>
/// companion (and, as the specification, by the tests' reference).
/// </summary>
public sealed class QuantizedParameters
{
    internal QuantizedParameters(int inputSize, LossKind loss, bool tiedWeights, LayerFingerprint[] layers, Int8Data data)
    {
        if (data.Layers.Length != layers.Length)
        {
            throw new ArgumentException($"The int8 data describes {data.Layers.Length} layers but the topology has {layers.Length}.", nameof(data));
        }

        InputSize = inputSize;
        Loss = loss;
        TiedWeights = tiedWeights;
        Fingerprint = layers;
        Data = data;
        var list = new QuantizedLayer[layers.Length];
        var input = new QuantizationParameters(data.InputScale, data.InputZeroPoint);
        for (int i = 0; i < layers.Length; i++)
        {
            list[i] = new QuantizedLayer(i, layers[i], input, data.Layers[i]);
            input = list[i].Output;
        }

        Layers = list;
        CodeLayerIndex = Array.FindIndex(list, l => l.Role == LayerRole.Code);
    }

    /// <summary>Width of the input and of the reconstruction.</summary>
    public int InputSize { get; }

    /// <summary>The loss of the declaration the model was quantised from (reported losses use it).</summary>
    public LossKind Loss { get; }

    /// <summary>True when the float model's decoder reused the encoder's weights; the int8 model stores every W.</summary>
    public bool TiedWeights { get; }

    /// <summary>Quantisation of the model's input.</summary>
    public QuantizationParameters Input => new(Data.InputScale, Data.InputZeroPoint);

    /// <summary>The layers, encoder first.</summary>
    public IReadOnlyList<QuantizedLayer> Layers { get; }

    /// <summary>Index of the code layer.</summary>
    public int CodeLayerIndex { get; }

    /// <summary>Bytes of the int8 weights, int32 biases, weight scales and multipliers (and tables): what the model stores.</summary>
    public long ParameterBytes => Layers.Sum(l => (long)l.Weights.Length + (12L * l.Width) + l.Table.Length);

    internal LayerFingerprint[] Fingerprint { get; }

    internal Int8Data Data { get; }

    /// <summary>True when these parameters were made for <paramref name="topology"/>'s input width, loss and layers.</summary>
    public bool Fits(ModelTopology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return topology.InputSize == InputSize && topology.Loss == Loss && topology.TiedWeights == TiedWeights
            && topology.Layers.Count == Layers.Count
            && topology.Layers.Select((l, i) => l.Role == Layers[i].Role && l.InputWidth == Layers[i].InputWidth && l.Width == Layers[i].Width && l.Activation == Layers[i].Activation).All(b => b);
    }

    /// <summary>A short description such as <c>64→16→64 (Sigmoid, Sigmoid), BinaryCrossEntropy, int8</c>.</summary>
    public override string ToString()
        => $"{InputSize}→{string.Join("→", Layers.Select(l => l.Width))} ({string.Join(", ", Layers.Select(l => l.Activation))}), {Loss}{(TiedWeights ? ", tied weights" : string.Empty)}, int8";
}
