namespace EdgeAe.Training;

/// <summary>
/// Updates a model's contiguous parameter buffer from its gradient buffer
/// (<see cref="IAutoencoder.Parameters"/> and <see cref="IAutoencoder.Gradients"/>).
/// Implementations follow PyTorch's <c>torch.optim</c> update rules exactly, so runs compare with PyTorch.
/// All state is allocated once at construction (sized by the parameter count); <see cref="Step"/> allocates nothing.
/// </summary>
/// <remarks>
/// Weight decay is PyTorch's <c>weight_decay</c> (coupled L2): every step uses <c>g + λ·p</c> in place of
/// <c>g</c>, computed on the fly; the gradient span is never modified. Zero padding in the parameter buffer
/// stays zero, since both its parameters and its gradients are zero. An instance is not thread-safe.
/// </remarks>
public abstract class Optimizer
{
    /// <summary>Creates an optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient buffers.</param>
    /// <param name="weightDecay">L2 penalty λ (PyTorch's <c>weight_decay</c>); non-negative and finite.</param>
    protected Optimizer(int parameterCount, float weightDecay)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        Guard.NonNegativeFinite(weightDecay, nameof(weightDecay), "weight decay");
        ParameterCount = parameterCount;
        WeightDecay = weightDecay;
    }

    /// <summary>Length of the parameter and gradient buffers this optimizer updates.</summary>
    public int ParameterCount { get; }

    /// <summary>L2 penalty λ added to the gradient as <c>g + λ·p</c> (PyTorch's <c>weight_decay</c>).</summary>
    public float WeightDecay { get; }

    /// <summary>Number of steps taken since construction or the last <see cref="Reset"/>.</summary>
    public int StepCount { get; private set; }

    /// <summary>
    /// Applies one update to <paramref name="parameters"/> from <paramref name="gradients"/>.
    /// </summary>
    /// <param name="parameters">The parameter buffer, updated in place.</param>
    /// <param name="gradients">The gradient buffer, laid out like <paramref name="parameters"/>; not modified.</param>
    /// <param name="learningRate">Step size; positive and finite.</param>
    /// <exception cref="ArgumentException">A span does not hold <see cref="ParameterCount"/> elements.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not positive and finite.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate)
    {
        Guard.Length(parameters.Length, ParameterCount, nameof(parameters));
        Guard.Length(gradients.Length, ParameterCount, nameof(gradients));
        Guard.PositiveFinite(learningRate, nameof(learningRate), "learning rate");
        StepCount++;
        Update(parameters, gradients, learningRate, StepCount);
    }

    /// <summary>Whether <see cref="UpdateSlice"/> updates a part of the buffers (every optimizer here; a subclass elsewhere does not).</summary>
    internal virtual bool Sliceable => false;

    /// <summary>
    /// Starts a step the data-parallel trainer applies slice by slice with <see cref="UpdateSlice"/> (threads on
    /// disjoint slices): validates the learning rate, counts the step and returns its 1-based index.
    /// </summary>
    internal int BeginSlicedStep(float learningRate)
    {
        Guard.PositiveFinite(learningRate, nameof(learningRate), "learning rate");
        return ++StepCount;
    }

    /// <summary>
    /// The update of step <paramref name="step"/> on the slice at <paramref name="offset"/> of the buffers: every element
    /// gets the float <see cref="Step"/> would give it (the rules are element-wise).
    /// </summary>
    internal virtual void UpdateSlice(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step, int offset)
        => throw new NotSupportedException($"{GetType().Name} cannot update a slice of the parameters.");

    /// <summary>
    /// <see cref="UpdateSlice"/>, having copied the slice's parameters to <paramref name="saveTo"/> when it is not empty
    /// (the trainer's last good parameters); returns whether every updated parameter is finite. Here a copy before and a
    /// scan after; <see cref="Adam"/> does both inside its update's one pass.
    /// </summary>
    internal virtual bool UpdateSliceChecked(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step, int offset, Span<float> saveTo)
    {
        if (!saveTo.IsEmpty)
        {
            parameters.CopyTo(saveTo);
        }

        UpdateSlice(parameters, gradients, learningRate, step, offset);
        return DataParallelStep.FirstNonFinite(parameters, 0) < 0;
    }

    /// <summary>Clears all state (momentum buffers, moment estimates) and the step count.</summary>
    public void Reset()
    {
        StepCount = 0;
        ResetState();
    }

    /// <summary>The update rule; <paramref name="step"/> is 1 on the first step. Arguments are already validated.</summary>
    /// <param name="parameters">The parameter buffer, updated in place.</param>
    /// <param name="gradients">The gradient buffer; must not be modified.</param>
    /// <param name="learningRate">Step size, positive and finite.</param>
    /// <param name="step">The 1-based index of this step since construction or the last reset.</param>
    protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step);

    /// <summary>Clears the implementation's state; the base class resets <see cref="StepCount"/>.</summary>
    protected abstract void ResetState();

    /// <summary>Creates the optimizer <paramref name="options"/> describe for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="options">Kind and hyper-parameters.</param>
    /// <param name="parameterCount">Length of the parameter and gradient buffers.</param>
    /// <returns>A new optimizer with fresh state.</returns>
    public static Optimizer Create(OptimizerOptions options, int parameterCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Kind switch
        {
            OptimizerKind.Sgd => new Sgd(parameterCount, options.WeightDecay),
            OptimizerKind.Momentum => new Momentum(parameterCount, options.Momentum, nesterov: false, options.WeightDecay),
            OptimizerKind.Nesterov => new Momentum(parameterCount, options.Momentum, nesterov: true, options.WeightDecay),
            OptimizerKind.Adam => new Adam(parameterCount, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "Unknown optimizer kind."),
        };
    }
}

/// <summary>
/// Plain stochastic gradient descent, PyTorch's <c>SGD(momentum=0)</c>: <c>p ← p − lr·(g + λ·p)</c>.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>Creates plain SGD for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient buffers.</param>
    /// <param name="weightDecay">L2 penalty λ (PyTorch's <c>weight_decay</c>); non-negative and finite.</param>
    public Sgd(int parameterCount, float weightDecay = 0)
        : base(parameterCount, weightDecay)
    {
    }

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step)
    {
        float decay = WeightDecay;
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i] + decay * parameters[i];
            parameters[i] -= learningRate * g;
        }
    }

    /// <inheritdoc/>
    internal override bool Sliceable => true;

    /// <inheritdoc/>
    internal override void UpdateSlice(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step, int offset)
        => Update(parameters, gradients, learningRate, step);

    /// <inheritdoc/>
    protected override void ResetState()
    {
    }
}

/// <summary>
/// SGD with heavy-ball or Nesterov momentum, following PyTorch's <c>SGD(momentum=μ, dampening=0, nesterov=…)</c>:
/// <c>buf ← μ·buf + g</c> (the first step sets <c>buf ← g</c>), then <c>p ← p − lr·buf</c>,
/// or with Nesterov <c>p ← p − lr·(g + μ·buf)</c>; <c>g</c> includes the weight decay term <c>λ·p</c>.
/// </summary>
public sealed class Momentum : Optimizer
{
    private readonly float[] _buffer;

    /// <summary>Creates momentum SGD for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient buffers.</param>
    /// <param name="momentum">Momentum factor μ in [0, 1); Nesterov needs μ &gt; 0 (as in PyTorch).</param>
    /// <param name="nesterov">Whether to use Nesterov momentum.</param>
    /// <param name="weightDecay">L2 penalty λ (PyTorch's <c>weight_decay</c>); non-negative and finite.</param>
    public Momentum(int parameterCount, float momentum = 0.9f, bool nesterov = false, float weightDecay = 0)
        : base(parameterCount, weightDecay)
    {
        Guard.UnitInterval(momentum, nameof(momentum), "momentum");
        if (nesterov && momentum == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Nesterov momentum requires a momentum greater than zero.");
        }

        MomentumFactor = momentum;
        Nesterov = nesterov;
        _buffer = new float[parameterCount];
    }

    /// <summary>The momentum factor μ.</summary>
    public float MomentumFactor { get; }

    /// <summary>Whether the Nesterov variant is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step)
        => UpdateSlice(parameters, gradients, learningRate, step, 0);

    /// <inheritdoc/>
    internal override bool Sliceable => true;

    /// <inheritdoc/>
    internal override void UpdateSlice(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step, int offset)
    {
        float mu = MomentumFactor;
        float decay = WeightDecay;
        Span<float> buffer = _buffer.AsSpan(offset, parameters.Length);
        bool first = step == 1;
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i] + decay * parameters[i];

            // PyTorch: the buffer starts as a copy of the first gradient, not μ·0 + g (identical here, as dampening is 0).
            float b = first ? g : mu * buffer[i] + g;
            buffer[i] = b;
            parameters[i] -= learningRate * (Nesterov ? g + mu * b : b);
        }
    }

    /// <inheritdoc/>
    protected override void ResetState() => Array.Clear(_buffer);
}

/// <summary>
/// Adam (Kingma &amp; Ba), following PyTorch's <c>Adam(amsgrad=False)</c>:
/// <c>m ← β1·m + (1−β1)·g</c>, <c>v ← β2·v + (1−β2)·g²</c>,
/// <c>p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)</c>, with <c>g</c> including the weight decay term <c>λ·p</c>
/// (coupled L2 as in <c>Adam</c>, not the decoupled <c>AdamW</c>).
/// </summary>
public sealed class Adam : Optimizer
{
    // 64-byte aligned like the model's parameter and gradient buffers, so the vector pass never splits a cache line.
    private readonly AlignedBuffer _m;
    private readonly AlignedBuffer _v;

    /// <summary>Creates Adam for <paramref name="parameterCount"/> parameters; the defaults are PyTorch's.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient buffers.</param>
    /// <param name="beta1">Decay of the first moment estimate, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment estimate, in [0, 1).</param>
    /// <param name="epsilon">Term added to the denominator; positive and finite.</param>
    /// <param name="weightDecay">L2 penalty λ (PyTorch's <c>weight_decay</c>); non-negative and finite.</param>
    public Adam(int parameterCount, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0)
        : base(parameterCount, weightDecay)
    {
        Guard.UnitInterval(beta1, nameof(beta1), "first moment decay β1");
        Guard.UnitInterval(beta2, nameof(beta2), "second moment decay β2");
        Guard.PositiveFinite(epsilon, nameof(epsilon), "epsilon");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _m = new AlignedBuffer(parameterCount);
        _v = new AlignedBuffer(parameterCount);
    }

    /// <summary>Decay of the first moment estimate β1.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment estimate β2.</summary>
    public float Beta2 { get; }

    /// <summary>Term ε added to the denominator.</summary>
    public float Epsilon { get; }

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step)
        => UpdateSlice(parameters, gradients, learningRate, step, 0);

    /// <inheritdoc/>
    internal override bool Sliceable => true;

    /// <inheritdoc/>
    internal override void UpdateSlice(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step, int offset)
        => UpdateSliceChecked(parameters, gradients, learningRate, step, offset, default);

    /// <inheritdoc/>
    internal override bool UpdateSliceChecked(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int step, int offset, Span<float> saveTo)
    {
        // Bias corrections in double, arranged as PyTorch's single-tensor implementation:
        // step_size = lr / (1 − β1ᵗ); denom = √v / √(1 − β2ᵗ) + ε; p −= step_size · m / denom.
        double biasCorrection1 = 1 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, step);
        float stepSize = (float)(learningRate / biasCorrection1);
        float biasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2);

        // One pass, vectorised at the machine's widest width, with the scalar loop's operations in the same order (no
        // fused multiply-add): every element gets exactly the float the scalar loop would give it. The copy to saveTo and
        // the finiteness check ride in the same pass.
        return Kernels.AdamKernel.Update(
            parameters,
            gradients,
            _m.Span.Slice(offset, parameters.Length),
            _v.Span.Slice(offset, parameters.Length),
            new Kernels.AdamStep(Beta1, Beta2, Epsilon, WeightDecay, stepSize, biasCorrection2Sqrt),
            saveTo);
    }

    /// <inheritdoc/>
    protected override void ResetState()
    {
        _m.Span.Clear();
        _v.Span.Clear();
    }
}
