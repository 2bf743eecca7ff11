using System.Globalization;
using System.Text;

namespace EdgeAe.Onnx.Tests;

/// <summary>One declaration of the round-trip matrix.</summary>
/// <param name="Name">The class name.</param>
/// <param name="Activation">The activation of every hidden and code layer (and of the output under squared error).</param>
/// <param name="Loss">The loss (binary cross-entropy: a Sigmoid output).</param>
/// <param name="Depth">Dense layers: 2 (code, output) or 4 (encoder, code, decoder, output).</param>
/// <param name="Tied">Tied weights.</param>
public sealed record MatrixCase(string Name, string Activation, string Loss, int Depth, bool Tied)
{
    public override string ToString() => Name;

    /// <summary>The declaration: widths 16 → 8 → 4 → 8 → 16 (non-square matrices, so a transposition error cannot hide).</summary>
    public string Declaration()
    {
        string output = Loss == "BinaryCrossEntropy" ? "Sigmoid" : Activation;
        var s = new StringBuilder("using EdgeAe;\nnamespace RoundTrip;\n");
        s.Append(CultureInfo.InvariantCulture, $"[Autoencoder(Input = 16, Loss = Loss.{Loss}, Seed = 3{(Tied ? ", TiedWeights = true" : "")}, MaxBatch = 8)]\n");
        if (Depth == 4)
        {
            s.Append(CultureInfo.InvariantCulture, $"[Encoder(8, Activation.{Activation})]\n");
        }

        s.Append(CultureInfo.InvariantCulture, $"[Code(4, Activation.{Activation})]\n");
        if (Depth == 4)
        {
            s.Append(CultureInfo.InvariantCulture, $"[Decoder(8, Activation.{Activation})]\n");
        }

        s.Append(CultureInfo.InvariantCulture, $"[Output(Activation.{output})]\npublic partial class {Name};\n");
        return s.ToString();
    }
}

/// <summary>Every activation × loss × depth × tied/untied declaration (32), all compiled in one in-memory compilation.</summary>
public static class Matrix
{
    public static readonly string[] Activations = ["Linear", "Sigmoid", "Tanh", "Relu"];

    public static IReadOnlyList<MatrixCase> Cases { get; } =
        (from a in Activations
         from loss in new[] { "BinaryCrossEntropy", "SquaredError" }
         from depth in new[] { 2, 4 }
         from tied in new[] { false, true }
         select new MatrixCase($"{a}{(loss == "SquaredError" ? "Se" : "Bce")}{depth}{(tied ? "Tied" : "")}", a, loss, depth, tied)).ToArray();
}
