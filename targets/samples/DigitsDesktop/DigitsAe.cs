using EdgeAe;

namespace DigitsDesktop;

/// <summary>
/// The built-in model of <c>edgeae train</c> (src/EdgeAe.Cli/DefaultModel.cs: 64 → 16 sigmoid → 64
/// sigmoid, binary cross-entropy) with the trained parameters of <c>digits.eaw</c> baked in.
/// </summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, Weights = "digits.eaw")]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class DigitsAe;
