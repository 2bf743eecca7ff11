using BenchmarkDotNet.Attributes;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Onnx;
using EdgeAe.Quantization;
using Microsoft.ML.OnnxRuntime;

namespace EdgeAe.Benchmarks;

/// <summary>
/// Int8 inference (docs/quantization.md) beside float32 in the same run: EdgeAe's generated Int8 companion, the float
/// model, and ONNX Runtime running the same int8 weights as a QDQ graph (EdgeAe's own ONNX export; one thread,
/// ORT_ENABLE_ALL, IOBinding). Weights: the model's seeded initialisation, quantised on 256 seeded inputs.
/// </summary>
[MemoryDiagnoser]
public abstract class Int8Benchmarks
{
    private const int Batch = 64;
    private IAutoencoder _float = null!;
    private QuantizedAutoencoder _int8 = null!;
    private float[] _input = null!;
    private float[] _inputs = null!;
    private float[] _code = null!;
    private float[] _codes = null!;
    private float[] _output = null!;
    private OrtInt8 _ortEncode1 = null!;
    private OrtInt8 _ortReconstruct1 = null!;
    private OrtInt8 _ortEncode64 = null!;

    protected abstract IAutoencoder Create();

    protected abstract QuantizedAutoencoder CreateInt8();

    [GlobalSetup]
    public void Setup()
    {
        _float = Create();
        ModelTopology t = _float.Topology;
        var random = new Random(1);
        bool bce = t.Loss == LossKind.BinaryCrossEntropy;
        float[] calibration = new float[256 * t.InputSize];
        for (int i = 0; i < calibration.Length; i++)
        {
            calibration[i] = bce ? (float)random.NextDouble() : (float)(random.NextDouble() * 4 - 2);
        }

        QuantizedParameters parameters = Quantizer.Quantize(_float, new Dataset(calibration, 256, t.InputSize)).Parameters;
        _int8 = CreateInt8();
        _int8.Load(parameters);
        _inputs = calibration[..(Batch * t.InputSize)];
        _input = _inputs[..t.InputSize];
        _code = new float[t.CodeSize];
        _codes = new float[Batch * t.CodeSize];
        _output = new float[t.InputSize];

        string file = Path.Combine(Path.GetTempPath(), $"edgeae-bench-{t.Name}-{Environment.ProcessId}.int8.eaw");
        WeightFile.Save(file, parameters, Normalization.None);
        _ortEncode1 = new OrtInt8(file, OnnxGraphPart.Encoder, 1, t);
        _ortReconstruct1 = new OrtInt8(file, OnnxGraphPart.Autoencoder, 1, t);
        _ortEncode64 = new OrtInt8(file, OnnxGraphPart.Encoder, Batch, t);
        File.Delete(file);
        _input.CopyTo(_ortEncode1.Input, 0);
        _input.CopyTo(_ortReconstruct1.Input, 0);
        _inputs.CopyTo(_ortEncode64.Input, 0);

        AllocationCheck.AssertNone(() =>
        {
            _int8.Encode(_input, _code);
            _int8.Reconstruct(_input, _output);
            _int8.EncodeBatch(_inputs, _codes);
            _float.Encode(_input, _code);
            _float.Reconstruct(_input, _output);
            _float.EncodeBatch(_inputs, _codes);
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ortEncode1.Dispose();
        _ortReconstruct1.Dispose();
        _ortEncode64.Dispose();
    }

    [Benchmark(Description = "float32 encode b1")]
    public void FloatEncode() => _float.Encode(_input, _code);

    [Benchmark(Description = "int8 encode b1")]
    public void Int8Encode() => _int8.Encode(_input, _code);

    [Benchmark(Description = "ORT int8 encode b1")]
    public void OrtEncode() => _ortEncode1.Run();

    [Benchmark(Description = "float32 reconstruct b1")]
    public float FloatReconstruct() => _float.Reconstruct(_input, _output);

    [Benchmark(Description = "int8 reconstruct b1")]
    public float Int8Reconstruct() => _int8.Reconstruct(_input, _output);

    [Benchmark(Description = "ORT int8 reconstruct b1")]
    public void OrtReconstruct() => _ortReconstruct1.Run();

    [Benchmark(Description = "float32 encode b64")]
    public void FloatEncode64() => _float.EncodeBatch(_inputs, _codes);

    [Benchmark(Description = "int8 encode b64")]
    public void Int8Encode64() => _int8.EncodeBatch(_inputs, _codes);

    [Benchmark(Description = "ORT int8 encode b64")]
    public void OrtEncode64() => _ortEncode64.Run();
}

public class M1Int8 : Int8Benchmarks
{
    protected override IAutoencoder Create() => new M1Ae();

    protected override QuantizedAutoencoder CreateInt8() => new M1Ae.Int8();
}

public class MlperfAdInt8 : Int8Benchmarks
{
    protected override IAutoencoder Create() => new MlperfAdAe();

    protected override QuantizedAutoencoder CreateInt8() => new MlperfAdAe.Int8();
}

public class DigitsInt8 : Int8Benchmarks
{
    protected override IAutoencoder Create() => new DigitsAe();

    protected override QuantizedAutoencoder CreateInt8() => new DigitsAe.Int8();
}

/// <summary>ONNX Runtime on the QDQ graph EdgeAe exports for an int8 weight file: one thread, ORT_ENABLE_ALL, IOBinding.</summary>
internal sealed class OrtInt8 : IDisposable
{
    private readonly InferenceSession _session;
    private readonly List<OrtValue> _values = [];
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();

    public OrtInt8(string int8File, OnnxGraphPart part, int batch, ModelTopology topology)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };

        // Exact int8 products on x86-64 without VNNI (docs/onnx.md); no effect where the CPU has VNNI.
        options.AddSessionConfigEntry("session.x64quantprecision", "1");
        _session = new InferenceSession(OnnxExporter.ExportWeightFile(int8File, new OnnxExportOptions { Part = part }), options);
        Input = new float[batch * topology.InputSize];
        _binding = _session.CreateIoBinding();
        Bind(OnnxExporter.InputName, Input, batch, topology.InputSize, input: true);
        Bind(OnnxExporter.CodeName, new float[batch * topology.CodeSize], batch, topology.CodeSize, input: false);
        if (part == OnnxGraphPart.Autoencoder)
        {
            Bind(OnnxExporter.ReconstructionName, new float[batch * topology.InputSize], batch, topology.InputSize, input: false);
        }
    }

    public float[] Input { get; }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    public void Dispose()
    {
        _binding.Dispose();
        foreach (OrtValue value in _values)
        {
            value.Dispose();
        }

        _runOptions.Dispose();
        _session.Dispose();
    }

    private void Bind(string name, float[] buffer, int batch, int width, bool input)
    {
        OrtValue value = OrtValue.CreateTensorValueFromMemory(buffer, [batch, width]);
        _values.Add(value);
        if (input)
        {
            _binding.BindInput(name, value);
        }
        else
        {
            _binding.BindOutput(name, value);
        }
    }
}
