using EdgeAe;

namespace EdgeAe.Fleet.Tests;

/// <summary>The README's 64→16→64 digits model with an 8-bit packet codec (sigmoid code: a known range).</summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, CodeBits = 8)]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class FleetDigitsAe;

/// <summary>The load run's 784→64→784 Fashion-MNIST model (the throughput case), 8-bit packets.</summary>
[Autoencoder(Input = 784, Loss = Loss.BinaryCrossEntropy, Seed = 3, CodeBits = 8)]
[Code(64, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class FleetFashionAe;
