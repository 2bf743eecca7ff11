using EdgeAe;

namespace EdgeAe.Benchmarks;

/// <summary>M1: 784 → 64 → 784, sigmoid code and output, binary cross-entropy (Fashion-MNIST sized).</summary>
[Autoencoder(Input = 784, Loss = Loss.BinaryCrossEntropy, Seed = 1)]
[Code(64, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class M1Ae;

/// <summary>The digits model: 64 → 16 → 64, sigmoid, binary cross-entropy.</summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 2)]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class DigitsAe;

/// <summary>The MLPerf Tiny anomaly-detection autoencoder (without batch norm): ReLU hidden layers, linear output, squared error.</summary>
[Autoencoder(Input = 640, Loss = Loss.SquaredError, Seed = 3)]
[Encoder(128, Activation.Relu)]
[Encoder(128, Activation.Relu)]
[Encoder(128, Activation.Relu)]
[Encoder(128, Activation.Relu)]
[Code(8, Activation.Relu)]
[Decoder(128, Activation.Relu)]
[Decoder(128, Activation.Relu)]
[Decoder(128, Activation.Relu)]
[Decoder(128, Activation.Relu)]
[Output(Activation.Linear)]
public partial class MlperfAdAe;
