namespace EdgeAe.Training;

/// <summary>The optimizers <see cref="Optimizer.Create"/> builds.</summary>
public enum OptimizerKind
{
    /// <summary>Plain SGD (<see cref="Sgd"/>).</summary>
    Sgd,

    /// <summary>SGD with heavy-ball momentum (<see cref="Momentum"/>).</summary>
    Momentum,

    /// <summary>SGD with Nesterov momentum (<see cref="Momentum"/> with <c>nesterov: true</c>).</summary>
    Nesterov,

    /// <summary>Adam (<see cref="Adam"/>).</summary>
    Adam,
}

/// <summary>
/// Which optimizer to use and its hyper-parameters; the defaults are PyTorch's
/// (Adam: β1 0.9, β2 0.999, ε 1e-8; momentum 0.9 is the customary choice, PyTorch has no default).
/// Values are validated when the optimizer is created.
/// </summary>
public sealed record OptimizerOptions
{
    private static readonly string[] Names = ["sgd", "momentum", "nesterov", "adam"];

    /// <summary>The optimizer kind.</summary>
    public OptimizerKind Kind { get; init; } = OptimizerKind.Adam;

    /// <summary>Momentum factor μ for <see cref="OptimizerKind.Momentum"/> and <see cref="OptimizerKind.Nesterov"/>.</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>Adam's first moment decay β1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's second moment decay β2.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam's denominator term ε.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>L2 penalty λ (PyTorch's <c>weight_decay</c>) for every kind.</summary>
    public float WeightDecay { get; init; }

    /// <summary>The names <see cref="ParseKind"/> accepts, in <see cref="OptimizerKind"/> order.</summary>
    public static IReadOnlyList<string> KindNames => Names;

    /// <summary>The command-line name of <paramref name="kind"/> (<c>sgd</c>, <c>momentum</c>, <c>nesterov</c>, <c>adam</c>).</summary>
    /// <param name="kind">An optimizer kind.</param>
    /// <returns>The lower-case name.</returns>
    public static string KindName(OptimizerKind kind)
        => (uint)kind < (uint)Names.Length ? Names[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer kind.");

    /// <summary>Parses a command-line optimizer name, ignoring case and surrounding white space.</summary>
    /// <param name="name">One of <c>sgd</c>, <c>momentum</c>, <c>nesterov</c>, <c>adam</c>.</param>
    /// <returns>The kind.</returns>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static OptimizerKind ParseKind(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string trimmed = name.Trim();
        for (int i = 0; i < Names.Length; i++)
        {
            if (string.Equals(trimmed, Names[i], StringComparison.OrdinalIgnoreCase))
            {
                return (OptimizerKind)i;
            }
        }

        throw new ArgumentException($"Unknown optimizer '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name));
    }
}
