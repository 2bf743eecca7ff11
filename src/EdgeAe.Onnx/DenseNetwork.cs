using System.Globalization;

namespace EdgeAe.Onnx;

/// <summary>What a step of a <see cref="DenseNetwork"/> does.</summary>
internal enum StepKind
{
    /// <summary>y = x·W + b.</summary>
    Dense,

    /// <summary>y = f(x), element-wise.</summary>
    Activation,
}

/// <summary>One step of an imported chain, with the node it came from (for messages).</summary>
internal sealed class NetworkStep
{
    private NetworkStep(StepKind kind, string node, string opType)
    {
        Kind = kind;
        Node = node;
        OpType = opType;
    }

    public StepKind Kind { get; }

    /// <summary>The node's name, or its output's name when the node has none.</summary>
    public string Node { get; }

    public string OpType { get; }

    public int InputWidth { get; private init; }

    public int Width { get; private init; }

    /// <summary>Dense: W input-major, W[i, j] (input i, output j) at i·Width + j — the EdgeAe layout.</summary>
    public float[] Weights { get; private init; } = [];

    /// <summary>Dense: the biases (zero when the graph adds none).</summary>
    public float[] Biases { get; private init; } = [];

    /// <summary>Dense: the initializer W was read from, when it is used unscaled (a candidate for tied weights).</summary>
    public string? WeightSource { get; set; }

    /// <summary>Activation: which.</summary>
    public ActivationKind Activation { get; private init; }

    /// <summary>Whether a bias was added (Gemm's C or an Add); a second one is summed in.</summary>
    public bool HasBias { get; set; }

    public string Describe() => $"node '{Node}' ({OpType})";

    public static NetworkStep Dense(string node, string opType, int inputWidth, int width, float[] weights, string? weightSource)
        => new(StepKind.Dense, node, opType) { InputWidth = inputWidth, Width = width, Weights = weights, Biases = new float[width], WeightSource = weightSource };

    public static NetworkStep Activate(string node, string opType, int width, ActivationKind activation)
        => new(StepKind.Activation, node, opType) { InputWidth = width, Width = width, Activation = activation };
}

/// <summary>A graph output and where the chain produces it.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="Steps">How many steps of the chain have run when it is produced (0: the input itself).</param>
/// <param name="SampleDims">Its dimensions after the batch.</param>
internal sealed record NetworkOutput(string Name, int Steps, long[] SampleDims);

/// <summary>
/// An ONNX graph read as one chain of dense steps and element-wise activations, per sample — the level below an
/// autoencoder: any such chain (a single nn.Linear, an activation on images) evaluates here; <see cref="AutoencoderBuilder"/>
/// then decides whether it is an autoencoder EdgeAe can declare.
/// </summary>
internal sealed class DenseNetwork
{
    public required string Source { get; init; }

    public required string InputName { get; init; }

    /// <summary>The graph input's dimensions after the batch (per-sample layout, row-major).</summary>
    public required long[] InputSampleDims { get; init; }

    public int InputWidth => checked((int)InputSampleDims.Aggregate(1L, (a, d) => a * d));

    public required IReadOnlyList<NetworkStep> Steps { get; init; }

    public required IReadOnlyList<NetworkOutput> Outputs { get; init; }

    /// <summary>Every value of the chain by name (aliases through Identity, Flatten and Reshape included) → steps run when it is produced.</summary>
    public required IReadOnlyDictionary<string, int> Values { get; init; }

    /// <summary>The opset of the default domain.</summary>
    public required long Opset { get; init; }

    public required string Producer { get; init; }

    public required string GraphName { get; init; }

    /// <summary>The model's metadata_props (EdgeAe's exporter stores loss, code and normalisation there).</summary>
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>Runs the first <paramref name="steps"/> steps on one sample in double precision (a reference, not a kernel).</summary>
    public float[] Evaluate(ReadOnlySpan<float> sample, int steps)
    {
        if (sample.Length != InputWidth)
        {
            throw new ArgumentException($"Expected {InputWidth} values per sample but found {sample.Length}.", nameof(sample));
        }

        double[] x = sample.ToArray().Select(v => (double)v).ToArray();
        foreach (NetworkStep step in Steps.Take(steps))
        {
            if (step.Kind == StepKind.Dense)
            {
                var y = new double[step.Width];
                for (int j = 0; j < step.Width; j++)
                {
                    double sum = step.Biases[j];
                    for (int i = 0; i < step.InputWidth; i++)
                    {
                        sum += x[i] * step.Weights[(i * step.Width) + j];
                    }

                    y[j] = sum;
                }

                x = y;
            }
            else
            {
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = step.Activation switch
                    {
                        ActivationKind.Sigmoid => 1.0 / (1.0 + Math.Exp(-x[i])),
                        ActivationKind.Tanh => Math.Tanh(x[i]),
                        ActivationKind.Relu => Math.Max(0.0, x[i]),
                        _ => x[i],
                    };
                }
            }
        }

        return x.Select(v => (float)v).ToArray();
    }

    /// <summary>The chain as one line, e.g. <c>10 → Dense 8 → Sigmoid</c>.</summary>
    public override string ToString()
        => InputWidth.ToString(CultureInfo.InvariantCulture) + string.Concat(Steps.Select(s => s.Kind == StepKind.Dense ? $" → Dense {s.Width}" : $" → {s.Activation}"));
}
