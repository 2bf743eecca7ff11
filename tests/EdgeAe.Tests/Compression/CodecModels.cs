namespace EdgeAe.Tests.Models;

// Models of the rate–distortion figures (docs/BENCHMARKS.md, "Compression: rate–distortion"): the issue's
// Fashion-MNIST model (FashionAe, code 64) at code sizes 16 and 32, and a real-valued model for the Wisconsin
// breast-cancer features (30 standardised features, linear code: its range is learned from the training data).

/// <summary>Fashion-MNIST 784 → 16 → 784, sigmoid code and output.</summary>
[Autoencoder(Input = 784, Loss = Loss.BinaryCrossEntropy, Seed = 1, Initialization = Initialization.UniformFanIn)]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class FashionAe16;

/// <summary>Fashion-MNIST 784 → 32 → 784, sigmoid code and output.</summary>
[Autoencoder(Input = 784, Loss = Loss.BinaryCrossEntropy, Seed = 1, Initialization = Initialization.UniformFanIn)]
[Code(32, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class FashionAe32;

/// <summary>Breast-cancer features 30 → 24 → 8 (linear code) → 24 → 30, squared error.</summary>
[Autoencoder(Input = 30, Loss = Loss.SquaredError, Seed = 1, Initialization = Initialization.UniformFanIn)]
[Encoder(24, Activation.Tanh)]
[Code(8, Activation.Linear)]
[Decoder(24, Activation.Tanh)]
[Output(Activation.Linear)]
public partial class CancerAe;

/// <summary>The digits model with the packet codec declared: 8 bits per code value over the sigmoid's [0, 1].</summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, CodeBits = 8)]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class CodecDigitsAe;
