using System.Diagnostics;
using EdgeAe.Data;

namespace EdgeAe.Training;

/// <summary>
/// Trains a generated model offline: seeded shuffling, mini-batches through the model's own
/// generated batch backprop, an optimizer over its parameter buffer, corruption for denoising,
/// validation per epoch, early stopping, best-parameter restore, cancellation and progress.
/// Each batch is cut into fixed-size shards whose gradients are computed on up to <see cref="TrainingOptions.Threads"/>
/// threads and summed in shard order, so the weights are bit-identical for any thread count (<see cref="Plan"/>).
/// Buffers and threads are made once per <see cref="Fit"/>; a training step allocates nothing.
/// </summary>
/// <typeparam name="TModel">The generated model type.</typeparam>
public sealed class Trainer<TModel>
    where TModel : IAutoencoder
{
    private readonly TModel _model;
    private readonly TrainingOptions _options;

    /// <summary>Creates a trainer for <paramref name="model"/>; options are validated here.</summary>
    public Trainer(TModel model, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _model = model;
        _options = options;
    }

    /// <summary>How <see cref="Fit"/> splits batches into shards and threads for a training set of <paramref name="trainingCount"/> samples.</summary>
    public TrainingPlan Plan(int trainingCount) => TrainingPlan.Of(_options, _model.Topology, trainingCount);

    /// <summary>Called after every epoch (after any checkpoint of it is written): the model holds that epoch's parameters.</summary>
    public Action<TModel, EpochReport>? EpochCompleted { get; set; }

    /// <summary>
    /// Trains on <paramref name="training"/>, validating on <paramref name="validation"/> after each epoch.
    /// Cancellation stops between batches and returns normally with <see cref="TrainingResult.Cancelled"/> set.
    /// When training ends, the model holds the parameters of the finished epoch <see cref="TrainingOptions.Keep"/>
    /// chooses, or its initial parameters when no epoch finished.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A data set is empty, has the wrong width, holds NaN/∞, or — for a binary cross-entropy model — a value
    /// outside [0, 1] (row and column named).
    /// </exception>
    /// <exception cref="TrainingDivergedException">
    /// A loss, gradient or parameter became NaN/∞, or the loss stayed above <see cref="TrainingOptions.DivergenceFactor"/>
    /// times the initial loss for <see cref="TrainingOptions.DivergenceSteps"/> batches; the model keeps the last good
    /// parameters.
    /// </exception>
    public TrainingResult Fit(ISampleSource training, ISampleSource? validation = null, Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ModelTopology topology = _model.Topology;
        CheckData(training, nameof(training), topology);
        if (validation is not null)
        {
            CheckData(validation, nameof(validation), topology);
        }

        KeepParameters keep = _options.Keep != KeepParameters.Automatic ? _options.Keep
            : validation is null ? KeepParameters.Last : KeepParameters.Best;
        int width = topology.InputSize;
        TrainingPlan plan = TrainingPlan.Of(_options, topology, training.Count);
        int batchSize = plan.BatchSize;
        int shard = plan.ShardSize;
        using var engine = new DataParallelStep(_model, plan.Threads, shard, plan.Shards);
        var counts = new int[engine.Slots];

        // Without corruption or QAT, the threads copy their shards' samples themselves (from a cache once this thread has
        // made the round's blocks resident); else this thread prepares them.
        bool gather = _options.Corruption.IsNone && _options.QuantizationAware is null && training is Dataset or DataCache;
        SampleOrder sampleOrder = OrderFor(training);
        int[] order = sampleOrder.Indices;
        DataCache? cache = training as DataCache;
        int window = sampleOrder.WindowSamples;

        // Parameter snapshots: the best and the last finished epoch (both start as the initial parameters), the
        // parameters before the current step while the loss is sound, and scratch space for checkpoint writes.
        Span<float> parameters = _model.Parameters;
        var best = parameters.ToArray();
        var last = parameters.ToArray();
        var lastGood = parameters.ToArray();
        CheckpointWriter? checkpoints = _options.Checkpoints is { } c ? new CheckpointWriter(c, _model, best, last) : null;
        Optimizer optimizer = Optimizer.Create(_options.Optimizer, parameters.Length);
        double divergenceLimit = _options.DivergenceFactor * Math.Max(InitialLoss(training), MinimumInitialLoss * width);
        var random = new SplitMix64((ulong)(uint)_options.Seed * 0x9E3779B97F4A7C15UL + 1);
        int batches = (training.Count + batchSize - 1) / batchSize;

        Quantization.QuantizationAwareTraining? qat = _options.QuantizationAware;
        var history = new List<EpochReport>();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0;
        int sinceBest = 0;
        int aboveLimit = 0;
        long step = 0;
        bool cancelled = false;
        bool stoppedEarly = false;
        var total = Stopwatch.StartNew();

        // Divergence: the model gets the last good parameters back, finished epochs reach the checkpoints.
        TrainingDivergedException Diverged(int epoch, string what)
        {
            lastGood.CopyTo(_model.Parameters);
            checkpoints?.Flush(history.Count, bestEpoch);
            return new TrainingDivergedException(epoch, step, what);
        }

        for (int epoch = 1; epoch <= _options.Epochs && !cancelled; epoch++)
        {
            if (_options.Shuffle)
            {
                sampleOrder.Shuffle(ref random);
            }

            qat?.BeginEpoch(_model, epoch);
            bool prepared = false; // the transposed copies are made afresh each epoch (between epochs callbacks see the model)
            int readAheadTo = 0; // from a cache: samples of this epoch's order whose blocks were asked for ahead
            var clock = Stopwatch.StartNew();
            double epochLoss = 0;
            int seen = 0;
            for (int batch = 0; batch < batches; batch++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }

                int start = batch * batchSize;
                int count = Math.Min(batchSize, training.Count - start);
                step++;

                // From a cache, the blocks of the window after the current one are read ahead on the cache's thread.
                if (cache is not null && readAheadTo < order.Length && start + count > readAheadTo - window)
                {
                    int end = Math.Min(order.Length, readAheadTo + window);
                    cache.ReadAhead(order.AsSpan(readAheadTo, end - readAheadTo));
                    readAheadTo = end;
                }

                float learningRate = _options.Schedule?.At(epoch - 1, step - 1) ?? _options.LearningRate;

                // The mean gradient of the batch: shards of a fixed size, up to one per thread at a time, summed in shard
                // order (DataParallelStep), so the result does not depend on the thread count.
                qat?.BeginStep(_model);
                if (!prepared)
                {
                    _model.PrepareBatch();
                }
                double batchLoss = 0;
                int shards = (count + shard - 1) / shard;
                for (int first = 0; first < shards; first += engine.Slots)
                {
                    int round = Math.Min(engine.Slots, shards - first);
                    int roundStart = start + (first * shard);
                    bool threadsCopy = gather
                        && (cache is null || cache.Hold(order.AsSpan(roundStart, Math.Min(round * shard, count - (first * shard)))));
                    for (int slot = 0; slot < round; slot++)
                    {
                        int offset = (first + slot) * shard;
                        int n = Math.Min(shard, count - offset);
                        counts[slot] = n;
                        if (threadsCopy)
                        {
                            continue;
                        }

                        Span<float> clean = engine.Clean(slot), inputs = engine.Inputs(slot);
                        for (int s = 0; s < n; s++)
                        {
                            Span<float> target = clean.Slice(s * width, width);
                            training[order[start + offset + s]].CopyTo(target);
                            _options.Corruption.Apply(target, inputs.Slice(s * width, width), ref random);
                        }

                        qat?.QuantizeInputs(inputs[..(n * width)]);
                    }

                    batchLoss += engine.Round(counts.AsSpan(0, round), first == 0, first + round >= shards, 1f / count, threadsCopy ? training : null, order, roundStart);
                }

                qat?.EndStep(_model);

                // The loss was computed with the parameters before this step: while it is sound, they are good.
                if (!double.IsFinite(batchLoss))
                {
                    throw Diverged(epoch, $"the batch loss is {batchLoss}");
                }

                parameters = _model.Parameters;
                bool sound = true;
                if (batchLoss / count > divergenceLimit)
                {
                    sound = false;
                    if (++aboveLimit >= _options.DivergenceSteps)
                    {
                        throw Diverged(epoch, FormattableString.Invariant(
                            $"the mean loss per element stayed above {_options.DivergenceFactor:G4} × the initial loss ({Metrics.MeanPerElement(topology.Loss, divergenceLimit / _options.DivergenceFactor, width):G4}) for {aboveLimit} batches (now {Metrics.MeanPerElement(topology.Loss, batchLoss / count, width):G4})"));
                    }
                }
                else
                {
                    aboveLimit = 0;
                }

                // The gradients are the batch mean now; the norm (clipped to GradientClipNorm when above it), the
                // optimizer step and the finiteness check run per parameter block on the threads, and the parameters
                // are saved as the last good ones on the way when the loss is sound.
                double norm = engine.Norm();
                if (!double.IsFinite(norm))
                {
                    if (sound)
                    {
                        parameters.CopyTo(lastGood);
                    }

                    throw Diverged(epoch, $"the gradient norm is {norm}");
                }

                float? clipScale = _options.GradientClipNorm is { } clip ? GradientClipping.Coefficient(norm, clip) : null;
                // Without quantisation-aware training (which changes the parameters before each step), the update also
                // makes the next batch's transposed copies, each thread for the parameters it updated.
                int bad = engine.Update(optimizer, learningRate, clipScale, sound ? lastGood : null, prepareBatch: qat is null);
                prepared = engine.PreparedBatch;
                if (bad >= 0)
                {
                    throw Diverged(epoch, $"parameter [{bad}] became non-finite");
                }

                epochLoss += batchLoss;
                seen += count;
                if (progress is not null)
                {
                    double meanLoss = Metrics.MeanPerElement(topology.Loss, batchLoss / count, width);
                    progress(new TrainingProgress(epoch, _options.Epochs, batch + 1, batches, step, meanLoss, seen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
                }
            }

            if (seen < training.Count)
            {
                break; // cancelled mid-epoch: an unfinished epoch is not reported, compared or kept
            }

            double trainingLoss = Metrics.MeanPerElement(topology.Loss, epochLoss / seen, width);
            double? validationLoss = validation is null ? null : Evaluate(_model, validation).MeanLoss;
            double monitored = validationLoss ?? trainingLoss;
            bool isBest = monitored < bestLoss;
            _model.Parameters.CopyTo(last);
            if (isBest)
            {
                bestLoss = monitored;
                bestEpoch = epoch;
                sinceBest = 0;
                _model.Parameters.CopyTo(best);
            }
            else
            {
                sinceBest++;
            }

            var report = new EpochReport(epoch, trainingLoss, validationLoss, isBest, clock.Elapsed, seen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
            history.Add(report);
            checkpoints?.EpochFinished(epoch, bestEpoch);
            EpochCompleted?.Invoke(_model, report);
            if (_options.EarlyStoppingPatience is { } patience && sinceBest >= patience)
            {
                stoppedEarly = true;
                break;
            }
        }

        checkpoints?.Flush(history.Count, bestEpoch);
        int keptEpoch = keep == KeepParameters.Best && bestEpoch > 0 ? bestEpoch : history.Count;
        (keep == KeepParameters.Best && bestEpoch > 0 ? best : last).CopyTo(_model.Parameters);
        return new TrainingResult(history, bestEpoch, stoppedEarly, cancelled, total.Elapsed, keptEpoch, keep);
    }

    /// <summary>
    /// Mean loss per element, MSE and PSNR of <paramref name="model"/> reconstructing <paramref name="data"/>;
    /// with a corruption, inputs are corrupted (seeded) and compared against the clean data.
    /// </summary>
    public static Evaluation Evaluate(TModel model, ISampleSource data, Corruption? corruption = null, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckData(data, nameof(data), model.Topology);
        int width = data.Width;
        var input = new float[width];
        var output = new float[width];
        var random = new SplitMix64((ulong)(uint)seed);
        double loss = 0, squared = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int i = 0; i < data.Count; i++)
        {
            ReadOnlySpan<float> target = data[i];
            (corruption ?? Corruption.None).Apply(target, input, ref random);
            model.Reconstruct(input, output);
            loss += model.Evaluate(input, target);
            squared += Metrics.MeanSquaredError(output, target);
            foreach (float v in target)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        double mse = squared / data.Count;
        return new Evaluation(Metrics.MeanPerElement(model.Topology.Loss, loss / data.Count, width), mse, Metrics.Psnr(mse, max - min), data.Count);
    }

    /// <summary>A floor under the initial loss per element, so a perfect initial fit does not make every later loss a divergence.</summary>
    private const double MinimumInitialLoss = 1e-6;

    /// <summary>Samples the initial loss is measured on (the first ones in storage order).</summary>
    private const int InitialLossSamples = 256;

    /// <summary>The untrained model's mean loss per sample on the first training samples (clean inputs).</summary>
    private double InitialLoss(ISampleSource training)
    {
        int count = Math.Min(training.Count, InitialLossSamples);
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += _model.Evaluate(training[i], training[i]);
        }

        return sum / count;
    }

    /// <summary>
    /// The epoch order (<see cref="SampleOrder"/>): the window and block of the options, or by default one window of
    /// every sample in memory and 64 MiB windows from a cache, which then keeps two windows' blocks mapped.
    /// </summary>
    private SampleOrder OrderFor(ISampleSource training)
    {
        int block = _options.ShuffleBlock ?? DataCache.BlockSamplesFor(training.Width);
        int window = _options.ShuffleWindow ?? (training is DataCache c ? c.DefaultWindowSamples : training.Count);
        var order = new SampleOrder(training.Count, block, window);
        (training as DataCache)?.ReserveWindow(order.WindowSamples, block);
        return order;
    }

    private static void CheckData(ISampleSource source, string name, ModelTopology topology)
    {
        if (source is not Dataset data)
        {
            // A cache holds finite values (checked when it was written) and records its range.
            CheckShape(source, name, topology.InputSize);
            if (topology.Loss == LossKind.BinaryCrossEntropy && source is DataCache cache && (cache.Minimum < 0f || cache.Maximum > 1f))
            {
                throw new ArgumentException(FormattableString.Invariant(
                    $"The {name} data ({cache.FilePath}) spans [{cache.Minimum}, {cache.Maximum}]; a binary cross-entropy model needs every value in [0, 1] (prepare it with a scale that maps it into that range)."), name);
            }

            return;
        }

        CheckData(data, name, topology.InputSize);
        if (topology.Loss != LossKind.BinaryCrossEntropy)
        {
            return;
        }

        ReadOnlySpan<float> values = data.Values;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] is < 0f or > 1f)
            {
                throw new ArgumentException(FormattableString.Invariant(
                    $"The {name} data holds {values[i]} at row {i / data.Width + 1}, column {i % data.Width + 1}; a binary cross-entropy model needs every value in [0, 1] (scale the data into that range)."), name);
            }
        }
    }

    private static void CheckShape(ISampleSource data, string name, int width)
    {
        ArgumentNullException.ThrowIfNull(data, name);
        if (data.Count == 0)
        {
            throw new ArgumentException($"The {name} data set is empty.", name);
        }

        if (data.Width != width)
        {
            throw new ArgumentException($"The {name} data has {data.Width} values per sample but the model's input width is {width}.", name);
        }
    }

    private static void CheckData(Dataset data, string name, int width)
    {
        CheckShape(data, name, width);

        ReadOnlySpan<float> values = data.Values;
        int bad = FirstNonFinite(values);
        if (bad >= 0)
        {
            throw new ArgumentException($"The {name} data holds {values[bad]} at row {bad / width + 1}, column {bad % width + 1}; every value must be finite.", name);
        }
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// Writes <see cref="CheckpointOptions"/> files from parameter snapshots (the model's own parameters are swapped
/// out for the write and back in): after an epoch when the interval has passed, and on <see cref="Flush"/>.
/// </summary>
internal sealed class CheckpointWriter(CheckpointOptions options, IAutoencoder model, float[] best, float[] last)
{
    private readonly Stopwatch _sinceWrite = Stopwatch.StartNew();
    private readonly float[] _current = new float[last.Length];
    private int _lastWritten;
    private int _bestWritten;

    /// <summary>After epoch <paramref name="epoch"/> (best so far <paramref name="bestEpoch"/>): writes when the interval has passed.</summary>
    public void EpochFinished(int epoch, int bestEpoch)
    {
        if (_sinceWrite.Elapsed >= options.Interval)
        {
            Flush(epoch, bestEpoch);
        }
    }

    /// <summary>Writes the last and the best epoch unless already on disk.</summary>
    public void Flush(int lastEpoch, int bestEpoch)
    {
        if (lastEpoch > _lastWritten)
        {
            Write(options.LastPath, last);
            _lastWritten = lastEpoch;
        }

        if (bestEpoch > 0 && bestEpoch != _bestWritten)
        {
            Write(options.BestPath, best);
            _bestWritten = bestEpoch;
        }

        _sinceWrite.Restart();
    }

    private void Write(string path, float[] snapshot)
    {
        Span<float> parameters = model.Parameters;
        parameters.CopyTo(_current);
        snapshot.CopyTo(parameters);
        try
        {
            options.Write(path, model);
        }
        finally
        {
            _current.CopyTo(model.Parameters);
        }
    }
}

/// <summary>Reconstruction quality on a data set.</summary>
/// <param name="MeanLoss">Mean loss per element (BCE per element or MSE, per the model's loss).</param>
/// <param name="MeanSquaredError">Mean squared error per element.</param>
/// <param name="Psnr">
/// Peak signal-to-noise ratio in dB, with the data's value range as peak: NaN when the data is constant (no range,
/// so no peak), +∞ for a perfect reconstruction.
/// </param>
/// <param name="Count">Samples evaluated.</param>
public sealed record Evaluation(double MeanLoss, double MeanSquaredError, double Psnr, int Count);
