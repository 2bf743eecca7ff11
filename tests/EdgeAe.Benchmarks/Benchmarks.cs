using BenchmarkDotNet.Attributes;
using EdgeAe.Training;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeAe.Benchmarks;

/// <summary>Batch-1 and batch-64 inference: EdgeAe against a scalar loop, TensorPrimitives and ONNX Runtime (one thread, IOBinding).</summary>
[MemoryDiagnoser]
public abstract class InferenceBenchmarks
{
    private const int Batch = 64;
    private IAutoencoder _model = null!;
    private Baselines _baselines = null!;
    private float[] _input = null!;
    private float[] _inputs = null!;
    private float[] _code = null!;
    private float[] _codes = null!;
    private float[] _output = null!;
    private int _codeLayer;
    private int _lastLayer;
    private Ort _ortEncode1 = null!;
    private Ort _ortReconstruct1 = null!;
    private Ort _ortEncode64 = null!;

    protected abstract IAutoencoder Create();

    [GlobalSetup]
    public void Setup()
    {
        _model = Create();
        ModelTopology t = _model.Topology;
        _codeLayer = t.CodeLayerIndex;
        _lastLayer = t.Layers.Count - 1;
        var random = new Random(1);
        _inputs = new float[Batch * t.InputSize];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i] = (float)random.NextDouble();
        }

        _input = _inputs.AsSpan(0, t.InputSize).ToArray();
        _code = new float[t.CodeSize];
        _codes = new float[Batch * t.CodeSize];
        _output = new float[t.InputSize];
        _baselines = new Baselines(_model);
        _ortEncode1 = new Ort(_model, _codeLayer, 1);
        _ortReconstruct1 = new Ort(_model, _lastLayer, 1);
        _ortEncode64 = new Ort(_model, _codeLayer, Batch);
        // The memory diagnoser counts every thread of this process (tiered JIT, ORT's and libtorch's wrappers);
        // the EdgeAe calls themselves must allocate nothing on the calling thread once warm.
        AllocationCheck.AssertNone(() =>
        {
            _model.Encode(_input, _code);
            _model.Reconstruct(_input, _output);
            _model.Score(_input);
            _model.EncodeBatch(_inputs, _codes);
        });
        _input.CopyTo(_ortEncode1.Input, 0);
        _input.CopyTo(_ortReconstruct1.Input, 0);
        _inputs.CopyTo(_ortEncode64.Input, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ortEncode1.Dispose();
        _ortReconstruct1.Dispose();
        _ortEncode64.Dispose();
    }

    [Benchmark(Description = "EdgeAe encode b1")]
    public void EdgeAeEncode() => _model.Encode(_input, _code);

    [Benchmark(Description = "scalar encode b1")]
    public void ScalarEncode() => _baselines.Scalar(_input, _code, _codeLayer);

    [Benchmark(Description = "TensorPrimitives encode b1")]
    public void TensorPrimitivesEncode() => _baselines.Tensor(_input, _code, _codeLayer);

    [Benchmark(Description = "ORT encode b1")]
    public void OrtEncode() => _ortEncode1.Run();

    [Benchmark(Description = "EdgeAe reconstruct b1")]
    public float EdgeAeReconstruct() => _model.Reconstruct(_input, _output);

    /// <summary>The anomaly score (docs/anomaly.md): Reconstruct's forward and loss, then one division; the bar is ≤ 5 % over Reconstruct.</summary>
    [Benchmark(Description = "EdgeAe score b1")]
    public float EdgeAeScore() => _model.Score(_input);

    [Benchmark(Description = "EdgeAe decode b1")]
    public void EdgeAeDecode() => _model.Decode(_code, _output);

    [Benchmark(Description = "scalar reconstruct b1")]
    public void ScalarReconstruct() => _baselines.Scalar(_input, _output, _lastLayer);

    [Benchmark(Description = "TensorPrimitives reconstruct b1")]
    public void TensorPrimitivesReconstruct() => _baselines.Tensor(_input, _output, _lastLayer);

    [Benchmark(Description = "ORT reconstruct b1")]
    public void OrtReconstruct() => _ortReconstruct1.Run();

    [Benchmark(Description = "EdgeAe encode b64")]
    public void EdgeAeEncode64() => _model.EncodeBatch(_inputs, _codes);

    [Benchmark(Description = "ORT encode b64")]
    public void OrtEncode64() => _ortEncode64.Run();
}

public class M1Inference : InferenceBenchmarks
{
    protected override IAutoencoder Create() => new M1Ae();
}

public class DigitsInference : InferenceBenchmarks
{
    protected override IAutoencoder Create() => new DigitsAe();
}

public class MlperfAdInference : InferenceBenchmarks
{
    protected override IAutoencoder Create() => new MlperfAdAe();
}

/// <summary>ONNX Runtime on one thread, ORT_ENABLE_ALL, IOBinding over preallocated OrtValues.</summary>
internal sealed class Ort : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtValue _input;
    private readonly OrtValue _output;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();

    public Ort(IAutoencoder model, int last, int batch)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(Onnx.Build(model, last, batch), options);
        Input = new float[batch * model.Topology.InputSize];
        Output = new float[batch * model.Topology.Layers[last].Width];
        _input = OrtValue.CreateTensorValueFromMemory(Input, [batch, model.Topology.InputSize]);
        _output = OrtValue.CreateTensorValueFromMemory(Output, [batch, model.Topology.Layers[last].Width]);
        _binding = _session.CreateIoBinding();
        _binding.BindInput("x", _input);
        _binding.BindOutput("y", _output);
    }

    public float[] Input { get; }

    public float[] Output { get; }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    public void Dispose()
    {
        _binding.Dispose();
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}

/// <summary>One Adam step on a batch: EdgeAe (generated batch kernels + the Adam optimizer) against TorchSharp/libtorch (one thread).</summary>
[MemoryDiagnoser]
public abstract class TrainingBenchmarks
{
    private IAutoencoder _model = null!;
    private Optimizer _adam = null!;
    private float[] _inputs = null!;
    private torch.nn.Module<Tensor, Tensor> _torchModel = null!;
    private torch.optim.Optimizer _torchAdam = null!;
    private Tensor _torchInputs = null!;
    private bool _bce;

    protected abstract IAutoencoder Create();

    protected abstract int Batch { get; }

    [GlobalSetup]
    public void Setup()
    {
        _model = Create();
        ModelTopology t = _model.Topology;
        _bce = t.Loss == LossKind.BinaryCrossEntropy;
        _adam = new Adam(t.ParameterBufferLength);
        var random = new Random(1);
        _inputs = new float[Batch * t.InputSize];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i] = (float)random.NextDouble();
        }

        AllocationCheck.AssertNone(() => EdgeAeTrain());
        TorchLoader.PatchOutputCopies();
        torch.set_num_threads(1);
        _torchModel = TorchPeer.Sequential(_model);
        _torchAdam = torch.optim.Adam(_torchModel.parameters(), lr: 1e-3);
        _torchInputs = torch.tensor(_inputs, [Batch, t.InputSize]).clone();
    }

    [Benchmark(Description = "EdgeAe train Adam")]
    public float EdgeAeTrain()
    {
        _model.ZeroGradients();
        float loss = _model.AccumulateBatchGradients(_inputs, _inputs);
        _adam.Step(_model.Parameters, _model.Gradients, 1e-3f);
        return loss;
    }

    [Benchmark(Description = "libtorch train Adam")]
    public void TorchTrain() => TorchPeer.Step(_torchModel, _torchAdam, _torchInputs, _bce);
}

public class M1Training : TrainingBenchmarks
{
    protected override IAutoencoder Create() => new M1Ae();

    protected override int Batch => 64;
}

public class DigitsTraining : TrainingBenchmarks
{
    protected override IAutoencoder Create() => new DigitsAe();

    protected override int Batch => 32;
}

public class MlperfAdTraining : TrainingBenchmarks
{
    protected override IAutoencoder Create() => new MlperfAdAe();

    protected override int Batch => 64;
}

/// <summary>The libtorch peer of a model: <c>nn.Sequential</c> of <c>Linear</c> + activation with the model's parameters.</summary>
internal static class TorchPeer
{
    public static torch.nn.Module<Tensor, Tensor> Sequential(IAutoencoder model)
    {
        torch.manual_seed(1);
        var modules = new List<(string, torch.nn.Module<Tensor, Tensor>)>();
        ModelTopology t = model.Topology;
        ReadOnlySpan<float> p = model.Parameters;
        for (int l = 0; l < t.Layers.Count; l++)
        {
            LayerInfo layer = t.Layers[l];
            var linear = torch.nn.Linear(layer.InputWidth, layer.Width);
            var w = new float[layer.Width * layer.InputWidth];
            for (int i = 0; i < layer.InputWidth; i++)
            {
                for (int j = 0; j < layer.Width; j++)
                {
                    w[j * layer.InputWidth + i] = p[layer.WeightOffset + i * layer.Width + j];
                }
            }

            using (torch.no_grad())
            {
                linear.weight!.copy_(torch.tensor(w, [layer.Width, layer.InputWidth]));
                linear.bias!.copy_(torch.tensor(p.Slice(layer.BiasOffset, layer.Width).ToArray(), [layer.Width]));
            }

            modules.Add(($"l{l}", linear));
            bool last = l == t.Layers.Count - 1;
            switch (layer.Activation)
            {
                case ActivationKind.Sigmoid when !last:
                    modules.Add(($"a{l}", torch.nn.Sigmoid()));
                    break;
                case ActivationKind.Relu:
                    modules.Add(($"a{l}", torch.nn.ReLU()));
                    break;
                case ActivationKind.Tanh:
                    modules.Add(($"a{l}", torch.nn.Tanh()));
                    break;
            }
        }

        return torch.nn.Sequential(modules);
    }

    /// <summary>One libtorch Adam step with the summed BCE-with-logits or MSE loss, as the training rows run it.</summary>
    public static void Step(torch.nn.Module<Tensor, Tensor> model, torch.optim.Optimizer adam, Tensor inputs, bool bce)
    {
        using var scope = torch.NewDisposeScope();
        adam.zero_grad();
        Tensor output = model.forward(inputs);
        Tensor loss = bce
            ? torch.nn.functional.binary_cross_entropy_with_logits(output, inputs, reduction: torch.nn.Reduction.Sum)
            : torch.nn.functional.mse_loss(output, inputs, torch.nn.Reduction.Sum);
        loss.backward();
        adam.step();
    }
}

/// <summary>Fails the benchmark set-up if a warm EdgeAe call allocates on the calling thread.</summary>
internal static class AllocationCheck
{
    public static void AssertNone(Action call)
    {
        for (int i = 0; i < 300; i++)
        {
            call();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            call();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated != 0)
        {
            throw new InvalidOperationException($"200 warm calls allocated {allocated} bytes on the calling thread");
        }

        Console.WriteLine("// EdgeAe: 200 warm calls allocated 0 bytes on the calling thread");
    }
}
