namespace EdgeAe.Tests;

/// <summary>
/// A small, obviously-correct double-precision implementation of a dense autoencoder, driven by a
/// generated model's <see cref="ModelTopology"/> and parameters. Used to check the generated forward
/// pass and, through central finite differences, the generated backprop.
/// </summary>
internal static class ReferenceModel
{
    /// <summary>All layer outputs for <paramref name="input"/>; the last entry is the reconstruction. Also returns the output pre-activation.</summary>
    public static (double[][] Activations, double[] OutputPreActivation) Forward(ModelTopology topology, ReadOnlySpan<double> parameters, ReadOnlySpan<double> input)
    {
        var activations = new double[topology.Layers.Count][];
        double[] x = input.ToArray();
        double[] z = [];
        for (int l = 0; l < topology.Layers.Count; l++)
        {
            LayerInfo layer = topology.Layers[l];
            z = new double[layer.Width];
            for (int j = 0; j < layer.Width; j++)
            {
                double sum = parameters[layer.BiasOffset + j];
                for (int i = 0; i < layer.InputWidth; i++)
                {
                    // Input-major W[i, j]; a tied layer reads its mirror's W transposed: W_mirror[j, i].
                    int offset = layer.IsTied ? j * layer.InputWidth + i : i * layer.Width + j;
                    sum += x[i] * parameters[layer.WeightOffset + offset];
                }

                z[j] = sum;
            }

            x = z.Select(v => Activate(layer.Activation, v)).ToArray();
            activations[l] = x;
        }

        return (activations, z);
    }

    /// <summary>The per-sample objective: Σ BCE (from the pre-activation) or ½Σ squared error.</summary>
    public static double Loss(ModelTopology topology, ReadOnlySpan<double> parameters, ReadOnlySpan<double> input, ReadOnlySpan<double> target)
    {
        (double[][] activations, double[] z) = Forward(topology, parameters, input);
        double[] output = activations[^1];
        double loss = 0;
        for (int j = 0; j < output.Length; j++)
        {
            if (topology.Loss == LossKind.BinaryCrossEntropy)
            {
                // −[t·log σ(z) + (1 − t)·log(1 − σ(z))], written the textbook way (in double, z is moderate here).
                double s = 1.0 / (1.0 + Math.Exp(-z[j]));
                loss -= target[j] * Math.Log(s) + (1 - target[j]) * Math.Log(1 - s);
            }
            else
            {
                double d = output[j] - target[j];
                loss += 0.5 * d * d;
            }
        }

        return loss;
    }

    /// <summary>∂loss/∂p for every parameter by central differences.</summary>
    public static double[] FiniteDifferenceGradient(ModelTopology topology, double[] parameters, double[] input, double[] target, double step = 1e-6)
    {
        var gradient = new double[parameters.Length];
        for (int k = 0; k < parameters.Length; k++)
        {
            double saved = parameters[k];
            parameters[k] = saved + step;
            double plus = Loss(topology, parameters, input, target);
            parameters[k] = saved - step;
            double minus = Loss(topology, parameters, input, target);
            parameters[k] = saved;
            gradient[k] = (plus - minus) / (2 * step);
        }

        return gradient;
    }

    /// <summary>
    /// ∂loss/∂p for one sample by backpropagation in double (the same objective as <see cref="Loss"/>); a tied
    /// layer's weight gradient lands on its mirror's W. Adds into <paramref name="gradient"/> and returns the loss.
    /// </summary>
    public static double AccumulateGradient(ModelTopology topology, ReadOnlySpan<double> parameters, ReadOnlySpan<double> input, ReadOnlySpan<double> target, double[] gradient)
    {
        (double[][] activations, double[] z) = Forward(topology, parameters, input);
        int last = topology.Layers.Count - 1;
        double[] output = activations[last];
        double[] delta = new double[output.Length];
        double loss = 0;
        for (int j = 0; j < output.Length; j++)
        {
            if (topology.Loss == LossKind.BinaryCrossEntropy)
            {
                // softplus(z) − t·z; its derivative in z is σ(z) − t.
                loss += Math.Max(z[j], 0) + Math.Log(1 + Math.Exp(-Math.Abs(z[j]))) - target[j] * z[j];
                delta[j] = output[j] - target[j];
            }
            else
            {
                double d = output[j] - target[j];
                loss += 0.5 * d * d;
                delta[j] = d * Derivative(topology.Layers[last].Activation, output[j]);
            }
        }

        for (int l = last; l >= 0; l--)
        {
            LayerInfo layer = topology.Layers[l];
            ReadOnlySpan<double> x = l == 0 ? input : activations[l - 1];
            double[] previous = new double[layer.InputWidth];
            for (int j = 0; j < layer.Width; j++)
            {
                gradient[layer.BiasOffset + j] += delta[j];
            }

            for (int i = 0; i < layer.InputWidth; i++)
            {
                double sum = 0;
                for (int j = 0; j < layer.Width; j++)
                {
                    int offset = layer.WeightOffset + (layer.IsTied ? j * layer.InputWidth + i : i * layer.Width + j);
                    gradient[offset] += x[i] * delta[j];
                    sum += parameters[offset] * delta[j];
                }

                previous[i] = l == 0 ? 0 : sum * Derivative(topology.Layers[l - 1].Activation, x[i]);
            }

            delta = previous;
        }

        return loss;
    }

    /// <summary>f'(z) from a = f(z).</summary>
    public static double Derivative(ActivationKind activation, double a) => activation switch
    {
        ActivationKind.Linear => 1,
        ActivationKind.Sigmoid => a * (1 - a),
        ActivationKind.Tanh => 1 - a * a,
        ActivationKind.Relu => a > 0 ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    public static double Activate(ActivationKind activation, double z) => activation switch
    {
        ActivationKind.Linear => z,
        ActivationKind.Sigmoid => 1.0 / (1.0 + Math.Exp(-z)),
        ActivationKind.Tanh => Math.Tanh(z),
        ActivationKind.Relu => Math.Max(0, z),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
