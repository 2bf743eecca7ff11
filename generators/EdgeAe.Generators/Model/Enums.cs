namespace EdgeAe.Generators.Model;

// These mirror the enums emitted into user code (AttributeSources) value for value;
// the parser reads the attribute's raw integer and maps it through these.

/// <summary>Activation function of a dense layer.</summary>
internal enum ActivationKind
{
    Linear = 0,
    Sigmoid = 1,
    Tanh = 2,
    Relu = 3,
}

/// <summary>Reconstruction loss minimised by training.</summary>
internal enum LossKind
{
    BinaryCrossEntropy = 0,
    SquaredError = 1,
}

/// <summary>Where a layer sits in the autoencoder.</summary>
internal enum LayerRole
{
    Encoder = 0,
    Code = 1,
    Decoder = 2,
    Output = 3,
}

/// <summary>How parameters are initialised from the seed.</summary>
internal enum InitializationKind
{
    GlorotHe = 0,
    UniformFanIn = 1,
}

/// <summary>Which flavour of code to emit.</summary>
internal enum TargetFlavor
{
    Desktop = 0,
    NanoFramework = 1,
}
