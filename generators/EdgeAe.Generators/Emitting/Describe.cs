using EdgeAe.Generators.Model;

namespace EdgeAe.Generators.Emitting;

/// <summary>Words used in generated comments.</summary>
internal static class Describe
{
    public static string Role(LayerRole role) => role switch
    {
        LayerRole.Encoder => "encoder",
        LayerRole.Code => "code",
        LayerRole.Decoder => "decoder",
        _ => "output",
    };

    public static string Loss(LossKind loss) => loss == LossKind.BinaryCrossEntropy
        ? "binary cross-entropy, summed over elements"
        : "squared error ½Σ(x̂ − x)²";
}
