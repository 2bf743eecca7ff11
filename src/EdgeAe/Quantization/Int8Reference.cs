namespace EdgeAe.Quantization;

/// <summary>
/// The int8 forward pass written as plainly as docs/quantization.md states it: scalar loops, the unpacked tensors,
/// run-time sizes. It is the specification the optimised kernels and the firmware flavour are tested against for
/// exact equality, and what the quantiser's report runs. Slow; allocates.
/// </summary>
public static class Int8Reference
{
    /// <summary>
    /// One layer on input codes <paramref name="x"/>: acc = B + Σᵢ x[i]·W[i, j], z = requantised acc, y = table[z] (sigmoid,
    /// tanh) or z (ReLU, linear; ReLU clamps at the zero point). Writes <paramref name="z"/> and <paramref name="y"/>.
    /// </summary>
    public static void Layer(QuantizedLayer layer, ReadOnlySpan<int> x, Span<int> z, Span<int> y)
    {
        ArgumentNullException.ThrowIfNull(layer);
        int n = layer.Width;
        ReadOnlySpan<sbyte> w = layer.Weights;
        ReadOnlySpan<int> m = layer.Multipliers;
        ReadOnlySpan<sbyte> table = layer.Table;
        int zeroPoint = layer.PreActivation.ZeroPoint;
        for (int j = 0; j < n; j++)
        {
            int acc = layer.FoldedBiases[j];
            for (int i = 0; i < layer.InputWidth; i++)
            {
                acc += x[i] * w[(i * n) + j];
            }

            int zj = Int8Arithmetic.Requantize(acc, m[j], layer.Shift, zeroPoint, layer.ZMin, layer.ZMax);
            z[j] = zj;
            y[j] = table.IsEmpty ? zj : table[zj - Int8Arithmetic.Int8Min];
        }
    }

    /// <summary>The codes of a float input under <paramref name="quantization"/> (int8).</summary>
    public static int[] Quantize(ReadOnlySpan<float> values, QuantizationParameters quantization)
    {
        var codes = new int[values.Length];
        float inverse = Int8Arithmetic.Inverse(quantization.Scale);
        for (int i = 0; i < values.Length; i++)
        {
            codes[i] = Int8Arithmetic.Quantize(values[i], inverse, quantization.ZeroPoint);
        }

        return codes;
    }

    /// <summary>
    /// Layers <paramref name="first"/>..<paramref name="last"/> on <paramref name="input"/> (the float input of layer
    /// <paramref name="first"/>, quantised with its input quantisation); returns the codes of every layer's z and y.
    /// </summary>
    public static (int[][] Z, int[][] Y) Run(QuantizedParameters model, ReadOnlySpan<float> input, int first, int last)
    {
        ArgumentNullException.ThrowIfNull(model);
        var z = new int[last - first + 1][];
        var y = new int[last - first + 1][];
        int[] x = Quantize(input, model.Layers[first].Input);
        for (int l = first; l <= last; l++)
        {
            QuantizedLayer layer = model.Layers[l];
            z[l - first] = new int[layer.Width];
            y[l - first] = new int[layer.Width];
            Layer(layer, x, z[l - first], y[l - first]);
            x = y[l - first];
        }

        return (z, y);
    }

    /// <summary>The float code of <paramref name="input"/>: the code layer's outputs, dequantised.</summary>
    public static float[] Encode(QuantizedParameters model, ReadOnlySpan<float> input)
    {
        ArgumentNullException.ThrowIfNull(model);
        (_, int[][] y) = Run(model, input, 0, model.CodeLayerIndex);
        return Dequantize(y[^1], model.Layers[model.CodeLayerIndex].Output);
    }

    /// <summary>The float reconstruction of a float code.</summary>
    public static float[] Decode(QuantizedParameters model, ReadOnlySpan<float> code)
    {
        ArgumentNullException.ThrowIfNull(model);
        (_, int[][] y) = Run(model, code, model.CodeLayerIndex + 1, model.Layers.Count - 1);
        return Dequantize(y[^1], model.Layers[^1].Output);
    }

    /// <summary>The float reconstruction of <paramref name="input"/> through every layer.</summary>
    public static float[] Reconstruct(QuantizedParameters model, ReadOnlySpan<float> input)
    {
        ArgumentNullException.ThrowIfNull(model);
        (_, int[][] y) = Run(model, input, 0, model.Layers.Count - 1);
        return Dequantize(y[^1], model.Layers[^1].Output);
    }

    /// <summary>Codes to floats under <paramref name="quantization"/>.</summary>
    public static float[] Dequantize(ReadOnlySpan<int> codes, QuantizationParameters quantization)
    {
        var values = new float[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            values[i] = quantization.Dequantize(codes[i]);
        }

        return values;
    }
}
