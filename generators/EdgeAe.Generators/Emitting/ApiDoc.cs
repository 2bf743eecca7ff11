using EdgeAe.Generators.Model;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// The documentation of the members both flavours generate (the same member, the same words): the desktop's span
/// API and the firmware's array API differ in types, not in what the members do.
/// </summary>
internal static class ApiDoc
{
    public const string SeededConstructor = "Creates the model with parameters initialised from <paramref name=\"seed\"/>.";

    public const string DeclaredSeedConstructor = "Creates the model with parameters initialised from <see cref=\"DeclaredSeed\"/>.";

    public const string Gradients = "Gradients accumulated by <see cref=\"AccumulateGradients\"/>, laid out like <see cref=\"Parameters\"/>.";

    public const string Encode = "Encodes <paramref name=\"input\"/> (<see cref=\"InputSize\"/> floats) into <paramref name=\"code\"/> (<see cref=\"CodeSize\"/> floats). Allocates nothing.";

    public const string Decode = "Decodes <paramref name=\"code\"/> (<see cref=\"CodeSize\"/> floats) into <paramref name=\"output\"/> (<see cref=\"InputSize\"/> floats). Allocates nothing.";

    public const string Evaluate = "Reconstructs <paramref name=\"input\"/> and returns the loss against <paramref name=\"target\"/> (for a denoising model: a corrupted input against the clean one). Allocates nothing.";

    public const string AccumulateGradients = "Runs <paramref name=\"input\"/> forward, back-propagates the loss against <paramref name=\"target\"/> and adds the gradient of every parameter to <see cref=\"Gradients\"/>. Returns the loss. Allocates nothing.";

    public const string ZeroGradients = "Sets every gradient to zero.";

    public const string TrainStep = "One step of plain stochastic gradient descent on one sample: forward, backprop, p −= learningRate·∂loss/∂p. Returns the loss before the step.";

    public const string TrainStepWithTarget = "One plain SGD step reconstructing <paramref name=\"target\"/> from <paramref name=\"input\"/> (denoising: corrupted input, clean target). Returns the loss before the step.";

    public static string Reconstruct(LossKind loss)
        => $"Encodes and decodes <paramref name=\"input\"/> into <paramref name=\"output\"/> and returns the loss of the reconstruction against the input: {Describe.Loss(loss)}. Allocates nothing.";
}
