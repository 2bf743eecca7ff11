using System;
using EdgeAe.Generators.Helpers;

namespace EdgeAe.Generators.Model;

/// <summary>
/// One dense layer: <c>Width</c> outputs from <c>InputWidth</c> inputs, then an activation.
/// <c>TiedTo</c> is the index of the encoder layer whose weights this decoder layer uses transposed, or −1.
/// </summary>
internal sealed record LayerSpec(int Index, LayerRole Role, int InputWidth, int Width, ActivationKind Activation, int TiedTo = -1)
{
    public bool IsTied => TiedTo >= 0;
}

/// <summary>
/// The validated description of one declared autoencoder. Only strings, numbers, enums and
/// equatable arrays: never a symbol, syntax node or location, so the pipeline can cache it.
/// </summary>
/// <remarks>
/// <see cref="Namespace"/> and <see cref="TypeName"/> are plain names, without the <c>@</c> of a keyword.
/// <see cref="TakenNames"/> are the short names of <see cref="ShortNames"/> that the model's namespace or the model
/// declares (the generated file writes those qualified), in ordinal order.
/// </remarks>
internal sealed record TopologySpec(
    string Namespace,
    string TypeName,
    int InputSize,
    LossKind Loss,
    int Seed,
    bool TiedWeights,
    int MaxBatchSize,
    EquatableArray<LayerSpec> Layers,
    string? Weights = null,
    bool OnDeviceTraining = false,
    InitializationKind Initialization = InitializationKind.GlorotHe,
    int CodeBits = 0,
    EquatableArray<string> TakenNames = default)
{
    /// <summary>True when the declaration asks for the packet codec (<c>CodeBits = 8</c> or <c>16</c>).</summary>
    public bool HasCodec => CodeBits != 0;

    /// <summary>True when the declaration names a weight file to bake (<c>[Autoencoder(Weights = "…")]</c>).</summary>
    public bool BakesWeights => Weights is not null;

    /// <summary>Index of the code layer among <see cref="Layers"/>.</summary>
    public int CodeLayerIndex
    {
        get
        {
            for (int i = 0; i < Layers.Count; i++)
            {
                if (Layers[i].Role == LayerRole.Code)
                {
                    return i;
                }
            }

            throw new InvalidOperationException("A validated topology always has a code layer.");
        }
    }

    public int CodeSize => Layers[CodeLayerIndex].Width;

    /// <summary>Fully qualified name for messages and hint names, e.g. <c>Demo.DigitsAe</c>.</summary>
    public string FullName => Namespace.Length == 0 ? TypeName : Namespace + "." + TypeName;
}
