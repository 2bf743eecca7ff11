using EdgeAe;

// Models whose trained parameters are baked into the generated code from committed weight files
// (tests/EdgeAe.Tests/Assets, listed as AdditionalFiles), each next to an unbaked twin of the same topology.
namespace EdgeAe.Tests.Models;

/// <summary>Unbaked twin of <c>BakedDeepAe</c>: deep, untied, every hidden activation.</summary>
[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, Seed = 40)]
[Encoder(6, Activation.Relu)]
[Code(3, Activation.Tanh)]
[Decoder(5, Activation.Linear)]
[Output(Activation.Sigmoid)]
public partial class BakedDeepTwin;

/// <summary>Unbaked twin of <c>BakedTiedAe</c>: tied weights, so one W serves two layers.</summary>
[Autoencoder(Input = 6, Loss = Loss.SquaredError, Seed = 41, TiedWeights = true)]
[Encoder(5, Activation.Tanh)]
[Code(3, Activation.Sigmoid)]
[Decoder(5, Activation.Relu)]
[Output(Activation.Linear)]
public partial class BakedTiedTwin;

/// <summary><c>BakedDeepTwin</c> with the parameters of Assets/baked-deep.eaw baked in.</summary>
[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, Seed = 40, Weights = "baked-deep.eaw")]
[Encoder(6, Activation.Relu)]
[Code(3, Activation.Tanh)]
[Decoder(5, Activation.Linear)]
[Output(Activation.Sigmoid)]
public partial class BakedDeepAe;

/// <summary><c>BakedTiedTwin</c> with the parameters of Assets/baked-tied.eaw baked in (named by path suffix).</summary>
[Autoencoder(Input = 6, Loss = Loss.SquaredError, Seed = 41, TiedWeights = true, Weights = "Assets/baked-tied.eaw")]
[Encoder(5, Activation.Tanh)]
[Code(3, Activation.Sigmoid)]
[Decoder(5, Activation.Relu)]
[Output(Activation.Linear)]
public partial class BakedTiedAe;
