using EdgeAe;

// Models declared for the tests; the generator emits their code at build time.
namespace EdgeAe.Tests.Models;

/// <summary>The default model: 64 → 16 → 64, sigmoid code and output, binary cross-entropy.</summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1)]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class DigitsAe;

/// <summary>Over-complete: the code is wider than the input.</summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 2)]
[Code(128, Activation.Sigmoid)]
[Output(64, Activation.Sigmoid)]
public partial class OverCompleteAe;

/// <summary>Deep: several layers on each side, every activation.</summary>
[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, Seed = 3)]
[Encoder(6, Activation.Relu)]
[Encoder(5, Activation.Tanh)]
[Code(3, Activation.Sigmoid)]
[Decoder(5, Activation.Linear)]
[Decoder(6, Activation.Relu)]
[Output(Activation.Sigmoid)]
public partial class DeepBceAe;

/// <summary>Deep, real-valued: squared error with a linear output.</summary>
[Autoencoder(Input = 9, Loss = Loss.SquaredError, Seed = 4)]
[Encoder(7, Activation.Tanh)]
[Code(4, Activation.Linear)]
[Decoder(7, Activation.Relu)]
[Output(Activation.Linear)]
public partial class DeepSquaredErrorAe;

// One small model per hidden activation × loss (and per output activation for squared error).
[Autoencoder(Input = 6, Loss = Loss.BinaryCrossEntropy, Seed = 10)]
[Code(4, Activation.Linear)]
[Output(Activation.Sigmoid)]
public partial class BceLinearCode;

[Autoencoder(Input = 6, Loss = Loss.BinaryCrossEntropy, Seed = 11)]
[Code(4, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class BceSigmoidCode;

[Autoencoder(Input = 6, Loss = Loss.BinaryCrossEntropy, Seed = 12)]
[Code(4, Activation.Tanh)]
[Output(Activation.Sigmoid)]
public partial class BceTanhCode;

[Autoencoder(Input = 6, Loss = Loss.BinaryCrossEntropy, Seed = 13)]
[Code(4, Activation.Relu)]
[Output(Activation.Sigmoid)]
public partial class BceReluCode;

[Autoencoder(Input = 6, Loss = Loss.SquaredError, Seed = 14)]
[Code(4, Activation.Tanh)]
[Output(Activation.Linear)]
public partial class SquaredErrorLinearOutput;

[Autoencoder(Input = 6, Loss = Loss.SquaredError, Seed = 15)]
[Code(4, Activation.Relu)]
[Output(Activation.Sigmoid)]
public partial class SquaredErrorSigmoidOutput;

[Autoencoder(Input = 6, Loss = Loss.SquaredError, Seed = 16)]
[Code(4, Activation.Sigmoid)]
[Output(Activation.Tanh)]
public partial class SquaredErrorTanhOutput;

[Autoencoder(Input = 6, Loss = Loss.SquaredError, Seed = 17)]
[Code(4, Activation.Linear)]
[Output(Activation.Relu)]
public partial class SquaredErrorReluOutput;

/// <summary>Deep with tied weights: each decoder layer uses its mirror encoder layer's W transposed.</summary>
[Autoencoder(Input = 8, Loss = Loss.BinaryCrossEntropy, Seed = 20, TiedWeights = true)]
[Encoder(6, Activation.Tanh)]
[Code(4, Activation.Sigmoid)]
[Decoder(6, Activation.Relu)]
[Output(Activation.Sigmoid)]
public partial class TiedDeepAe;

/// <summary>Shallow tied squared-error model, small batches only.</summary>
[Autoencoder(Input = 5, Loss = Loss.SquaredError, Seed = 21, TiedWeights = true, MaxBatch = 4)]
[Code(3, Activation.Tanh)]
[Output(Activation.Linear)]
public partial class TiedSquaredErrorAe;

/// <summary>TiedDeepAe's topology without tying, to check that weight files tell them apart.</summary>
[Autoencoder(Input = 8, Loss = Loss.BinaryCrossEntropy, Seed = 20)]
[Encoder(6, Activation.Tanh)]
[Code(4, Activation.Sigmoid)]
[Decoder(6, Activation.Relu)]
[Output(Activation.Sigmoid)]
public partial class UntiedTwinAe;

/// <summary>
/// The Fashion-MNIST model: 784 → 64 → 784, sigmoid code and output, binary cross-entropy,
/// initialised like the PyTorch reference (uniform ±1/√fan_in for weights and biases).
/// </summary>
[Autoencoder(Input = 784, Loss = Loss.BinaryCrossEntropy, Seed = 1, Initialization = Initialization.UniformFanIn)]
[Code(64, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class FashionAe;

/// <summary>
/// The deep squared-error model for int8 quality: 784 → 128 → 32 → 128 → 784, ReLU hidden layers, linear
/// code and output, on standardised Fashion-MNIST.
/// </summary>
[Autoencoder(Input = 784, Loss = Loss.SquaredError, Seed = 1, Initialization = Initialization.UniformFanIn)]
[Encoder(128, Activation.Relu)]
[Code(32, Activation.Linear)]
[Decoder(128, Activation.Relu)]
[Output(Activation.Linear)]
public partial class FashionDeepAe;

/// <summary>Deep with PyTorch-style initialisation, to check that option.</summary>
[Autoencoder(Input = 8, Loss = Loss.SquaredError, Seed = 30, TiedWeights = true, Initialization = Initialization.UniformFanIn)]
[Encoder(6, Activation.Relu)]
[Code(3, Activation.Tanh)]
[Decoder(6, Activation.Relu)]
[Output(Activation.Linear)]
public partial class FanInTiedAe;
/// Tails: layer widths 1–16 and 31, so every product meets every remainder of a 16-, 8- and 4-lane
/// vector (full vectors, then one 8, one 4, then scalars), as outputs, inputs and batch rows.
/// </summary>
[Autoencoder(Input = 31, Loss = Loss.SquaredError, Seed = 30, MaxBatch = 16)]
[Encoder(15, Activation.Tanh)]
[Encoder(14, Activation.Relu)]
[Encoder(13, Activation.Sigmoid)]
[Encoder(12, Activation.Linear)]
[Encoder(11, Activation.Tanh)]
[Encoder(10, Activation.Relu)]
[Encoder(9, Activation.Sigmoid)]
[Encoder(8, Activation.Tanh)]
[Code(1, Activation.Linear)]
[Decoder(2, Activation.Tanh)]
[Decoder(3, Activation.Relu)]
[Decoder(4, Activation.Sigmoid)]
[Decoder(5, Activation.Tanh)]
[Decoder(6, Activation.Linear)]
[Decoder(7, Activation.Tanh)]
[Decoder(16, Activation.Sigmoid)]
[Output(Activation.Linear)]
public partial class TailsAe;

/// <summary>Wide: 256 (sixteen full 16-lane vectors), 255, 129, 17, 48 and 250 units.</summary>
[Autoencoder(Input = 256, Loss = Loss.BinaryCrossEntropy, Seed = 31, MaxBatch = 19)]
[Encoder(255, Activation.Tanh)]
[Encoder(129, Activation.Relu)]
[Code(17, Activation.Sigmoid)]
[Decoder(48, Activation.Relu)]
[Decoder(250, Activation.Tanh)]
[Output(Activation.Sigmoid)]
public partial class WideAe;

/// <summary>Tied with tails: 33 → 20 → 7 → 20 → 33.</summary>
[Autoencoder(Input = 33, Loss = Loss.SquaredError, Seed = 32, TiedWeights = true, MaxBatch = 13)]
[Encoder(20, Activation.Sigmoid)]
[Code(7, Activation.Tanh)]
[Decoder(20, Activation.Relu)]
[Output(Activation.Linear)]
public partial class TiedTailsAe;

/// <summary>
/// The one-class anomaly recipe for 28×28 images (docs/anomaly.md): 784 → 128 tanh → 32 linear code → 128 tanh → 784
/// linear, squared error (the score is then the reconstruction MSE, like PCA's residual).
/// </summary>
[Autoencoder(Input = 784, Loss = Loss.SquaredError, Seed = 1, MaxBatch = 64)]
[Encoder(128, Activation.Tanh)]
[Code(32, Activation.Linear)]
[Decoder(128, Activation.Tanh)]
[Output(Activation.Linear)]
public partial class OneClassImageAe;

/// <summary>The same recipe for the 8×8 digits: 64 → 32 tanh → 8 linear code → 32 tanh → 64 linear, squared error.</summary>
[Autoencoder(Input = 64, Loss = Loss.SquaredError, Seed = 1, MaxBatch = 64)]
[Encoder(32, Activation.Tanh)]
[Code(8, Activation.Linear)]
[Decoder(32, Activation.Tanh)]
[Output(Activation.Linear)]
public partial class OneClassDigitsAe;
