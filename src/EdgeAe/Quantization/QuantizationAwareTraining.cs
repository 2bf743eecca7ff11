using EdgeAe.Data;

namespace EdgeAe.Quantization;

/// <summary>
/// Quantisation-aware training (docs/quantization.md): set it as <c>TrainingOptions.QuantizationAware</c> and the
/// trainer fine-tunes the float model with every forward pass computing what the int8 model will — weights rounded to
/// their per-channel int8 codes, inputs and activations to their codes (sigmoid and tanh through their tables) — and
/// gradients passing straight through the rounding, zero where a value was clipped. The float parameters (the
/// "master" copy) take the optimizer's steps. Activation ranges are calibrated on <see cref="Calibration"/> when training
/// starts, exactly as <see cref="Quantizer"/> calibrates them, and kept; <see cref="Quantize"/> then gives the int8 model
/// for those ranges. With the trainer's default best-parameter restore and no validation data, the kept epoch is the
/// one with the lowest fake-quantised training loss.
/// </summary>
public sealed class QuantizationAwareTraining
{
    private float[] _master = [];
    private FakeQuantizer? _fake;
    private ActivationRanges? _ranges;

    /// <summary>Trains against the ranges calibrated on <paramref name="calibration"/> (normalised like the training data).</summary>
    public QuantizationAwareTraining(Dataset calibration, QuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        Calibration = calibration;
        Options = options ?? new QuantizationOptions();
    }

    /// <summary>The data the activation ranges are calibrated on.</summary>
    public Dataset Calibration { get; }

    /// <summary>How the ranges are calibrated.</summary>
    public QuantizationOptions Options { get; }

    /// <summary>
    /// The int8 model of <paramref name="model"/>'s current parameters for the ranges training used (the ranges the
    /// weights adapted to); before any training, for ranges calibrated now.
    /// </summary>
    public QuantizedParameters Quantize(IAutoencoder model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ActivationRanges ranges = _ranges ?? Quantizer.CalibrateRanges(model, Calibration, Options);
        return Quantizer.Build(model.Topology, model.Parameters, ranges);
    }

    /// <summary>
    /// At the first epoch: calibrates the activation ranges on the float model (as <see cref="Quantizer"/> would) and
    /// keeps them for the whole fit (re-calibrating every epoch made the last epochs chase moving grids: digits 1.06× the
    /// float MSE instead of 0.99×, measured).
    /// </summary>
    internal void BeginEpoch(IAutoencoder model, int epoch)
    {
        if (model is not IFakeQuantizable)
        {
            throw new NotSupportedException($"{model.GetType().FullName} cannot train quantisation-aware: it was not generated with the fake-quantisation hooks (regenerate it with this EdgeAe).");
        }

        if (epoch > 1 && _fake is not null)
        {
            return; // the ranges stay those of the float model: the weights learn to live with one grid
        }

        _master = new float[model.Parameters.Length];
        _fake = new FakeQuantizer(model.Topology);

        _ranges = Quantizer.CalibrateRanges(model, Calibration, Options);
        _fake.SetRanges(Quantizer.Build(model.Topology, model.Parameters, _ranges), _ranges);
    }

    /// <summary>Keeps the float parameters and replaces every weight by its int8 value (per output channel, symmetric).</summary>
    internal void BeginStep(IAutoencoder model)
    {
        ((IFakeQuantizable)model).FakeQuantization = _fake;
        Span<float> p = model.Parameters;
        p.CopyTo(_master);
        ModelTopology topology = model.Topology;
        var done = new HashSet<int>();
        foreach (LayerInfo layer in topology.Layers)
        {
            if (!done.Add(layer.WeightOffset))
            {
                continue; // a tied W is rounded once, along its first layer's output channels
            }

            int m = layer.InputWidth, n = layer.Width;
            Span<float> w = p.Slice(layer.WeightOffset, m * n);
            for (int j = 0; j < n; j++)
            {
                float largest = 0;
                for (int i = 0; i < m; i++)
                {
                    largest = Math.Max(largest, Math.Abs(w[(i * n) + j]));
                }

                if (largest == 0)
                {
                    continue;
                }

                float scale = largest / Int8Arithmetic.WeightMax;
                for (int i = 0; i < m; i++)
                {
                    w[(i * n) + j] = scale * Math.Clamp(MathF.Round(w[(i * n) + j] / scale), -Int8Arithmetic.WeightMax, Int8Arithmetic.WeightMax);
                }
            }
        }
    }

    /// <summary>Rounds a batch of inputs to the input's codes, in place.</summary>
    internal void QuantizeInputs(Span<float> inputs) => _fake!.QuantizeInputs(inputs);

    /// <summary>
    /// Puts the float parameters back (the gradients, computed on the rounded weights, stay for the optimizer) and
    /// detaches the hooks: between steps the model is the plain float model.
    /// </summary>
    internal void EndStep(IAutoencoder model)
    {
        ((IFakeQuantizable)model).FakeQuantization = null;
        _master.CopyTo(model.Parameters);
    }
}
