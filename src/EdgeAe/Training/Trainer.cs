using System.Diagnostics;
using EdgeAe.Data;

namespace EdgeAe.Training;

/// <summary>
/// Trains a generated model offline: seeded shuffling, mini-batches through the model's own
/// generated batch backprop, an optimizer over its parameter buffer, corruption for denoising,
/// validation per epoch, early stopping, best-parameter restore, cancellation and progress.
/// Buffers are allocated once per <see cref="Fit"/>; a training step allocates nothing.
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

    /// <summary>Called after every epoch (after the checkpoints are written): the model holds that epoch's parameters.</summary>
    public Action<TModel, EpochReport>? EpochCompleted { get; set; }

    /// <summary>
    /// Trains on <paramref name="training"/>, validating on <paramref name="validation"/> after each epoch.
    /// Cancellation stops between batches and returns normally with <see cref="TrainingResult.Cancelled"/> set.
    /// </summary>
    /// <exception cref="ArgumentException">A data set is empty, has the wrong width, or holds NaN/∞ (row and column named).</exception>
    /// <exception cref="TrainingDivergedException">A loss, gradient or parameter became NaN/∞.</exception>
    public TrainingResult Fit(Dataset training, Dataset? validation = null, Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ModelTopology topology = _model.Topology;
        CheckData(training, nameof(training), topology.InputSize);
        if (validation is not null)
        {
            CheckData(validation, nameof(validation), topology.InputSize);
        }

        int width = topology.InputSize;
        int batchSize = Math.Min(_options.BatchSize, training.Count);
        int chunk = Math.Min(batchSize, topology.MaxBatchSize);
        var clean = new float[chunk * width];
        var corrupted = new float[chunk * width];
        var order = new int[training.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Span<float> parameters = _model.Parameters;
        var lastGood = new float[parameters.Length];
        var best = new float[parameters.Length];
        parameters.CopyTo(best);
        Optimizer optimizer = Optimizer.Create(_options.Optimizer, parameters.Length);
        var random = new SplitMix64((ulong)(uint)_options.Seed * 0x9E3779B97F4A7C15UL + 1);
        int batches = (training.Count + batchSize - 1) / batchSize;

        Quantization.QuantizationAwareTraining? qat = _options.QuantizationAware;
        var history = new List<EpochReport>();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0;
        int sinceBest = 0;
        long step = 0;
        bool cancelled = false;
        bool stoppedEarly = false;
        var total = Stopwatch.StartNew();

        for (int epoch = 1; epoch <= _options.Epochs && !cancelled; epoch++)
        {
            if (_options.Shuffle)
            {
                random.Shuffle<int>(order);
            }

            qat?.BeginEpoch(_model, epoch);
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
                float learningRate = _options.Schedule?.At(epoch - 1, step - 1) ?? _options.LearningRate;

                // Gradients summed over the batch (in chunks the model's workspace holds), then averaged.
                _model.ZeroGradients();
                qat?.BeginStep(_model);
                double batchLoss = 0;
                for (int offset = 0; offset < count; offset += chunk)
                {
                    int n = Math.Min(chunk, count - offset);
                    for (int s = 0; s < n; s++)
                    {
                        ReadOnlySpan<float> sample = training[order[start + offset + s]];
                        Span<float> target = clean.AsSpan(s * width, width);
                        sample.CopyTo(target);
                        _options.Corruption.Apply(target, corrupted.AsSpan(s * width, width), ref random);
                    }

                    qat?.QuantizeInputs(corrupted.AsSpan(0, n * width));
                    batchLoss += _model.AccumulateBatchGradients(corrupted.AsSpan(0, n * width), clean.AsSpan(0, n * width));
                }

                qat?.EndStep(_model);

                if (!double.IsFinite(batchLoss))
                {
                    throw new TrainingDivergedException(epoch, step, $"the batch loss is {batchLoss}");
                }

                Span<float> gradients = _model.Gradients;
                float scale = 1f / count;
                for (int k = 0; k < gradients.Length; k++)
                {
                    gradients[k] *= scale;
                }

                double norm = _options.GradientClipNorm is { } clip
                    ? GradientClipping.ClipByGlobalNorm(gradients, clip)
                    : GradientClipping.GlobalNorm(gradients);
                if (!double.IsFinite(norm))
                {
                    throw new TrainingDivergedException(epoch, step, $"the gradient norm is {norm}");
                }

                parameters = _model.Parameters;
                parameters.CopyTo(lastGood);
                optimizer.Step(parameters, gradients, learningRate);
                int bad = FirstNonFinite(parameters);
                if (bad >= 0)
                {
                    lastGood.CopyTo(parameters);
                    throw new TrainingDivergedException(epoch, step, $"parameter [{bad}] became non-finite");
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
                break; // cancelled mid-epoch: an unfinished epoch is not reported or compared
            }

            double trainingLoss = Metrics.MeanPerElement(topology.Loss, epochLoss / seen, width);
            double? validationLoss = validation is null ? null : Evaluate(_model, validation).MeanLoss;
            double monitored = validationLoss ?? trainingLoss;
            bool isBest = monitored < bestLoss;
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
            if (_options.Checkpoints is { } checkpoints)
            {
                IO.WeightFile.Save(checkpoints.LastPath, _model, checkpoints.Normalization);
                if (isBest)
                {
                    IO.WeightFile.Save(checkpoints.BestPath, _model, checkpoints.Normalization);
                }
            }

            EpochCompleted?.Invoke(_model, report);
            if (_options.EarlyStoppingPatience is { } patience && sinceBest >= patience)
            {
                stoppedEarly = true;
                break;
            }
        }

        if (_options.RestoreBestParameters && bestEpoch > 0)
        {
            best.CopyTo(_model.Parameters);
        }

        return new TrainingResult(history, bestEpoch, stoppedEarly, cancelled, total.Elapsed);
    }

    /// <summary>
    /// Mean loss per element, MSE and PSNR of <paramref name="model"/> reconstructing <paramref name="data"/>;
    /// with a corruption, inputs are corrupted (seeded) and compared against the clean data.
    /// </summary>
    public static Evaluation Evaluate(TModel model, Dataset data, Corruption? corruption = null, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckData(data, nameof(data), model.Topology.InputSize);
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
        double range = Math.Max(max - min, 1e-12);
        double psnr = 10 * Math.Log10(range * range / Math.Max(mse, 1e-30));
        return new Evaluation(Metrics.MeanPerElement(model.Topology.Loss, loss / data.Count, width), mse, psnr, data.Count);
    }

    private static void CheckData(Dataset data, string name, int width)
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

/// <summary>Reconstruction quality on a data set.</summary>
/// <param name="MeanLoss">Mean loss per element (BCE per element or MSE, per the model's loss).</param>
/// <param name="MeanSquaredError">Mean squared error per element.</param>
/// <param name="Psnr">Peak signal-to-noise ratio in dB, with the data's value range as peak.</param>
/// <param name="Count">Samples evaluated.</param>
public sealed record Evaluation(double MeanLoss, double MeanSquaredError, double Psnr, int Count);
