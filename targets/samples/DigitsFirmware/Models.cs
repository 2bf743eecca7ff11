using EdgeAe;

namespace DigitsFirmware
{
    /// <summary>The digits model of <c>edgeae train</c> with the trained parameters of <c>digits.eaw</c> baked in (inference only).</summary>
    [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, Weights = "digits.eaw")]
    [Code(16, Activation.Sigmoid)]
    [Output(Activation.Sigmoid)]
    public partial class DigitsAe
    {
    }

    /// <summary>The same topology without baked weights: parameters from the seed, trainable on the device.</summary>
    [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1, OnDeviceTraining = true)]
    [Code(16, Activation.Sigmoid)]
    [Output(Activation.Sigmoid)]
    public partial class UntrainedDigitsAe
    {
    }
}
