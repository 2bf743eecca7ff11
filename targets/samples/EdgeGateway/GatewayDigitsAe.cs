using EdgeAe;

namespace EdgeGateway;

/// <summary>
/// The built-in model of <c>edgeae train</c> (64 → 16 sigmoid → 64 sigmoid, binary cross-entropy) with the trained
/// parameters of <c>digits.eaw</c> baked in and an 8-bit packet codec over the sigmoid code's [0, 1].
/// </summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, CodeBits = 8, Weights = "digits.eaw")]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class GatewayDigitsAe;
