using BenchmarkDotNet.Attributes;
using EdgeAe.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EdgeAe.Benchmarks;

/// <summary>
/// One data-parallel training step as <see cref="Trainer{TModel}"/> runs it without corruption (the threads copy the samples into their shards,
/// the shard gradients summed in shard order, the norm, the last-good copy and Adam per parameter block, each thread
/// then making the next batch's transposed copies of what it updated) at 1 and 2 threads; the threads are the trainer's plan (a batch of one shard runs on one).
/// Allocation is counted on every thread (<see cref="GC.GetTotalAllocatedBytes(bool)"/>) in the set-up.
/// </summary>
[MemoryDiagnoser]
public abstract class ParallelTrainingBenchmarks
{
    private IAutoencoder _model = null!;
    private Optimizer _adam = null!;
    private float[] _inputs = null!;
    private float[] _lastGood = null!;
    private int[] _counts = null!;
    private DataParallelStep _step = null!;
    private TrainingPlan _plan = null!;
    private Data.Dataset _data = null!;
    private int[] _order = null!;

    /// <summary>Threads asked for (the plan may run fewer).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    public abstract int Batch { get; set; }

    protected abstract IAutoencoder Create();

    [GlobalSetup]
    public void Setup()
    {
        _model = Create();
        ModelTopology t = _model.Topology;
        _adam = new Adam(t.ParameterBufferLength);
        var random = new Random(1);
        _inputs = new float[Batch * t.InputSize];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i] = (float)random.NextDouble();
        }

        _plan = TrainingPlan.Of(new TrainingOptions { BatchSize = Batch, Threads = Threads }, t, int.MaxValue);
        Console.WriteLine($"// plan: {_plan}");
        _step = new DataParallelStep(_model, _plan.Threads, _plan.ShardSize, _plan.Shards);
        _counts = new int[_step.Slots];
        _data = new Data.Dataset(_inputs, Batch, t.InputSize);
        _order = Enumerable.Range(0, Batch).ToArray();
        _lastGood = new float[t.ParameterBufferLength];
        for (int i = 0; i < 300; i++)
        {
            EdgeAeStep();
        }

        // Three windows of 200 warm steps, bytes counted on every thread of the process: a step that allocates shows in
        // each window; a single object from elsewhere in the process (the harness) in one at most.
        long least = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 200; i++)
            {
                EdgeAeStep();
            }

            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Console.WriteLine($"// EdgeAe: 200 warm steps allocated {allocated} bytes on all threads");
            least = Math.Min(least, allocated);
        }

        if (least != 0)
        {
            throw new InvalidOperationException($"every window of 200 warm steps allocated (at least {least} bytes)");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _step.Dispose();

    [Benchmark(Description = "EdgeAe data-parallel step")]
    public double EdgeAeStep()
    {
        int shard = _plan.ShardSize;
        int shards = (Batch + shard - 1) / shard;
        if (!_step.PreparedBatch)
        {
            _model.PrepareBatch(); // the first step; afterwards each update makes the next batch's copies on its threads
        }

        double loss = 0;
        for (int first = 0; first < shards; first += _step.Slots)
        {
            int round = Math.Min(_step.Slots, shards - first);
            for (int slot = 0; slot < round; slot++)
            {
                _counts[slot] = Math.Min(shard, Batch - ((first + slot) * shard));
            }

            // No corruption: the threads copy their shards' samples (in the trainer's shuffled order) themselves.
            loss += _step.Round(_counts.AsSpan(0, round), first == 0, first + round >= shards, 1f / Batch, _data, _order, first * shard);
        }

        _ = _step.Norm();
        _step.Update(_adam, 1e-3f, null, _lastGood, prepareBatch: true);
        return loss;
    }
}

/// <summary>784→64→784 (Fashion-MNIST's M1) at batch 64 and 256.</summary>
public class M1ParallelTraining : ParallelTrainingBenchmarks
{
    [Params(64, 256)]
    public override int Batch { get; set; }

    protected override IAutoencoder Create() => new M1Ae();
}

/// <summary>
/// The libtorch peer of <see cref="M1ParallelTraining"/> at batch 64 with <c>torch.set_num_threads(2)</c>. Its own class:
/// libtorch's thread count is set once per process (changing it after use crashed here), so run it with the parallel
/// rows and not in the same process as the 1-thread <c>*Training</c> classes.
/// </summary>
[MemoryDiagnoser]
public class M1TorchTwoThreads
{
    private const int Batch = 64;
    private torch.nn.Module<Tensor, Tensor> _torchModel = null!;
    private torch.optim.Optimizer _torchAdam = null!;
    private Tensor _torchInputs = null!;

    [GlobalSetup]
    public void Setup()
    {
        IAutoencoder model = new M1Ae();
        var random = new Random(1);
        var inputs = new float[Batch * model.Topology.InputSize];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (float)random.NextDouble();
        }

        TorchLoader.PatchOutputCopies();
        torch.set_num_threads(2);
        _torchModel = TorchPeer.Sequential(model);
        _torchAdam = torch.optim.Adam(_torchModel.parameters(), lr: 1e-3);
        _torchInputs = torch.tensor(inputs, [Batch, model.Topology.InputSize]).clone();
        Console.WriteLine($"// libtorch threads: {torch.get_num_threads()}");
    }

    [Benchmark(Description = "libtorch train Adam b64, 2 threads")]
    public void TorchTrain() => TorchPeer.Step(_torchModel, _torchAdam, _torchInputs, bce: true);
}

/// <summary>64→16→64 digits at batch 32: one shard, so the plan runs one thread whatever is asked.</summary>
public class DigitsParallelTraining : ParallelTrainingBenchmarks
{
    [Params(32)]
    public override int Batch { get; set; }

    protected override IAutoencoder Create() => new DigitsAe();
}

/// <summary>The MLPerf Tiny AD topology (640 → 128×4 → 8 → 128×4 → 640, squared error) at batch 64.</summary>
public class MlperfAdParallelTraining : ParallelTrainingBenchmarks
{
    [Params(64)]
    public override int Batch { get; set; }

    protected override IAutoencoder Create() => new MlperfAdAe();
}
