using EdgeAe;

namespace VibrationAnomaly;

/// <summary>
/// 4 frames × 16 band energies → 32 tanh → 8 linear code → 32 tanh → 64 linear, squared error: the score is the
/// reconstruction's mean squared error per element (docs/anomaly.md).
/// </summary>
[Autoencoder(Input = 64, Loss = Loss.SquaredError, Seed = 1)]
[Encoder(32, Activation.Tanh)]
[Code(8, Activation.Linear)]
[Decoder(32, Activation.Tanh)]
[Output(Activation.Linear)]
public partial class VibrationAe;
