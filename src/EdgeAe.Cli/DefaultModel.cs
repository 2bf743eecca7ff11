using EdgeAe;

namespace EdgeAe.Cli;

/// <summary>
/// The model `edgeae train` trains when no declaration is given: 64 pixels of an 8×8 digit →
/// 16 sigmoid code units → 64 sigmoid outputs, binary cross-entropy.
/// </summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1)]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class DigitsAe;
