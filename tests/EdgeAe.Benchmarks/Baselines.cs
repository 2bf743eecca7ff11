using System.Numerics.Tensors;

namespace EdgeAe.Benchmarks;

/// <summary>The peers' forward passes over a model's weights: a hand-written scalar loop and TensorPrimitives.</summary>
internal sealed class Baselines
{
    private readonly ModelTopology _topology;
    private readonly float[] _p;
    private readonly float[][] _wT; // per layer: output-major W (row j = weights of output j), for dot products
    private readonly float[][] _buffers;

    public Baselines(IAutoencoder model)
    {
        _topology = model.Topology;
        _p = model.Parameters.ToArray();
        _wT = new float[_topology.Layers.Count][];
        _buffers = new float[_topology.Layers.Count][];
        for (int l = 0; l < _topology.Layers.Count; l++)
        {
            LayerInfo layer = _topology.Layers[l];
            var t = new float[layer.InputWidth * layer.Width];
            for (int i = 0; i < layer.InputWidth; i++)
            {
                for (int j = 0; j < layer.Width; j++)
                {
                    t[j * layer.InputWidth + i] = layer.IsTied ? _p[layer.WeightOffset + j * layer.InputWidth + i] : _p[layer.WeightOffset + i * layer.Width + j];
                }
            }

            _wT[l] = t;
            _buffers[l] = new float[layer.Width];
        }
    }

    /// <summary>Plain scalar C#: y = b, then y += x[i]·W[i, ·] (input-major), then the activation.</summary>
    public void Scalar(ReadOnlySpan<float> input, Span<float> output, int last)
    {
        ReadOnlySpan<float> x = input;
        float[] p = _p;
        for (int l = 0; l <= last; l++)
        {
            LayerInfo layer = _topology.Layers[l];
            float[] y = _buffers[l];
            int n = layer.Width;
            for (int j = 0; j < n; j++)
            {
                y[j] = p[layer.BiasOffset + j];
            }

            for (int i = 0; i < layer.InputWidth; i++)
            {
                float xi = x[i];
                int row = layer.WeightOffset + i * n;
                for (int j = 0; j < n; j++)
                {
                    y[j] += xi * p[row + j];
                }
            }

            for (int j = 0; j < n; j++)
            {
                y[j] = layer.Activation switch
                {
                    ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-y[j])),
                    ActivationKind.Tanh => MathF.Tanh(y[j]),
                    ActivationKind.Relu => y[j] < 0 ? 0 : y[j],
                    _ => y[j],
                };
            }

            x = y;
        }

        x.CopyTo(output);
    }

    /// <summary>TensorPrimitives: one Dot per output row, bias add, then the vectorised activation.</summary>
    public void Tensor(ReadOnlySpan<float> input, Span<float> output, int last)
    {
        ReadOnlySpan<float> x = input;
        for (int l = 0; l <= last; l++)
        {
            LayerInfo layer = _topology.Layers[l];
            float[] y = _buffers[l];
            float[] w = _wT[l];
            int m = layer.InputWidth;
            for (int j = 0; j < layer.Width; j++)
            {
                y[j] = TensorPrimitives.Dot(x, new ReadOnlySpan<float>(w, j * m, m));
            }

            TensorPrimitives.Add(y, new ReadOnlySpan<float>(_p, layer.BiasOffset, layer.Width), y);
            switch (layer.Activation)
            {
                case ActivationKind.Sigmoid:
                    TensorPrimitives.Sigmoid(y, y);
                    break;
                case ActivationKind.Tanh:
                    TensorPrimitives.Tanh(y, y);
                    break;
                case ActivationKind.Relu:
                    TensorPrimitives.Max(y, 0f, y);
                    break;
            }

            x = y;
        }

        x.CopyTo(output);
    }
}
