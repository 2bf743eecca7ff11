using System.Numerics;
using System.Runtime.ExceptionServices;

namespace EdgeAe.Training;

/// <summary>
/// How a training splits its batches (<see cref="Trainer{TModel}.Plan"/>): every batch is cut into shards of
/// <see cref="ShardSize"/> samples, and up to <see cref="Threads"/> shards are computed at once.
/// </summary>
/// <param name="BatchSize">Samples per batch (the option, or the training set's size when smaller).</param>
/// <param name="ShardSize">Samples per shard: <see cref="TrainingOptions.ShardSize"/>, or the model's MaxBatchSize when smaller.</param>
/// <param name="Shards">Shards of a full batch.</param>
/// <param name="Threads">Threads that compute shards: the option, at most <paramref name="Shards"/>, 1 for quantisation-aware training.</param>
/// <param name="Reason">Why fewer threads than asked for run, or null.</param>
public sealed record TrainingPlan(int BatchSize, int ShardSize, int Shards, int Threads, string? Reason)
{
    /// <summary>For plan lines, e.g. <c>batch 64: 2 shards of 32, 2 threads</c> or <c>batch 32: one shard, 1 thread</c>.</summary>
    public override string ToString()
    {
        string shards = Shards == 1 ? "one shard" : FormattableString.Invariant($"{Shards} shards of {ShardSize}");
        string threads = Threads == 1 ? "1 thread" : FormattableString.Invariant($"{Threads} threads");
        return FormattableString.Invariant($"batch {BatchSize}: {shards}, {threads}") + (Reason is null ? string.Empty : $" ({Reason})");
    }

    /// <summary>The plan of <paramref name="options"/> for a model and a training set of <paramref name="trainingCount"/> samples.</summary>
    internal static TrainingPlan Of(TrainingOptions options, ModelTopology topology, int trainingCount)
    {
        int batch = Math.Max(1, Math.Min(options.BatchSize, trainingCount));
        int shard = Math.Min(TrainingOptions.ShardSize, topology.MaxBatchSize);
        int shards = (batch + shard - 1) / shard;
        int threads = Math.Min(options.Threads, shards);
        string? reason = null;
        if (options.QuantizationAware is not null && threads > 1)
        {
            threads = 1;
            reason = "quantisation-aware training runs on one thread";
        }
        else if (threads < options.Threads)
        {
            reason = FormattableString.Invariant($"{options.Threads} asked for: no more threads than shards");
        }

        return new TrainingPlan(batch, shard, shards, threads, reason);
    }
}

/// <summary>
/// The data-parallel gradient and update of one training step, with the same arithmetic for any thread count.
/// Each shard's gradient is computed into its own zeroed gradient buffer (a slot; each thread has one
/// <see cref="TrainingWorker"/> workspace, pointed at the slot's buffer), and the shard gradients are summed in shard
/// order — G = g₀, G += g₁, … — so the sum is the same float whatever thread computed which shard. A round computes
/// up to <see cref="Slots"/> shards (every shard of a batch of up to 16 shards, or one per thread when there are more
/// threads) with one barrier between the shards and the sum. The sum, the scaling to the mean, the sum of squares
/// (per fixed block of parameters, added in block order), the clipping and the optimizer's element-wise update are
/// split by parameter blocks, each block done with the same code by whichever thread. Threads are started once (a pool with a barrier); a step allocates
/// nothing. Not thread-safe: one trainer drives it.
/// </summary>
internal sealed class DataParallelStep : IDisposable
{
    /// <summary>Parameters per block of the reduction and update: a multiple of every vector width, 64-byte aligned.</summary>
    internal const int BlockLength = 4096;

    /// <summary>Shard gradient buffers kept at least (when a batch has that many shards): memory against rounds.</summary>
    internal const int MinimumSlots = 16;

    private readonly IAutoencoder _model;
    private readonly TrainingWorker[] _workers;
    private readonly AlignedBuffer[] _slotGradients;
    private readonly float[][] _clean;
    private readonly float[][] _corrupted;
    private readonly int[] _counts;
    private readonly float[] _losses;
    private readonly double[] _squares;
    private readonly int[] _firstBad;
    private readonly Exception?[] _errors;
    private readonly int _width;
    private readonly int _parameterLength;
    private readonly int _blocks;
    private readonly Pool? _pool;

    // What the current phase does (set by the driving thread before it releases the pool).
    private bool _update;
    private int _shards;
    private bool _firstRound;
    private bool _lastRound;
    private float _scale;
    private Optimizer? _optimizer;
    private float _learningRate;
    private int _step;
    private float? _clip;
    private float[]? _saveTo;
    private bool _prepareBatch;
    private Data.ISampleSource? _data;
    private int[]? _order;
    private int _firstSample;

    /// <summary>
    /// A step for <paramref name="model"/> with <paramref name="threads"/> threads and shards of up to
    /// <paramref name="shardSize"/> samples, batches of up to <paramref name="shardsPerBatch"/> shards.
    /// </summary>
    public DataParallelStep(IAutoencoder model, int threads, int shardSize, int shardsPerBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardsPerBatch);
        _model = model;
        _width = model.Topology.InputSize;
        _parameterLength = model.Parameters.Length;
        _blocks = (_parameterLength + BlockLength - 1) / BlockLength;
        Threads = threads;
        ShardSize = shardSize;
        Slots = Math.Min(shardsPerBatch, Math.Max(threads, MinimumSlots));
        _workers = new TrainingWorker[threads];
        for (int i = 0; i < threads; i++)
        {
            _workers[i] = model.CreateWorker();
        }

        _slotGradients = new AlignedBuffer[Slots];
        _clean = new float[Slots][];
        _corrupted = new float[Slots][];
        for (int i = 0; i < Slots; i++)
        {
            _slotGradients[i] = new AlignedBuffer(_parameterLength);
            _clean[i] = new float[shardSize * _width];
            _corrupted[i] = new float[shardSize * _width];
        }

        _counts = new int[Slots];
        _losses = new float[Slots];
        _squares = new double[_blocks];
        _firstBad = new int[_blocks];
        _errors = new Exception?[threads];
        _pool = threads > 1 ? new Pool(threads, Work) : null;
    }

    /// <summary>Threads that compute shards.</summary>
    public int Threads { get; }

    /// <summary>Shards a round computes at most (each has a gradient buffer).</summary>
    public int Slots { get; }

    /// <summary>Samples per shard at most.</summary>
    public int ShardSize { get; }

    /// <summary>Slot <paramref name="slot"/>'s clean samples (the targets) of the next round: <see cref="ShardSize"/> × width floats.</summary>
    public Span<float> Clean(int slot) => _clean[slot];

    /// <summary>Slot <paramref name="slot"/>'s (corrupted) inputs of the next round: <see cref="ShardSize"/> × width floats.</summary>
    public Span<float> Inputs(int slot) => _corrupted[slot];

    /// <summary>
    /// Computes the gradients of the shards in slots 0..counts.Length − 1 (slot i holding <paramref name="counts"/>[i]
    /// samples) and adds them, in slot order, to the model's gradients: the first round of a batch sets them. The last
    /// round of a batch scales them by <paramref name="scale"/> (1 / batch size). Returns the shards' summed loss.
    /// <see cref="IAutoencoder.PrepareBatch()"/> must have run since the parameters last changed.
    /// </summary>
    public double Round(ReadOnlySpan<int> counts, bool first, bool last, float scale)
        => Round(counts, first, last, scale, null, null, 0);

    /// <summary>
    /// <see cref="Round(ReadOnlySpan{int}, bool, bool, float)"/> where the threads copy each slot's samples themselves
    /// (uncorrupted: the inputs are the targets): slot i holds samples <paramref name="order"/>[firstSample + i·ShardSize …]
    /// of <paramref name="data"/>, which must allow several readers at once (a <see cref="Data.Dataset"/>, or a
    /// <see cref="Data.DataCache"/> after <see cref="Data.DataCache.Hold"/>). With a null <paramref name="data"/>, the slots
    /// hold what the caller wrote.
    /// </summary>
    public double Round(ReadOnlySpan<int> counts, bool first, bool last, float scale, Data.ISampleSource? data, int[]? order, int firstSample)
    {
        _data = data;
        _order = order;
        _firstSample = firstSample;
        _shards = counts.Length;
        counts.CopyTo(_counts);
        _firstRound = first;
        _lastRound = last;
        _scale = scale;
        _update = false;
        Run();
        double loss = 0;
        for (int i = 0; i < _shards; i++)
        {
            loss += _losses[i];
        }

        return loss;
    }

    /// <summary>The global L2 norm of the mean gradient the last round left (per-block sums of squares added in block order).</summary>
    public double Norm()
    {
        double sum = 0;
        for (int b = 0; b < _blocks; b++)
        {
            sum += _squares[b];
        }

        return Math.Sqrt(sum);
    }

    /// <summary>
    /// True when the last <see cref="Update"/> also made what the next batch's shards read (<see cref="IAutoencoder.PrepareBatch(int, int)"/>,
    /// each thread for the rows of W that start in the parameters it updated, after every thread's update): then the caller need not call
    /// <see cref="IAutoencoder.PrepareBatch()"/> until the parameters change otherwise.
    /// </summary>
    public bool PreparedBatch { get; private set; }

    /// <summary>
    /// The update: copies the parameters to <paramref name="saveTo"/> first when given, scales the gradients by
    /// <paramref name="clip"/> when given, applies <paramref name="optimizer"/>'s step, with <paramref name="prepareBatch"/>
    /// makes the next batch's transposed copies (<see cref="PreparedBatch"/>), and returns the index of the first
    /// parameter that is not finite afterwards, or −1.
    /// </summary>
    public int Update(Optimizer optimizer, float learningRate, float? clip, float[]? saveTo, bool prepareBatch = false)
    {
        _optimizer = optimizer;
        _clip = clip;
        _saveTo = saveTo;
        _learningRate = learningRate;
        _prepareBatch = prepareBatch && optimizer.Sliceable;
        PreparedBatch = false;
        if (optimizer.Sliceable)
        {
            _step = optimizer.BeginSlicedStep(learningRate);
        }

        _update = true;
        Run();
        if (!optimizer.Sliceable)
        {
            // An optimizer from elsewhere: its step over the whole buffers, then the check, on this thread.
            optimizer.Step(_model.Parameters, _model.Gradients, learningRate);
            return FirstNonFinite(_model.Parameters, 0);
        }

        for (int b = 0; b < _blocks; b++)
        {
            if (_firstBad[b] >= 0)
            {
                return _firstBad[b];
            }
        }

        PreparedBatch = _prepareBatch;
        return -1;
    }

    /// <summary>Stops the threads.</summary>
    public void Dispose() => _pool?.Dispose();

    private void Run()
    {
        Array.Clear(_errors);
        if (_pool is null)
        {
            Work(0);
        }
        else
        {
            _pool.Run();
        }

        foreach (Exception? error in _errors)
        {
            if (error is not null)
            {
                ExceptionDispatchInfo.Capture(error).Throw();
            }
        }
    }

    /// <summary>Thread <paramref name="index"/>'s part of the current phase; an exception is kept for the driving thread.</summary>
    private void Work(int index)
    {
        int from = (int)((long)_blocks * index / Threads), to = (int)((long)_blocks * (index + 1) / Threads);
        if (_update)
        {
            try
            {
                UpdateBlocks(from, to);
            }
            catch (Exception e)
            {
                _errors[index] ??= e;
            }

            if (_prepareBatch)
            {
                // The transposed copies of the rows of W that start in this thread's blocks (mostly still in its cache),
                // once every thread has updated its blocks: a row may end in the next thread's. The ranges of the threads
                // are consecutive and cover the parameters, so together they make the whole of PrepareBatch().
                _pool?.Sync();
                try
                {
                    _model.PrepareBatch(from * BlockLength, to == _blocks ? _parameterLength : to * BlockLength);
                }
                catch (Exception e)
                {
                    _errors[index] ??= e;
                }
            }

            return;
        }

        // The shards of the round, thread i taking slots i, i + threads, …; then (after every thread's shards) the sum.
        for (int slot = index; slot < _shards; slot += Threads)
        {
            Shard(slot, index);
        }

        _pool?.Sync();

        foreach (Exception? error in _errors)
        {
            if (error is not null)
            {
                return; // a shard failed: the driving thread throws it
            }
        }

        try
        {
            ReduceBlocks(from, to);
        }
        catch (Exception e)
        {
            _errors[index] ??= e;
        }
    }

    /// <summary>Slot <paramref name="slot"/>'s shard, in thread <paramref name="thread"/>'s workspace, into the slot's gradients (zero before: the sum clears them).</summary>
    private void Shard(int slot, int thread)
    {
        try
        {
            int count = _counts[slot], length = count * _width;
            Span<float> clean = _clean[slot].AsSpan(0, length), inputs = _corrupted[slot].AsSpan(0, length);
            if (_data is not null)
            {
                int first = _firstSample + (slot * ShardSize);
                for (int s = 0; s < count; s++)
                {
                    _data[_order![first + s]].CopyTo(clean.Slice(s * _width, _width));
                }

                inputs = clean;
            }

            TrainingWorker worker = _workers[thread];
            worker.Gradients = _slotGradients[slot];
            _losses[slot] = _model.AccumulateShardGradients(inputs, clean, worker);
        }
        catch (Exception e)
        {
            _errors[thread] ??= e;
        }
    }

    /// <summary>G = g₀ (first round) or G += g₀, then G += g₁, … in slot order, each gᵢ cleared after; the last round scales and sums squares.</summary>
    private void ReduceBlocks(int from, int to)
    {
        Span<float> all = _model.Gradients;
        for (int b = from; b < to; b++)
        {
            int offset = b * BlockLength;
            int length = Math.Min(BlockLength, _parameterLength - offset);
            Span<float> sum = all.Slice(offset, length);
            for (int s = 0; s < _shards; s++)
            {
                Span<float> shard = _slotGradients[s].Span.Slice(offset, length);
                if (s == 0 && _firstRound)
                {
                    shard.CopyTo(sum);
                }
                else
                {
                    Add(sum, shard);
                }

                shard.Clear();
            }

            if (_lastRound)
            {
                Scale(sum, _scale);
                _squares[b] = SumOfSquares(sum);
            }
        }
    }

    private void UpdateBlocks(int from, int to)
    {
        Span<float> parameters = _model.Parameters, gradients = _model.Gradients;
        for (int b = from; b < to; b++)
        {
            int offset = b * BlockLength;
            int length = Math.Min(BlockLength, _parameterLength - offset);
            Span<float> p = parameters.Slice(offset, length), g = gradients.Slice(offset, length);
            Span<float> save = _saveTo is null ? default : _saveTo.AsSpan(offset, length);
            if (_clip is { } clip)
            {
                Scale(g, clip);
            }

            if (_optimizer!.Sliceable)
            {
                // The copy of the last good parameters and the check for non-finite ones ride in the update's pass.
                bool finite = _optimizer.UpdateSliceChecked(p, g, _learningRate, _step, offset, save);
                _firstBad[b] = finite ? -1 : FirstNonFinite(p, offset);
            }
            else if (!save.IsEmpty)
            {
                // An optimizer from elsewhere steps over the whole buffers after the threads (Update).
                p.CopyTo(save);
            }
        }
    }

    /// <summary>sum[i] += x[i] (element-wise, so the same float at any vector width).</summary>
    private static void Add(Span<float> sum, ReadOnlySpan<float> x)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= sum.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(sum.Slice(i)) + new Vector<float>(x.Slice(i))).CopyTo(sum.Slice(i));
            }
        }

        for (; i < sum.Length; i++)
        {
            sum[i] += x[i];
        }
    }

    /// <summary>x[i] *= factor (element-wise).</summary>
    private static void Scale(Span<float> x, float factor)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(x.Slice(i)) * factor).CopyTo(x.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            x[i] *= factor;
        }
    }

    /// <summary>Σ x² in double, with a fixed order of operations for a given length (vector lanes, then the tail).</summary>
    private static double SumOfSquares(ReadOnlySpan<float> x)
    {
        int i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            Vector<double> low = Vector<double>.Zero, high = Vector<double>.Zero;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(x.Slice(i)), out Vector<double> a, out Vector<double> b);
                low += a * a;
                high += b * b;
            }

            sum = Vector.Sum(low) + Vector.Sum(high);
        }

        for (; i < x.Length; i++)
        {
            double v = x[i];
            sum += v * v;
        }

        return sum;
    }

    /// <summary>
    /// <paramref name="offset"/> plus the index of the first value of <paramref name="values"/> that is ±∞ or NaN, or −1:
    /// whole vectors first (x − x is 0 for every finite x and NaN otherwise), the element within the first vector that has
    /// one, then the tail. Scalar, this scan took as long as Adam's update of the same block.
    /// </summary>
    internal static int FirstNonFinite(ReadOnlySpan<float> values, int offset)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values.Slice(i));
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero))
                {
                    break;
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return offset + i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Threads 1..n−1 (thread 0 is the caller), started once, running one phase at a time between two barrier
    /// crossings; <see cref="Sync"/> is a crossing inside a phase.
    /// </summary>
    private sealed class Pool : IDisposable
    {
        private readonly SpinBarrier _barrier;
        private readonly Thread[] _threads;
        private readonly Action<int> _work;
        private volatile bool _stopping;

        public Pool(int threads, Action<int> work)
        {
            _work = work;
            _barrier = new SpinBarrier(threads);
            _threads = new Thread[threads - 1];
            for (int i = 1; i < threads; i++)
            {
                int index = i;
                var thread = new Thread(() => Loop(index)) { IsBackground = true, Name = FormattableString.Invariant($"EdgeAe trainer {index}") };
                _threads[i - 1] = thread;
                thread.Start();
            }
        }

        /// <summary>One phase: every thread runs its part; returns when all are done.</summary>
        public void Run()
        {
            _barrier.SignalAndWait();
            _work(0);
            _barrier.SignalAndWait();
        }

        /// <summary>Waits inside a phase until every thread got here.</summary>
        public void Sync() => _barrier.SignalAndWait();

        public void Dispose()
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            _barrier.SignalAndWait();
            foreach (Thread thread in _threads)
            {
                thread.Join();
            }
        }

        private void Loop(int index)
        {
            while (true)
            {
                _barrier.SignalAndWait();
                if (_stopping)
                {
                    return;
                }

                _work(index);
                _barrier.SignalAndWait();
            }
        }
    }

    /// <summary>
    /// A barrier that spins for up to <see cref="SpinMicroseconds"/> (a training step's phases follow each other within
    /// microseconds) and then sleeps on a monitor (between epochs, or when the machine is busy). Allocates nothing.
    /// </summary>
    private sealed class SpinBarrier(int participants)
    {
        private const long SpinMicroseconds = 200;

        private readonly object _gate = new();
        private readonly int _participants = participants;
        private int _remaining = participants;
        private volatile int _generation;
        private int _sleepers;

        public void SignalAndWait()
        {
            int generation = _generation;
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                // The last to arrive opens the next generation (the count is reset before anyone can see it open).
                _remaining = _participants;
                lock (_gate)
                {
                    _generation = generation + 1;
                    if (_sleepers > 0)
                    {
                        Monitor.PulseAll(_gate);
                    }
                }

                return;
            }

            long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000);
            var spin = default(SpinWait);
            while (_generation == generation)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
                {
                    lock (_gate)
                    {
                        _sleepers++;
                        while (_generation == generation)
                        {
                            Monitor.Wait(_gate);
                        }

                        _sleepers--;
                    }

                    return;
                }

                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
    }
}
