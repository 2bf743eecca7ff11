namespace EdgeAe.Cli.Tests;

internal static class Declarations
{
    /// <summary>A topology the built-in DigitsAe does not use: 64→32 relu→12 sigmoid→32 relu→64 sigmoid.</summary>
    public const string Denoising = """
        namespace Demo;

        [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 3)]
        [Encoder(32, Activation.Relu)]
        [Code(12, Activation.Sigmoid)]
        [Decoder(32, Activation.Relu)]
        [Output(Activation.Sigmoid)]
        public partial class DenoisingAe;
        """;

    /// <summary>Real-valued sensor data: 12 → 8 tanh → 3 linear → 8 tanh → 12 linear, squared error.</summary>
    public const string Sensor = """
        namespace Demo;

        [Autoencoder(Input = 12, Loss = Loss.SquaredError, Seed = 5)]
        [Encoder(8, Activation.Tanh)]
        [Code(3, Activation.Linear)]
        [Decoder(8, Activation.Tanh)]
        [Output(Activation.Linear)]
        public partial class SensorAe;
        """;

    /// <summary>Line 5: an output wider than the input (EAE); line 6: a C# type error (CS0029).</summary>
    public const string Broken = """
        namespace Demo;

        [Autoencoder(Input = 64)]
        [Code(12, Activation.Sigmoid)]
        [Output(10, Activation.Sigmoid)]
        public partial class BadAe { int x = "text"; }
        """;

    public const string Two = """
        [Autoencoder(Input = 4)]
        [Code(2, Activation.Sigmoid)]
        [Output(Activation.Sigmoid)]
        public partial class First;

        [Autoencoder(Input = 4)]
        [Code(2, Activation.Sigmoid)]
        [Output(Activation.Sigmoid)]
        public partial class Second;
        """;
}
