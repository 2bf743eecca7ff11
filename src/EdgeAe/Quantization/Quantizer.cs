using EdgeAe.Data;
using EdgeAe.IO.Format;

namespace EdgeAe.Quantization;

/// <summary>Settings of post-training quantisation.</summary>
public sealed record QuantizationOptions
{
    /// <summary>How activation ranges are chosen (default: min/max, the best of the three end to end in docs/quantization.md's measurements).</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the two-sided percentile kept, e.g. 99.99.</summary>
    public double Percentile { get; init; } = 99.99;

    /// <summary>Most calibration samples used (evenly spaced through the data set).</summary>
    public int MaxSamples { get; init; } = 2048;
}

/// <summary>The real intervals an int8 model's activations cover: the input, and each layer's pre-activation and output.</summary>
/// <param name="Input">The model input's interval.</param>
/// <param name="Layers">Per layer: the pre-activation z's interval and the output's.</param>
public sealed record ActivationRanges((double Low, double High) Input, IReadOnlyList<LayerRange> Layers);

/// <summary>One layer's intervals.</summary>
/// <param name="Z">The pre-activation's interval (sigmoid and tanh layers; ignored for ReLU and linear).</param>
/// <param name="Output">The output's interval.</param>
public sealed record LayerRange((double Low, double High) Z, (double Low, double High) Output);

/// <summary>What quantising one layer did, measured on the calibration data.</summary>
/// <param name="Index">The layer.</param>
/// <param name="Role">Its role.</param>
/// <param name="Activation">Its activation.</param>
/// <param name="Input">Quantisation of its input.</param>
/// <param name="PreActivation">Quantisation of its requantised accumulator.</param>
/// <param name="Output">Quantisation of its output.</param>
/// <param name="WeightScaleMin">Smallest per-channel weight scale.</param>
/// <param name="WeightScaleMax">Largest per-channel weight scale.</param>
/// <param name="Shift">The requantisation's right shift.</param>
/// <param name="SaturatedFraction">Share of the float pre-activations (ReLU, linear: outputs) beyond the codes' interval.</param>
/// <param name="OutputRmse">Root mean square difference between the int8 model's output of this layer and the float model's (whole model run up to here).</param>
/// <param name="RelativeError">That RMSE over the float outputs' root mean square.</param>
public sealed record LayerQuantizationReport(
    int Index, LayerRole Role, ActivationKind Activation, QuantizationParameters Input, QuantizationParameters PreActivation,
    QuantizationParameters Output, float WeightScaleMin, float WeightScaleMax, int Shift, double SaturatedFraction, double OutputRmse,
    double RelativeError);

/// <summary>The int8 model and the per-layer report of post-training quantisation.</summary>
/// <param name="Parameters">The int8 model.</param>
/// <param name="Layers">One report per layer.</param>
/// <param name="Method">The calibration method.</param>
/// <param name="CalibrationSamples">Samples the ranges and the report were measured on.</param>
public sealed record QuantizationResult(QuantizedParameters Parameters, IReadOnlyList<LayerQuantizationReport> Layers, CalibrationMethod Method, int CalibrationSamples);

/// <summary>
/// Post-training quantisation of a float model to int8 (docs/quantization.md): per-output-channel symmetric weights,
/// int32 biases, activation ranges calibrated on data, Q31 requantisation constants, sigmoid and tanh tables.
/// </summary>
public static class Quantizer
{
    /// <summary>
    /// Quantises <paramref name="model"/>'s parameters with activation ranges calibrated on <paramref name="calibration"/>
    /// (normalised as the model's inputs are), and reports each layer's scales, saturation and error against float.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the model, or a layer is too wide for int8.</exception>
    public static QuantizationResult Quantize(IAutoencoder model, Dataset calibration, QuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibration);
        options ??= new QuantizationOptions();
        ModelTopology topology = model.Topology;
        Dataset sample = Sample(calibration, topology, options.MaxSamples);
        var floats = new FloatLayers(topology, model.Parameters);
        Activations observed = Observe(floats, topology, sample);
        ActivationRanges ranges = ChooseRanges(topology, observed, options);
        QuantizedParameters parameters = Build(topology, model.Parameters, ranges);
        return new QuantizationResult(parameters, Report(parameters, floats, topology, observed, sample), options.Method, sample.Count);
    }

    /// <summary>The activation ranges <see cref="Quantize"/> would calibrate for <paramref name="model"/> on <paramref name="calibration"/>.</summary>
    public static ActivationRanges CalibrateRanges(IAutoencoder model, Dataset calibration, QuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibration);
        options ??= new QuantizationOptions();
        Dataset sample = Sample(calibration, model.Topology, options.MaxSamples);
        return ChooseRanges(model.Topology, Observe(new FloatLayers(model.Topology, model.Parameters), model.Topology, sample), options);
    }

    /// <summary>
    /// The int8 model of <paramref name="parameters"/> (a float parameter buffer laid out as <paramref name="topology"/>
    /// says) for activation ranges chosen elsewhere (calibration, or the observers of quantisation-aware training).
    /// </summary>
    public static QuantizedParameters Build(ModelTopology topology, ReadOnlySpan<float> parameters, ActivationRanges ranges)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(ranges);
        if (ranges.Layers.Count != topology.Layers.Count)
        {
            throw new ArgumentException($"Expected ranges for {topology.Layers.Count} layers but found {ranges.Layers.Count}.", nameof(ranges));
        }

        var floats = new FloatLayers(topology, parameters);
        QuantizationParameters input = Calibration.Affine(ranges.Input.Low, ranges.Input.High);
        var data = new Int8Data { InputScale = input.Scale, InputZeroPoint = input.ZeroPoint, Layers = new Int8LayerData[topology.Layers.Count] };
        for (int l = 0; l < topology.Layers.Count; l++)
        {
            LayerInfo layer = topology.Layers[l];
            if (layer.InputWidth > Int8Arithmetic.MaxInputs)
            {
                throw new ArgumentException($"Layer {l} of {topology.Name} takes {layer.InputWidth} inputs; an int8 layer takes at most {Int8Arithmetic.MaxInputs} (its int32 sums must not overflow).", nameof(topology));
            }

            data.Layers[l] = QuantizeLayer(layer, floats.Weights(l), floats.Biases(l), input, ranges.Layers[l]);
            input = new QuantizationParameters(data.Layers[l].OutputScale, data.Layers[l].OutputZeroPoint);
        }

        return new QuantizedParameters(topology.InputSize, topology.Loss, topology.TiedWeights, Fingerprint(topology), data);
    }

    /// <summary>The layers of <paramref name="topology"/> as the weight file records them.</summary>
    internal static LayerFingerprint[] Fingerprint(ModelTopology topology)
        => topology.Layers.Select(l => new LayerFingerprint((byte)l.Role, l.InputWidth, l.Width, (byte)l.Activation)).ToArray();

    /// <summary>The real intervals chosen by <paramref name="options"/>' method for observed activations.</summary>
    internal static ActivationRanges ChooseRanges(ModelTopology topology, Activations observed, QuantizationOptions options)
    {
        var layers = new LayerRange[topology.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            (double, double) z = Calibration.Range(observed.Z[l], options.Method, options.Percentile);
            (double, double) a = Calibration.Range(observed.A[l], options.Method, options.Percentile);
            layers[l] = new LayerRange(z, a);
        }

        return new ActivationRanges(Calibration.Range(observed.Input, options.Method, options.Percentile), layers);
    }

    private static Int8LayerData QuantizeLayer(LayerInfo layer, double[] w, double[] b, QuantizationParameters input, LayerRange range)
    {
        int m = layer.InputWidth, n = layer.Width;
        var weights = new sbyte[m * n];
        var biases = new int[n];
        var weightScales = new float[n];
        for (int j = 0; j < n; j++)
        {
            double largest = 0;
            for (int i = 0; i < m; i++)
            {
                largest = Math.Max(largest, Math.Abs(w[(i * n) + j]));
            }

            // Symmetric per output channel; a large bias with small weights widens the scale so the bias fits in 2²⁸.
            double scale = Math.Max(largest / Int8Arithmetic.WeightMax, Math.Abs(b[j]) / (input.Scale * (double)(1 << 28)));
            float s = (float)Math.Max(scale, 1e-30);
            weightScales[j] = s;
            for (int i = 0; i < m; i++)
            {
                weights[(i * n) + j] = (sbyte)Math.Clamp(Math.Round(w[(i * n) + j] / s, MidpointRounding.ToEven), -Int8Arithmetic.WeightMax, Int8Arithmetic.WeightMax);
            }

            biases[j] = (int)Math.Clamp(Math.Round(b[j] / ((double)input.Scale * s), MidpointRounding.ToEven), -Int8Arithmetic.MaxBias, Int8Arithmetic.MaxBias);
        }

        (QuantizationParameters z, QuantizationParameters output) = Domains(layer.Activation, range);

        // The requantisation factors input scale · weight scale / z scale must be below 1: a z scale finer than that
        // would resolve steps the accumulator cannot make, so it is coarsened (and with it a ReLU or linear output).
        double largestFactor = weightScales.Max(s => (double)input.Scale * s / z.Scale);
        if (largestFactor >= 1)
        {
            z = new QuantizationParameters((float)(z.Scale * largestFactor * (1 + 1e-6)), z.ZeroPoint);
            if (layer.Activation is ActivationKind.Relu or ActivationKind.Linear)
            {
                output = z;
            }
        }

        double[] factors = weightScales.Select(s => (double)input.Scale * s / z.Scale).ToArray();
        (int[] multipliers, int shift) = Int8Arithmetic.Multipliers(factors);
        return new Int8LayerData
        {
            OutputBits = 8,
            Shift = shift,
            ZScale = z.Scale,
            ZZeroPoint = z.ZeroPoint,
            OutputScale = output.Scale,
            OutputZeroPoint = output.ZeroPoint,
            WeightScales = weightScales,
            Multipliers = multipliers,
            Table = Table(layer.Activation, z, output),
            Weights = weights,
            Biases = biases,
        };
    }

    /// <summary>The z and output quantisation of a layer from its ranges.</summary>
    private static (QuantizationParameters Z, QuantizationParameters Output) Domains(ActivationKind activation, LayerRange range)
    {
        switch (activation)
        {
            case ActivationKind.Relu:
                QuantizationParameters relu = Calibration.Affine(0, Math.Max(range.Output.High, 0));
                return (relu, relu);
            case ActivationKind.Linear:
                QuantizationParameters linear = Calibration.Affine(range.Output.Low, range.Output.High);
                return (linear, linear);
        }

        // Sigmoid, tanh: the output interval (within the function's range) sets the output codes; z beyond the inverse
        // of that interval (half a step out) gives the end codes anyway, so the z interval stops there.
        bool sigmoid = activation == ActivationKind.Sigmoid;
        double lowest = sigmoid ? 0 : -1;
        double outLow = Math.Clamp(range.Output.Low, lowest, 0), outHigh = Math.Clamp(range.Output.High, 0, 1);
        QuantizationParameters output = Calibration.Affine(outLow, outHigh);
        double half = output.Scale / 2.0;
        (double low, double high) = (output.Dequantize(Int8Arithmetic.Int8Min) - half, output.Dequantize(Int8Arithmetic.Int8Max) + half);
        double zLow = low > lowest ? Inverse(sigmoid, low) : double.NegativeInfinity;
        double zHigh = high < 1 ? Inverse(sigmoid, high) : double.PositiveInfinity;
        QuantizationParameters z = Calibration.Affine(Math.Min(0, Math.Max(range.Z.Low, zLow)), Math.Max(0, Math.Min(range.Z.High, zHigh)));
        return (z, output);
    }

    private static double Inverse(bool sigmoid, double y) => sigmoid ? Math.Log(y / (1 - y)) : Math.Atanh(y);

    /// <summary>Sigmoid and tanh: the output code of each z code, f computed in double and rounded half to even.</summary>
    internal static sbyte[] Table(ActivationKind activation, QuantizationParameters z, QuantizationParameters output)
    {
        if (activation is not (ActivationKind.Sigmoid or ActivationKind.Tanh))
        {
            return [];
        }

        var table = new sbyte[WeightFileFormat.Int8TableLength];
        for (int k = 0; k < table.Length; k++)
        {
            double real = (double)z.Scale * (k + Int8Arithmetic.Int8Min - z.ZeroPoint);
            double a = FloatLayers.Activate(activation, real);
            table[k] = (sbyte)Math.Clamp(Math.Round(a / output.Scale, MidpointRounding.ToEven) + output.ZeroPoint, Int8Arithmetic.Int8Min, Int8Arithmetic.Int8Max);
        }

        return table;
    }

    private static Dataset Sample(Dataset data, ModelTopology topology, int maxSamples)
    {
        if (data.Width != topology.InputSize)
        {
            throw new ArgumentException($"The calibration data has {data.Width} values per sample but {topology.Name} takes {topology.InputSize}.", nameof(data));
        }

        if (data.Count == 0)
        {
            throw new ArgumentException("The calibration data set is empty.", nameof(data));
        }

        return CalibrationSample(data, maxSamples);
    }

    /// <summary>
    /// The samples <see cref="Quantize"/> calibrates on with <see cref="QuantizationOptions.MaxSamples"/> =
    /// <paramref name="maxSamples"/>: all of <paramref name="data"/> when it holds no more, else that many spread evenly
    /// over it (sample ⌊k · Count / maxSamples⌋ for k = 0, 1, …). Reads only those samples, so a source larger than memory
    /// (a <see cref="DataCache"/>) can be sampled.
    /// </summary>
    public static Dataset CalibrationSample(ISampleSource data, int maxSamples)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSamples);
        if (data.Count <= maxSamples && data is Dataset whole)
        {
            return whole;
        }

        int count = Math.Min(data.Count, maxSamples), width = data.Width;
        var values = new float[(long)count * width];
        for (int k = 0; k < count; k++)
        {
            data[(int)((long)k * data.Count / count)].CopyTo(values.AsSpan(k * width, width));
        }

        return new Dataset(values, count, width);
    }

    /// <summary>Every layer's pre-activations and outputs of the float model on the calibration samples.</summary>
    internal sealed record Activations(float[] Input, float[][] Z, float[][] A);

    private static Activations Observe(FloatLayers floats, ModelTopology topology, Dataset sample)
    {
        int layers = topology.Layers.Count;
        var z = new float[layers][];
        var a = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            z[l] = new float[sample.Count * topology.Layers[l].Width];
            a[l] = new float[sample.Count * topology.Layers[l].Width];
        }

        ForEachSample(floats, topology, sample, (s, l, zl, al) =>
        {
            int n = zl.Length;
            for (int j = 0; j < n; j++)
            {
                z[l][(s * n) + j] = (float)zl[j];
                a[l][(s * n) + j] = (float)al[j];
            }
        });
        return new Activations(sample.Values.ToArray(), z, a);
    }

    private delegate void LayerVisitor(int sample, int layer, ReadOnlySpan<double> z, ReadOnlySpan<double> a);

    private static void ForEachSample(FloatLayers floats, ModelTopology topology, Dataset sample, LayerVisitor visit)
    {
        int widest = Math.Max(topology.InputSize, topology.Layers.Max(l => l.Width));
        var x = new double[widest];
        var z = new double[widest];
        var a = new double[widest];
        for (int s = 0; s < sample.Count; s++)
        {
            ReadOnlySpan<float> row = sample[s];
            for (int i = 0; i < row.Length; i++)
            {
                x[i] = row[i];
            }

            for (int l = 0; l < topology.Layers.Count; l++)
            {
                int n = topology.Layers[l].Width;
                floats.Layer(l, x, z.AsSpan(0, n), a.AsSpan(0, n));
                visit(s, l, z.AsSpan(0, n), a.AsSpan(0, n));
                a.AsSpan(0, n).CopyTo(x);
            }
        }
    }

    private static LayerQuantizationReport[] Report(QuantizedParameters parameters, FloatLayers floats, ModelTopology topology, Activations observed, Dataset sample)
    {
        int layers = topology.Layers.Count;
        var squared = new double[layers];
        var reference = new double[layers];
        var saturated = new long[layers];
        for (int s = 0; s < sample.Count; s++)
        {
            (int[][] _, int[][] y) = Int8Reference.Run(parameters, sample[s], 0, layers - 1);
            for (int l = 0; l < layers; l++)
            {
                QuantizedLayer q = parameters.Layers[l];
                int n = q.Width;
                bool table = !q.Table.IsEmpty;
                (float low, float high) = table ? q.PreActivation.Range() : q.Output.Range(q.ZMin, q.ZMax);
                for (int j = 0; j < n; j++)
                {
                    double expected = observed.A[l][(s * n) + j];
                    double d = q.Output.Dequantize(y[l][j]) - expected;
                    squared[l] += d * d;
                    reference[l] += expected * expected;
                    double watched = table ? observed.Z[l][(s * n) + j] : expected;
                    if (watched < low || watched > high)
                    {
                        saturated[l]++;
                    }
                }
            }
        }

        var reports = new LayerQuantizationReport[layers];
        for (int l = 0; l < layers; l++)
        {
            QuantizedLayer q = parameters.Layers[l];
            double count = (double)sample.Count * q.Width;
            double rmse = Math.Sqrt(squared[l] / count);
            double rms = Math.Sqrt(reference[l] / count);
            float[] scales = q.WeightScales.ToArray();
            reports[l] = new LayerQuantizationReport(l, q.Role, q.Activation, q.Input, q.PreActivation, q.Output, scales.Min(), scales.Max(), q.Shift,
                saturated[l] / count, rmse, rms > 0 ? rmse / rms : 0);
        }

        return reports;
    }
}
