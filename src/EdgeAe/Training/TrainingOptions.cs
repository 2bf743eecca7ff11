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

    /// <summary>Stop when the monitored loss has not improved for this many epochs; null trains all epochs.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>At the end (or on early stop or cancellation), put back the parameters of the best epoch.</summary>
    public bool RestoreBestParameters { get; init; } = true;

    /// <summary>Clip the mean gradient to this global L2 norm; null does not clip.</summary>
    public float? GradientClipNorm { get; init; }

    /// <summary>Weight files written after every epoch (the last epoch, and the best so far); null writes none.</summary>
    public CheckpointOptions? Checkpoints { get; init; }

    /// <summary>
    /// Quantisation-aware training: fake-quantised weights and activations in the forward pass, clipped straight-through
    /// gradients (docs/quantization.md); its <c>Quantize</c> gives the int8 model afterwards. Null trains in float32.
    /// </summary>
    public Quantization.QuantizationAwareTraining? QuantizationAware { get; init; }

    internal void Validate()
    {
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

        if (EarlyStoppingPatience is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "The early-stopping patience must be at least 1 epoch.");
        }

        if (GradientClipNorm is { } clip && (!(clip > 0f) || !float.IsFinite(clip)))
        {
            throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), clip, "The gradient clipping norm must be a positive finite number.");
        }

        ArgumentNullException.ThrowIfNull(Optimizer);
        ArgumentNullException.ThrowIfNull(Corruption);
    }
}

/// <summary>
/// Checkpoints in the weight-file format, written atomically after every epoch: <paramref name="LastPath"/>
/// holds the latest epoch, <paramref name="BestPath"/> the best so far, so a crash or a cancellation never
/// loses more than the running epoch.
/// </summary>
/// <param name="BestPath">File for the best epoch so far (by validation loss when there is validation data).</param>
/// <param name="LastPath">File for the latest finished epoch.</param>
/// <param name="Normalization">The normalisation of the training data, stored with the weights.</param>
public sealed record CheckpointOptions(string BestPath, string LastPath, Data.Normalization Normalization)
{
    /// <summary><c>name.best.eaw</c> and <c>name.last.eaw</c> beside <paramref name="weightFile"/> (<c>name.eaw</c>).</summary>
    public static CheckpointOptions Beside(string weightFile, Data.Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(weightFile);
        string stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weightFile))!, Path.GetFileNameWithoutExtension(weightFile));
        return new CheckpointOptions(stem + ".best.eaw", stem + ".last.eaw", normalization);
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
public sealed record TrainingResult(IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly, bool Cancelled, TimeSpan Elapsed)
{
    /// <summary>The best epoch's report, if any epoch finished.</summary>
    public EpochReport? Best => BestEpoch > 0 ? History[BestEpoch - 1] : null;
}

/// <summary>
/// Training produced a NaN or ∞ loss, gradient or parameter. The model keeps the last good parameters
/// (those before the failing step).
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(int epoch, long step, string what)
        : base($"Training diverged in epoch {epoch}, step {step}: {what}. The model keeps the parameters from before that step; try a lower learning rate or gradient clipping.")
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
