using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators;

/// <summary>
/// Every diagnostic the EdgeAe generator reports. IDs are stable and never reused;
/// the catalogue with examples is docs/diagnostics.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "EdgeAe";

    public static readonly DiagnosticDescriptor InputSizeNotPositive = new(
        id: "EAE0001",
        title: "Input width must be positive",
        messageFormat: "[Autoencoder] Input must be a positive width; found {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor LayerWidthNotPositive = new(
        id: "EAE0002",
        title: "Layer width must be positive",
        messageFormat: "[{0}] width must be positive; found {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MissingCodeLayer = new(
        id: "EAE0003",
        title: "Missing code layer",
        messageFormat: "'{0}' declares no [Code] layer; an autoencoder needs exactly one [Code(width, activation)]",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MissingOutputLayer = new(
        id: "EAE0004",
        title: "Missing output layer",
        messageFormat: "'{0}' declares no [Output] layer; add [Output(activation)] after the decoder layers",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor OutputWidthMismatch = new(
        id: "EAE0005",
        title: "Output width differs from input width",
        messageFormat: "[Output] width is {0} but [Autoencoder] Input is {1}; an autoencoder reconstructs its input, so both must be equal",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BinaryCrossEntropyNeedsSigmoid = new(
        id: "EAE0006",
        title: "Binary cross-entropy needs a sigmoid output",
        messageFormat: "Loss.BinaryCrossEntropy needs [Output(Activation.Sigmoid)]; found Activation.{0} (use Loss.SquaredError for other outputs)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TypeNotPartial = new(
        id: "EAE0007",
        title: "Autoencoder type must be partial",
        messageFormat: "'{0}' must be declared partial so that EdgeAe can generate its members",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NestedTypeNotSupported = new(
        id: "EAE0008",
        title: "Nested autoencoder types are not supported",
        messageFormat: "'{0}' is nested in '{1}'; declare the autoencoder as a top-level type in a namespace",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericTypeNotSupported = new(
        id: "EAE0009",
        title: "Generic autoencoder types are not supported",
        messageFormat: "'{0}' is generic; an autoencoder type must not have type parameters",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownActivation = new(
        id: "EAE0010",
        title: "Unknown activation",
        messageFormat: "[{0}] activation value {1} is not a member of EdgeAe.Activation (Linear, Sigmoid, Tanh, Relu)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownLoss = new(
        id: "EAE0011",
        title: "Unknown loss",
        messageFormat: "[Autoencoder] Loss value {0} is not a member of EdgeAe.Loss (BinaryCrossEntropy, SquaredError)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ModelTooLarge = new(
        id: "EAE0012",
        title: "Model too large",
        messageFormat: "'{0}' needs {1} parameters and {2}; EdgeAe supports at most {3} of each per model",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedTypeKind = new(
        id: "EAE0013",
        title: "Unsupported autoencoder type",
        messageFormat: "'{0}' is {1}; an autoencoder must be a class that is not static, abstract, file-local or a record",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor LayerWithoutAutoencoder = new(
        id: "EAE0014",
        title: "Layer attribute without [Autoencoder]",
        messageFormat: "'{0}' has [{1}] but no [Autoencoder] attribute, so no model is generated; add [Autoencoder(Input = …)]",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TiedWeightsNeedMirroredDecoder = new(
        id: "EAE0015",
        title: "Tied weights need a mirrored decoder",
        messageFormat: "TiedWeights = true needs the decoder to mirror the encoder: {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MaxBatchNotPositive = new(
        id: "EAE0016",
        title: "Maximum batch size must be positive",
        messageFormat: "[Autoencoder] MaxBatch must be between 1 and {1}; found {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightFileNotFound = new(
        id: "EAE0017",
        title: "Weight file not found",
        messageFormat: "[Autoencoder] Weights = \"{0}\": no AdditionalFiles item is named '{0}'; add <AdditionalFiles Include=\"{0}\" /> to the project file",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightFileUnreadable = new(
        id: "EAE0018",
        title: "Weight file unreadable or corrupted",
        messageFormat: "[Autoencoder] Weights = \"{0}\": cannot read '{1}': {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightFileTopologyMismatch = new(
        id: "EAE0019",
        title: "Weight file saved for a different model",
        messageFormat: "[Autoencoder] Weights = \"{0}\": the file was saved for a different model than '{1}'; {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightFileAmbiguous = new(
        id: "EAE0020",
        title: "Weight file name is ambiguous",
        messageFormat: "[Autoencoder] Weights = \"{0}\" matches {1} AdditionalFiles items ({2}); give a longer path suffix that names exactly one",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownTarget = new(
        id: "EAE0021",
        title: "Unknown EdgeAe target",
        messageFormat: "The EdgeAeTarget build property is '{0}', which is not a known target; set it to Desktop or NanoFramework, or remove it to detect the target from the compilation",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownInitialization = new(
        id: "EAE0022",
        title: "Unknown initialization",
        messageFormat: "[Autoencoder] Initialization value {0} is not a member of EdgeAe.Initialization (GlorotHe, UniformFanIn)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor CodeBitsInvalid = new(
        id: "EAE0023",
        title: "Code bits must be 0, 8 or 16",
        messageFormat: "[Autoencoder] CodeBits must be 0 (no packet codec), 8 or 16; found {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor CodeBitsDifferFromWeightFile = new(
        id: "EAE0024",
        title: "Code bits differ from the weight file",
        messageFormat: "[Autoencoder] CodeBits = {0} but the weight file \"{1}\" stores a code quantisation of {2} bits; declare CodeBits = {2} or retrain with --code-bits {0}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor CodeRangeMissing = new(
        id: "EAE0025",
        title: "Weight file has no code range",
        messageFormat: "[Autoencoder] CodeBits = {0} with a {1} code needs the code range learned in training, but the weight file \"{2}\" has no 'qant' section; retrain with --code-bits {0} (or save with a CodeQuantizer)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor Int8WeightsUnsupported = new(
        id: "EAE0026",
        title: "Int8 weight file cannot be baked here",
        messageFormat: "[Autoencoder] Weights = \"{0}\" holds an int8 model: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TypeNameTakenByGeneratedMember = new(
        id: "EAE0027",
        title: "Model named like a generated member",
        messageFormat: "The model '{0}' is named like {1} that EdgeAe generates for the {2} flavour; rename the model, for instance to '{0}Model'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MemberNameTakenByGeneratedMember = new(
        id: "EAE0028",
        title: "Member named like a generated member",
        messageFormat: "'{0}' declares the {1} '{2}', which clashes with {3} that EdgeAe generates for the {4} flavour; rename the {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WeightFileNameEmpty = new(
        id: "EAE0029",
        title: "Weight file name is empty",
        messageFormat: "[Autoencoder] Weights = \"{0}\" gives no file name; name the weight file to bake, such as Weights = \"model.eaw\", or leave Weights out to initialise the parameters from the seed",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>All descriptors, in ID order.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
        typeof(DiagnosticDescriptors)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(d => d.Id, StringComparer.Ordinal)
            .ToArray();

    public static DiagnosticDescriptor ById(string id)
        => All.FirstOrDefault(d => d.Id == id) ?? throw new ArgumentException("Unknown diagnostic id " + id, nameof(id));
}
