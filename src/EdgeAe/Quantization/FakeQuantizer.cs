using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace EdgeAe.Quantization;

/// <summary>
/// A generated model that quantisation-aware training can hook into: between the layers of its batch forward and
/// backward passes it calls <see cref="FakeQuantization"/> when one is set.
/// </summary>
public interface IFakeQuantizable
{
    /// <summary>The fake quantisation applied during training; null (the default) trains in plain float32.</summary>
    FakeQuantizer? FakeQuantization { get; set; }
}

/// <summary>
/// Fake quantisation of a float model's activations during training (PyTorch's FakeQuantize, TensorFlow's
/// FakeQuantWithMinMaxVars): after each layer of the batch forward pass the activations are replaced by what the int8
/// model computes for them — for sigmoid and tanh the pre-activation rounded to its codes, the function applied, the
/// result rounded to the output codes (the table); for ReLU and linear the output rounded to its codes — and the
/// backward pass lets the gradient through only where the value was inside the codes' interval (the clipped
/// straight-through estimator). Generated models call it between their kernel calls; allocation-free.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed class FakeQuantizer
{
    private readonly ActivationKind[] _activations;
    private readonly bool _bceOutput;
    private readonly QuantizationParameters[] _z;
    private readonly QuantizationParameters[] _outputs;
    private readonly byte[][] _clipped;
    private readonly int[] _widths;

    /// <summary>Creates the fake quantisation of <paramref name="topology"/> for batches of up to its maximum size.</summary>
    public FakeQuantizer(ModelTopology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        int layers = topology.Layers.Count;
        _activations = topology.Layers.Select(l => l.Activation).ToArray();
        _widths = topology.Layers.Select(l => l.Width).ToArray();
        _bceOutput = topology.Loss == LossKind.BinaryCrossEntropy;
        _z = new QuantizationParameters[layers];
        _outputs = new QuantizationParameters[layers];
        _clipped = topology.Layers.Select(l => new byte[l.Width * topology.MaxBatchSize]).ToArray();
        Ranges = null!;
    }

    /// <summary>The ranges in use (set by <see cref="SetRanges"/>).</summary>
    public ActivationRanges Ranges { get; private set; }

    /// <summary>The input's quantisation.</summary>
    public QuantizationParameters Input { get; private set; }

    /// <summary>Uses <paramref name="parameters"/>' quantisation of every activation from now on.</summary>
    public void SetRanges(QuantizedParameters parameters, ActivationRanges ranges)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Ranges = ranges;
        Input = parameters.Input;
        for (int l = 0; l < _z.Length; l++)
        {
            _z[l] = parameters.Layers[l].PreActivation;
            _outputs[l] = parameters.Layers[l].Output;
        }
    }

    /// <summary>
    /// Fake-quantises <paramref name="count"/> rows of layer <paramref name="layer"/>'s outputs in place (rows
    /// <paramref name="stride"/> floats apart) and remembers which values were clipped. The output layer of a binary
    /// cross-entropy model passes its pre-activations z (the loss reads z).
    /// </summary>
    public void Forward(int layer, ref float rows, int stride, int count)
    {
        int width = _widths[layer];
        ActivationKind activation = _activations[layer];
        bool zOnly = _bceOutput && layer == _widths.Length - 1;
        QuantizationParameters z = _z[layer], output = _outputs[layer];
        (float zLow, float zHigh) = z.Range();
        (float outLow, float outHigh) = output.Range(activation == ActivationKind.Relu ? output.ZeroPoint : Int8Arithmetic.Int8Min);
        byte[] clipped = _clipped[layer];
        float zInverse = Int8Arithmetic.Inverse(z.Scale), outInverse = Int8Arithmetic.Inverse(output.Scale);
        for (int s = 0; s < count; s++)
        {
            ref float row = ref Unsafe.Add(ref rows, s * stride);
            for (int j = 0; j < width; j++)
            {
                ref float value = ref Unsafe.Add(ref row, j);
                float a = value;
                bool clip;
                if (zOnly)
                {
                    clip = a < zLow || a > zHigh;
                    value = Int8Arithmetic.Dequantize(Int8Arithmetic.Quantize(a, zInverse, z.ZeroPoint), z.Scale, z.ZeroPoint);
                }
                else if (activation is ActivationKind.Sigmoid or ActivationKind.Tanh)
                {
                    // The pre-activation from the stored output, rounded to z's codes, through f, rounded to the output codes.
                    double pre = Inverse(activation, a);
                    clip = pre < zLow || pre > zHigh;
                    float zq = Int8Arithmetic.Dequantize(Int8Arithmetic.Quantize((float)Math.Clamp(pre, -1e6, 1e6), zInverse, z.ZeroPoint), z.Scale, z.ZeroPoint);
                    float fz = (float)(activation == ActivationKind.Sigmoid ? 1 / (1 + Math.Exp(-zq)) : Math.Tanh(zq));
                    value = Int8Arithmetic.Dequantize(Int8Arithmetic.Quantize(fz, outInverse, output.ZeroPoint), output.Scale, output.ZeroPoint);
                }
                else
                {
                    clip = a < outLow || a > outHigh;
                    int q = Int8Arithmetic.Quantize(a, outInverse, output.ZeroPoint);
                    value = Int8Arithmetic.Dequantize(activation == ActivationKind.Relu ? Math.Max(q, output.ZeroPoint) : q, output.Scale, output.ZeroPoint);
                }

                clipped[(s * width) + j] = clip ? (byte)1 : (byte)0;
            }
        }
    }

    /// <summary>The straight-through estimator's clip: zeroes the deltas of layer <paramref name="layer"/> where the forward pass clipped.</summary>
    public void Backward(int layer, ref float deltas, int stride, int count)
    {
        int width = _widths[layer];
        byte[] clipped = _clipped[layer];
        for (int s = 0; s < count; s++)
        {
            ref float row = ref Unsafe.Add(ref deltas, s * stride);
            for (int j = 0; j < width; j++)
            {
                if (clipped[(s * width) + j] != 0)
                {
                    Unsafe.Add(ref row, j) = 0f;
                }
            }
        }
    }

    /// <summary>Fake-quantises model inputs in place with the input quantisation.</summary>
    public void QuantizeInputs(Span<float> inputs)
    {
        float inverse = Int8Arithmetic.Inverse(Input.Scale);
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = Input.Dequantize(Int8Arithmetic.Quantize(inputs[i], inverse, Input.ZeroPoint));
        }
    }

    private static double Inverse(ActivationKind activation, float a)
    {
        if (activation == ActivationKind.Sigmoid)
        {
            double p = Math.Clamp(a, 1e-12, 1 - 1e-12);
            return Math.Log(p / (1 - p));
        }

        return Math.Atanh(Math.Clamp(a, -1 + 1e-12, 1 - 1e-12));
    }
}
