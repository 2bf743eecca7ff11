namespace EdgeAe.Training;

/// <summary>
/// The learning rate as a function of training progress. The trainer asks for the rate of each optimizer step
/// with the 0-based epoch and the 0-based global step (optimizer steps taken before this one).
/// Formulas follow PyTorch's <c>torch.optim.lr_scheduler</c> closed forms.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>Creates a schedule starting at <paramref name="initial"/>.</summary>
    /// <param name="initial">The initial learning rate; positive and finite.</param>
    protected LearningRateSchedule(float initial)
    {
        Guard.PositiveFinite(initial, nameof(initial), "initial learning rate");
        Initial = initial;
    }

    /// <summary>The learning rate at epoch 0, step 0.</summary>
    public float Initial { get; }

    /// <summary>The learning rate for the step <paramref name="step"/> taken during epoch <paramref name="epoch"/>.</summary>
    /// <param name="epoch">0-based epoch; not negative.</param>
    /// <param name="step">0-based global optimizer step; not negative.</param>
    /// <returns>A positive, finite learning rate.</returns>
    public float At(int epoch, long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return Compute(epoch, step);
    }

    /// <summary>The schedule's formula; arguments are already validated.</summary>
    /// <param name="epoch">0-based epoch.</param>
    /// <param name="step">0-based global optimizer step.</param>
    /// <returns>The learning rate.</returns>
    protected abstract float Compute(int epoch, long step);

    /// <summary>A constant learning rate.</summary>
    /// <param name="learningRate">The rate; positive and finite.</param>
    /// <returns>The schedule.</returns>
    public static LearningRateSchedule Constant(float learningRate) => new ConstantSchedule(learningRate);

    /// <summary>PyTorch's <c>StepLR</c>: the rate is multiplied by <paramref name="gamma"/> every <paramref name="stepEpochs"/> epochs.</summary>
    /// <param name="initial">The initial rate; positive and finite.</param>
    /// <param name="stepEpochs">Epochs between decays; at least 1.</param>
    /// <param name="gamma">Decay factor in (0, 1].</param>
    /// <returns>The schedule.</returns>
    public static LearningRateSchedule StepDecay(float initial, int stepEpochs, float gamma) => new StepDecaySchedule(initial, stepEpochs, gamma);

    /// <summary>PyTorch's <c>CosineAnnealingLR</c> over <paramref name="totalSteps"/> optimizer steps, then held at <paramref name="minimum"/>.</summary>
    /// <param name="initial">The initial rate; positive and finite.</param>
    /// <param name="totalSteps">Steps from <paramref name="initial"/> to <paramref name="minimum"/>; at least 1.</param>
    /// <param name="minimum">The final rate, in [0, <paramref name="initial"/>].</param>
    /// <returns>The schedule.</returns>
    public static LearningRateSchedule Cosine(float initial, long totalSteps, float minimum = 0) => new CosineSchedule(initial, totalSteps, minimum);
}

/// <summary>A constant learning rate.</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <summary>Creates a constant schedule.</summary>
    /// <param name="learningRate">The rate; positive and finite.</param>
    public ConstantSchedule(float learningRate)
        : base(learningRate)
    {
    }

    /// <inheritdoc/>
    protected override float Compute(int epoch, long step) => Initial;

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"constant {Initial}");
}

/// <summary>PyTorch's <c>StepLR</c>: <c>lr = initial · γ^⌊epoch / stepEpochs⌋</c>.</summary>
public sealed class StepDecaySchedule : LearningRateSchedule
{
    /// <summary>Creates a step decay schedule.</summary>
    /// <param name="initial">The initial rate; positive and finite.</param>
    /// <param name="stepEpochs">Epochs between decays; at least 1.</param>
    /// <param name="gamma">Decay factor in (0, 1].</param>
    public StepDecaySchedule(float initial, int stepEpochs, float gamma)
        : base(initial)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepEpochs, 1);
        if (!(gamma > 0 && gamma <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The decay factor must be in (0, 1].");
        }

        StepEpochs = stepEpochs;
        Gamma = gamma;
    }

    /// <summary>Epochs between decays.</summary>
    public int StepEpochs { get; }

    /// <summary>Decay factor γ.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    protected override float Compute(int epoch, long step)
    {
        // Clamped to the smallest positive float, so a long run never reports a zero rate (which Step rejects).
        double rate = Initial * Math.Pow(Gamma, epoch / StepEpochs);
        return Math.Max((float)rate, float.Epsilon);
    }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"step decay {Initial} × {Gamma} every {StepEpochs} epochs");
}

/// <summary>
/// PyTorch's <c>CosineAnnealingLR</c> closed form over optimizer steps:
/// <c>lr = min + (initial − min)·(1 + cos(π·t/T))/2</c> for <c>t ≤ T</c>; unlike PyTorch, which keeps cycling,
/// the rate stays at the minimum after <c>T</c> steps.
/// </summary>
public sealed class CosineSchedule : LearningRateSchedule
{
    /// <summary>Creates a cosine schedule.</summary>
    /// <param name="initial">The initial rate; positive and finite.</param>
    /// <param name="totalSteps">Steps T from <paramref name="initial"/> to <paramref name="minimum"/>; at least 1.</param>
    /// <param name="minimum">The final rate, in [0, <paramref name="initial"/>].</param>
    public CosineSchedule(float initial, long totalSteps, float minimum = 0)
        : base(initial)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        if (!(minimum >= 0 && minimum <= initial))
        {
            throw new ArgumentOutOfRangeException(nameof(minimum), minimum, $"The minimum learning rate must be in [0, {initial.ToString(System.Globalization.CultureInfo.InvariantCulture)}].");
        }

        TotalSteps = totalSteps;
        Minimum = minimum;
    }

    /// <summary>Steps T over which the rate anneals.</summary>
    public long TotalSteps { get; }

    /// <summary>The final rate.</summary>
    public float Minimum { get; }

    /// <inheritdoc/>
    protected override float Compute(int epoch, long step)
    {
        double t = Math.Min(step, TotalSteps);
        double rate = Minimum + (Initial - (double)Minimum) * (1 + Math.Cos(Math.PI * t / TotalSteps)) / 2;

        // A zero minimum would give a zero rate at the end, which Step rejects: clamp to the smallest positive float.
        return Math.Max((float)rate, float.Epsilon);
    }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"cosine {Initial} → {Minimum} over {TotalSteps} steps");
}
