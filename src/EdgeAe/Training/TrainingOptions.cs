namespace EdgeAe.Training;

/// <summary>How <see cref="Trainer{TModel}"/> trains. Every value is validated when training starts.</summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the training set (≥ 1).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per gradient step (≥ 1). Larger batches than the model's MaxBatchSize are processed in chunks.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The optimizer and its hyper-parameters.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>The (initial) learning rate; positive and finite.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Learning-rate schedule; null keeps <see cref="LearningRate"/> constant.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Corruption applied to training inputs (denoising); the loss compares against the clean input.</summary>
    public Corruption Corruption { get; init; } = Corruption.None;

    /// <summary>Seed of shuffling and corruption. Same seed, same data, same model → same weights.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Whether samples are visited in a new seeded order each epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Samples per shuffle window (docs/data-cache.md): each epoch visits the data a window at a time, a window being
    /// whole blocks of <see cref="ShuffleBlock"/> samples chosen at random. Null: every sample for data in memory (one
    /// Fisher–Yates over all samples), 64 MiB of samples for a <see cref="Data.DataCache"/>. Same window, same block,
    /// same seed → the same order from memory and from a cache.
    /// </summary>
    public int? ShuffleWindow { get; init; }

    /// <summary>Samples per shuffle block; null: 1 MiB of samples (<see cref="Data.DataCache.BlockSamplesFor"/>).</summary>
    public int? ShuffleBlock { get; init; }

    /// <summary>Stop when the monitored loss has not improved for this many epochs; null trains all epochs.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>
    /// Which finished epoch's parameters the model holds when training ends (all epochs, early stop or
    /// cancellation): <see cref="KeepParameters.Automatic"/> (the default) keeps the best epoch by validation loss
    /// when validation data is given and the last epoch otherwise.
    /// </summary>
    public KeepParameters Keep { get; init; } = KeepParameters.Automatic;

    /// <summary>
    /// Divergence by size: training stops with <see cref="TrainingDivergedException"/> when the mean loss of
    /// <see cref="DivergenceSteps"/> consecutive batches exceeds this factor times the initial loss (the untrained
    /// model's mean loss on up to 256 training samples). Non-finite losses, gradients or parameters stop training
    /// at once whatever this is. <see cref="double.PositiveInfinity"/> turns the size rule off.
    /// </summary>
    public double DivergenceFactor { get; init; } = 100;

    /// <summary>Consecutive batches whose loss must exceed <see cref="DivergenceFactor"/> × the initial loss (≥ 1).</summary>
    public int DivergenceSteps { get; init; } = 20;

    /// <summary>Clip the mean gradient to this global L2 norm; null does not clip.</summary>
    public float? GradientClipNorm { get; init; }

    /// <summary>Weight files written after every epoch (the last epoch, and the best so far); null writes none.</summary>
    public CheckpointOptions? Checkpoints { get; init; }

    /// <summary>
    /// Quantisation-aware training: fake-quantised weights and activations in the forward pass, clipped straight-through
    /// gradients (docs/quantization.md); its <c>Quantize</c> gives the int8 model afterwards. Null trains in float32.
    /// </summary>
    public Quantization.QuantizationAwareTraining? QuantizationAware { get; init; }

    /// <summary>
    /// Samples per shard of data-parallel training: every batch is cut into shards of this many samples (fewer when the
    /// model's MaxBatchSize is smaller; the last shard of a batch may be partial), whatever <see cref="Threads"/> is.
    /// </summary>
    public const int ShardSize = 32;

    /// <summary>
    /// Threads that compute a batch's shard gradients at once (≥ 1); the library default is every core,
    /// <see cref="Environment.ProcessorCount"/>. A batch of one shard runs on one thread, and no more threads are
    /// started than a batch has shards; quantisation-aware training runs on one thread. The trained weights are
    /// bit-identical for every value (the shard gradients are summed in shard order): it changes speed only.
    /// </summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    internal void Validate()
    {
        if (Threads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "The number of training threads must be at least 1.");
        }

        if (Epochs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "The number of epochs must be at least 1.");
        }

        if (BatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1.");
        }

        if (!(LearningRate > 0f) || !float.IsFinite(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a positive finite number.");
        }

        if (ShuffleWindow is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ShuffleWindow), ShuffleWindow, "The shuffle window must hold at least 1 sample.");
        }

        if (ShuffleBlock is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ShuffleBlock), ShuffleBlock, "The shuffle block must hold at least 1 sample.");
        }

        if (EarlyStoppingPatience is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "The early-stopping patience must be at least 1 epoch.");
        }

        if (GradientClipNorm is { } clip && (!(clip > 0f) || !float.IsFinite(clip)))
        {
            throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), clip, "The gradient clipping norm must be a positive finite number.");
        }

        if (!(DivergenceFactor > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(DivergenceFactor), DivergenceFactor, "The divergence factor must be greater than 1 (or +∞ to turn the rule off).");
        }

        if (DivergenceSteps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DivergenceSteps), DivergenceSteps, "The divergence step count must be at least 1.");
        }

        if (!Enum.IsDefined(Keep))
        {
            throw new ArgumentOutOfRangeException(nameof(Keep), Keep, "Unknown choice of parameters to keep.");
        }

        Checkpoints?.Validate();
        ArgumentNullException.ThrowIfNull(Optimizer);
        ArgumentNullException.ThrowIfNull(Corruption);
    }
}

/// <summary>Which finished epoch's parameters a training keeps (<see cref="TrainingOptions.Keep"/>).</summary>
public enum KeepParameters
{
    /// <summary><see cref="Best"/> when there is validation data, <see cref="Last"/> without.</summary>
    Automatic = 0,

    /// <summary>The epoch with the lowest monitored loss: validation loss when there is validation data, else training loss.</summary>
    Best = 1,

    /// <summary>The last finished epoch.</summary>
    Last = 2,
}

/// <summary>
/// Checkpoints in the weight-file format, written atomically: <paramref name="LastPath"/> holds the latest finished
/// epoch, <paramref name="BestPath"/> the best so far. They are written when <see cref="Interval"/> has passed since
/// the previous checkpoint and always when training ends — normally, early, cancelled or diverged — so a crash
/// loses at most an interval of training and the files always end up holding the final last and best epochs.
/// </summary>
/// <param name="BestPath">File for the best epoch so far (by validation loss when there is validation data).</param>
/// <param name="LastPath">File for the latest finished epoch.</param>
/// <param name="Normalization">The normalisation of the training data, stored with the weights.</param>
public sealed record CheckpointOptions(string BestPath, string LastPath, Data.Normalization Normalization)
{
    /// <summary>The default <see cref="Interval"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    /// <summary>Least time between two checkpoint writes; <see cref="TimeSpan.Zero"/> writes after every epoch.</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>
    /// Writes one checkpoint file (path, model holding the epoch's parameters). Null writes
    /// <c>WeightFile.Save(path, model, Normalization)</c>; a caller that adds optional sections to its final
    /// weight file (a code quantiser, a baseline) passes the same writer so a checkpoint is a complete file of the
    /// same model.
    /// </summary>
    public Action<string, IAutoencoder>? Writer { get; init; }

    /// <summary><c>name.best.eaw</c> and <c>name.last.eaw</c> beside <paramref name="weightFile"/> (<c>name.eaw</c>).</summary>
    public static CheckpointOptions Beside(string weightFile, Data.Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(weightFile);
        (string best, string last) = PathsBeside(weightFile);
        return new CheckpointOptions(best, last, normalization);
    }

    /// <summary>The checkpoint paths <see cref="Beside"/> uses for <paramref name="weightFile"/>.</summary>
    public static (string Best, string Last) PathsBeside(string weightFile)
    {
        ArgumentNullException.ThrowIfNull(weightFile);
        string stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightFile))!, Path.GetFileNameWithoutExtension(weightFile));
        return (stem + ".best.eaw", stem + ".last.eaw");
    }

    internal void Write(string path, IAutoencoder model)
    {
        if (Writer is { } writer)
        {
            writer(path, model);
        }
        else
        {
            IO.WeightFile.Save(path, model, Normalization);
        }
    }

    /// <summary>
    /// Samples per shard of data-parallel training: every batch is cut into shards of this many samples (fewer when the
    /// model's MaxBatchSize is smaller; the last shard of a batch may be partial), whatever <see cref="Threads"/> is.
    /// </summary>
    public const int ShardSize = 32;

    /// <summary>
    /// Threads that compute a batch's shard gradients at once (≥ 1); the library default is every core,
    /// <see cref="Environment.ProcessorCount"/>. A batch of one shard runs on one thread, and no more threads are
    /// started than a batch has shards; quantisation-aware training runs on one thread. The trained weights are
    /// bit-identical for every value (the shard gradients are summed in shard order): it changes speed only.
    /// </summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    internal void Validate()
    {
        if (Threads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "The number of training threads must be at least 1.");
        }

        if (Interval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, "The checkpoint interval cannot be negative.");
        }
    }
}

/// <summary>Reported after every batch, for progress bars.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="Batch">1-based batch within the epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Step">Optimizer steps taken so far.</param>
/// <param name="Loss">Mean loss per element of this batch (BCE per element, or MSE).</param>
/// <param name="SamplesPerSecond">Training throughput of the epoch so far.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, long Step, double Loss, double SamplesPerSecond);

/// <summary>One finished epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainingLoss">Mean loss per element over the epoch's (possibly corrupted) training batches.</param>
/// <param name="ValidationLoss">Mean loss per element on the clean validation set, when one was given.</param>
/// <param name="IsBest">Whether this epoch has the best monitored loss so far (validation if given, else training).</param>
/// <param name="Elapsed">Time the epoch took.</param>
/// <param name="SamplesPerSecond">Training throughput.</param>
public sealed record EpochReport(int Epoch, double TrainingLoss, double? ValidationLoss, bool IsBest, TimeSpan Elapsed, double SamplesPerSecond);

/// <summary>What <see cref="Trainer{TModel}.Fit"/> did.</summary>
/// <param name="History">Every finished epoch.</param>
/// <param name="BestEpoch">The epoch whose parameters are best (0 when no epoch finished).</param>
/// <param name="StoppedEarly">Whether early stopping ended training.</param>
/// <param name="Cancelled">Whether the cancellation token ended training.</param>
/// <param name="Elapsed">Total time.</param>
/// <param name="KeptEpoch">The finished epoch whose parameters the model holds (0: no epoch finished, the model holds its initial parameters).</param>
/// <param name="Kept">Which rule chose <paramref name="KeptEpoch"/> (<see cref="KeepParameters.Automatic"/> resolved to best or last).</param>
public sealed record TrainingResult(IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly, bool Cancelled, TimeSpan Elapsed, int KeptEpoch, KeepParameters Kept)
{
    /// <summary>The best epoch's report, if any epoch finished.</summary>
    public EpochReport? Best => BestEpoch > 0 ? History[BestEpoch - 1] : null;
}

/// <summary>
/// Training diverged: a NaN or ∞ loss, gradient or parameter, or a loss that stayed above
/// <see cref="TrainingOptions.DivergenceFactor"/> times the initial loss for <see cref="TrainingOptions.DivergenceSteps"/>
/// batches. The model keeps the last good parameters (those before the first failing step); the checkpoints, when
/// configured, hold the last finished and the best epoch.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(int epoch, long step, string what)
        : base($"Training diverged in epoch {epoch}, step {step}: {what}. The model keeps the parameters from before the divergence; try a lower learning rate or gradient clipping.")
    {
        Epoch = epoch;
        Step = step;
        What = what;
    }

    /// <summary>1-based epoch of the failing step.</summary>
    public int Epoch { get; }

    /// <summary>1-based optimizer step that failed.</summary>
    public long Step { get; }

    /// <summary>What became non-finite.</summary>
    public string What { get; }
}
