namespace EdgeAe.Quantization;

/// <summary>
/// A float model's layers one by one, in double precision, from its topology and parameter buffer: what calibration
/// observes (each layer's pre-activation and output) and what the quantiser's report compares int8 outputs against.
/// </summary>
internal sealed class FloatLayers
{
    private readonly ModelTopology _topology;
    private readonly double[][] _weights; // per layer, input-major for that layer (a tied layer's W transposed here)
    private readonly double[][] _biases;

    public FloatLayers(ModelTopology topology, ReadOnlySpan<float> parameters)
    {
        _topology = topology;
        int count = topology.Layers.Count;
        _weights = new double[count][];
        _biases = new double[count][];
        for (int l = 0; l < count; l++)
        {
            LayerInfo layer = topology.Layers[l];
            int m = layer.InputWidth, n = layer.Width;
            var w = new double[m * n];
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    // An untied layer stores W[i, j] at i·n + j; a tied layer reads its mirror's W, output-major for it.
                    w[(i * n) + j] = layer.IsTied ? parameters[layer.WeightOffset + (j * m) + i] : parameters[layer.WeightOffset + (i * n) + j];
                }
            }

            _weights[l] = w;
            _biases[l] = new double[n];
            for (int j = 0; j < n; j++)
            {
                _biases[l][j] = parameters[layer.BiasOffset + j];
            }
        }
    }

    /// <summary>W of layer <paramref name="layer"/>, input-major for that layer.</summary>
    public double[] Weights(int layer) => _weights[layer];

    /// <summary>b of layer <paramref name="layer"/>.</summary>
    public double[] Biases(int layer) => _biases[layer];

    /// <summary>One layer: z = b + x·W into <paramref name="z"/>, a = f(z) into <paramref name="a"/>.</summary>
    public void Layer(int index, ReadOnlySpan<double> x, Span<double> z, Span<double> a)
    {
        LayerInfo layer = _topology.Layers[index];
        int n = layer.Width;
        double[] w = _weights[index];
        _biases[index].CopyTo(z);
        for (int i = 0; i < layer.InputWidth; i++)
        {
            double xi = x[i];
            if (xi == 0)
            {
                continue;
            }

            ReadOnlySpan<double> row = w.AsSpan(i * n, n);
            for (int j = 0; j < n; j++)
            {
                z[j] += xi * row[j];
            }
        }

        for (int j = 0; j < n; j++)
        {
            a[j] = Activate(layer.Activation, z[j]);
        }
    }

    /// <summary>f(z) in double.</summary>
    public static double Activate(ActivationKind activation, double z) => activation switch
    {
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-z)),
        ActivationKind.Tanh => Math.Tanh(z),
        ActivationKind.Relu => Math.Max(0, z),
        _ => z,
    };
}
