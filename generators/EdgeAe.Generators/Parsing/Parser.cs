using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Generators.Parsing;

/// <summary>
/// Turns the attributes on a declared type into a validated <see cref="TopologySpec"/>, or into
/// diagnostics that name the offending attribute and value. Runs inside the generator's
/// transform step: all semantic work happens here, and nothing symbolic leaves it.
/// </summary>
internal static class Parser
{
    /// <summary>
    /// Reads the declaration's attributes (<see cref="ReadAttributes"/>, <see cref="ReadOptions"/>, <see cref="ReadLayers"/>,
    /// each reporting what is wrong with a single value), then validates the model as a whole
    /// (<see cref="ValidateModel"/>): tied weights. What depends on the flavour (the size limit, the names the generated
    /// code takes) is checked next, by <see cref="FlavorChecks"/>, from the type's location and declared members kept here.
    /// </summary>
    public static ParsedDeclaration Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;
        var diagnostics = new List<DiagnosticInfo>();
        LocationInfo? typeLocation = LocationInfo.From(declaration.Identifier.GetLocation());

        CheckTypeShape(type, declaration, typeLocation, diagnostics);
        DeclaredAttributes attributes = ReadAttributes(type, context.Attributes[0], cancellationToken);
        DeclaredOptions options = ReadOptions(attributes.Autoencoder, diagnostics, cancellationToken);
        if (attributes.Code is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingCodeLayer, typeLocation, type.Name));
        }

        if (attributes.Output is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingOutputLayer, typeLocation, type.Name));
        }

        List<LayerSpec> layers = ReadLayers(attributes, options.InputSize, options.Loss, diagnostics, cancellationToken);
        if (diagnostics.Count == 0)
        {
            ValidateModel(attributes, options, layers, diagnostics, cancellationToken);
        }

        // An attribute whose arguments the compiler already rejects (an unknown enum member, a wrong type) reads as
        // zeros here: report nothing about its arguments and generate nothing; the compiler error says what is wrong.
        List<TextSpan> broken = BrokenAttributeSpans(type, cancellationToken);
        if (broken.Count > 0)
        {
            diagnostics.RemoveAll(d => d.Location is { } at && broken.Any(span => span.Contains(at.TextSpan)));
            return new ParsedDeclaration(new Result<TopologySpec>(null, diagnostics.ToEquatableArray()), null);
        }

        if (diagnostics.Count > 0)
        {
            return new ParsedDeclaration(new Result<TopologySpec>(null, diagnostics.ToEquatableArray()), null);
        }

        var spec = new TopologySpec(
            NamespaceName(type.ContainingNamespace),
            type.Name,
            options.InputSize,
            options.Loss,
            options.Seed,
            options.TiedWeights,
            options.MaxBatch,
            layers.ToEquatableArray(),
            options.Weights,
            options.OnDeviceTraining,
            options.Initialization,
            options.CodeBits,
            TakenNames(type));
        LocationInfo? weightsLocation = options.Weights is null ? null : NamedArgumentLocation(attributes.Autoencoder, "Weights", cancellationToken);
        return new ParsedDeclaration(new Result<TopologySpec>(spec, EquatableArray<DiagnosticInfo>.Empty), weightsLocation, typeLocation, DeclaredMembers(type, cancellationToken));
    }

    /// <summary>
    /// The members the user declares on the model, in every part of the class (not the generated part: the generator
    /// does not see its own output), by name: those the name checks compare with the generated members.
    /// </summary>
    private static EquatableArray<DeclaredMember> DeclaredMembers(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var members = new List<DeclaredMember>();
        foreach (ISymbol member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Constructors, operators, accessors and explicit interface implementations cannot be named in code.
            if (member.IsImplicitlyDeclared || !member.CanBeReferencedByName)
            {
                continue;
            }

            string kind = member switch
            {
                IFieldSymbol { IsConst: true } => "constant",
                IFieldSymbol => "field",
                IPropertySymbol => "property",
                IEventSymbol => "event",
                IMethodSymbol => DeclaredMember.MethodKind,
                _ => "nested type",
            };
            members.Add(new DeclaredMember(member.Name, kind, LocationInfo.From(member.Locations.FirstOrDefault(l => l.IsInSource))));
        }

        return members.ToEquatableArray();
    }

    /// <summary>
    /// The short names of the generated file's <c>using</c> directives (<see cref="ShortNames.Candidates"/>) that the
    /// model's namespace declares (a type or namespace of that name) or the model or a base class has as a member: names
    /// the directives would clash with or be hidden by.
    /// </summary>
    private static EquatableArray<string> TakenNames(INamedTypeSymbol type)
    {
        var taken = new List<string>();
        foreach (string name in ShortNames.Candidates)
        {
            bool declared = type.ContainingNamespace.GetMembers(name).Any();
            for (ITypeSymbol? t = type; t is not null && !declared; t = t.BaseType)
            {
                declared = t.GetMembers(name).Length > 0;
            }

            if (declared)
            {
                taken.Add(name);
            }
        }

        taken.Sort(StringComparer.Ordinal);
        return taken.ToEquatableArray();
    }

    /// <summary>The EdgeAe attributes on <paramref name="type"/>, by kind, in declaration order.</summary>
    private static DeclaredAttributes ReadAttributes(INamedTypeSymbol type, AttributeData matched, CancellationToken cancellationToken)
    {
        AttributeData? autoencoder = null;
        var encoders = new List<AttributeData>();
        var decoders = new List<AttributeData>();
        AttributeData? code = null;
        AttributeData? output = null;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case AttributeSources.AutoencoderAttributeName:
                    autoencoder = attribute;
                    break;
                case AttributeSources.EncoderAttributeName:
                    encoders.Add(attribute);
                    break;
                case AttributeSources.CodeAttributeName:
                    code = attribute;
                    break;
                case AttributeSources.DecoderAttributeName:
                    decoders.Add(attribute);
                    break;
                case AttributeSources.OutputAttributeName:
                    output = attribute;
                    break;
            }
        }

        return new DeclaredAttributes(autoencoder ?? matched, encoders, code, decoders, output);
    }

    /// <summary>The named arguments of <c>[Autoencoder]</c>, each value checked on its own.</summary>
    private static DeclaredOptions ReadOptions(AttributeData autoencoder, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        int inputSize = NamedInt(autoencoder, "Input", 0);
        if (inputSize <= 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.InputSizeNotPositive,
                NamedArgumentLocation(autoencoder, "Input", cancellationToken),
                inputSize));
        }

        int lossValue = NamedInt(autoencoder, "Loss", 0);
        var loss = (LossKind)lossValue;
        if (!Enum.IsDefined(typeof(LossKind), loss))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.UnknownLoss,
                NamedArgumentLocation(autoencoder, "Loss", cancellationToken),
                lossValue));
        }

        int initializationValue = NamedInt(autoencoder, "Initialization", 0);
        var initialization = (InitializationKind)initializationValue;
        if (!Enum.IsDefined(typeof(InitializationKind), initialization))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.UnknownInitialization,
                NamedArgumentLocation(autoencoder, "Initialization", cancellationToken),
                initializationValue));
        }

        int codeBits = NamedInt(autoencoder, "CodeBits", 0);
        if (codeBits is not (0 or 8 or 16))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.CodeBitsInvalid,
                NamedArgumentLocation(autoencoder, "CodeBits", cancellationToken),
                codeBits));
        }

        string? weights = NamedString(autoencoder, "Weights");
        if (weights is not null && WeightBaker.NamesNoFile(weights))
        {
            // Otherwise EAE0017 would ask for an AdditionalFiles item named '' (a name matches no file).
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.WeightFileNameEmpty,
                NamedArgumentLocation(autoencoder, "Weights", cancellationToken),
                weights));
        }

        int maxBatch = NamedInt(autoencoder, "MaxBatch", DefaultMaxBatch);
        if (maxBatch <= 0 || maxBatch > MaxMaxBatch)
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.MaxBatchNotPositive,
                NamedArgumentLocation(autoencoder, "MaxBatch", cancellationToken),
                maxBatch,
                MaxMaxBatch));
        }

        return new DeclaredOptions(
            inputSize,
            loss,
            NamedInt(autoencoder, "Seed", 0),
            NamedBool(autoencoder, "TiedWeights"),
            NamedBool(autoencoder, "OnDeviceTraining"),
            initialization,
            codeBits,
            maxBatch,
            weights);
    }

    /// <summary>
    /// The layers in order (encoders, code, decoders, output), each width and activation checked on its own, and the
    /// output activation against the loss.
    /// </summary>
    private static List<LayerSpec> ReadLayers(DeclaredAttributes attributes, int inputSize, LossKind loss, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var layers = new List<LayerSpec>();
        int previousWidth = inputSize;

        // widthArgument < 0: the width is not written on this attribute (an [Output] without one takes
        // the input width, which EAE0001 already reports), so a bad width is not reported again here.
        void AddLayer(AttributeData attribute, string attributeName, LayerRole role, int width, int widthArgument)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (width <= 0 && widthArgument >= 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.LayerWidthNotPositive,
                    ArgumentLocation(attribute, widthArgument, cancellationToken),
                    attributeName,
                    width));
            }

            int activationArgument = attribute.ConstructorArguments.Length - 1;
            int activationValue = activationArgument >= 0 ? AsInt(attribute.ConstructorArguments[activationArgument]) : 0;
            var activation = (ActivationKind)activationValue;
            if (!Enum.IsDefined(typeof(ActivationKind), activation))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.UnknownActivation,
                    ArgumentLocation(attribute, activationArgument, cancellationToken),
                    attributeName,
                    activationValue));
            }

            layers.Add(new LayerSpec(layers.Count, role, previousWidth, width, activation));
            previousWidth = width;
        }

        foreach (AttributeData encoder in attributes.Encoders)
        {
            AddLayer(encoder, "Encoder", LayerRole.Encoder, ConstructorInt(encoder, 0), 0);
        }

        if (attributes.Code is { } code)
        {
            AddLayer(code, "Code", LayerRole.Code, ConstructorInt(code, 0), 0);
        }

        foreach (AttributeData decoder in attributes.Decoders)
        {
            AddLayer(decoder, "Decoder", LayerRole.Decoder, ConstructorInt(decoder, 0), 0);
        }

        if (attributes.Output is { } output)
        {
            bool widthStated = output.ConstructorArguments.Length == 2;
            int outputWidth = widthStated ? ConstructorInt(output, 0) : inputSize;
            if (widthStated && outputWidth != inputSize && outputWidth > 0 && inputSize > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.OutputWidthMismatch,
                    ArgumentLocation(output, 0, cancellationToken),
                    outputWidth,
                    inputSize));
            }

            AddLayer(output, "Output", LayerRole.Output, outputWidth, widthStated ? 0 : -1);

            // A binary cross-entropy model needs a sigmoid output (an unknown activation has its own error).
            ActivationKind outputActivation = layers[layers.Count - 1].Activation;
            if (loss == LossKind.BinaryCrossEntropy && outputActivation != ActivationKind.Sigmoid
                && Enum.IsDefined(typeof(ActivationKind), outputActivation))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.BinaryCrossEntropyNeedsSigmoid,
                    ArgumentLocation(output, output.ConstructorArguments.Length - 1, cancellationToken),
                    outputActivation));
            }
        }

        return layers;
    }

    /// <summary>
    /// What only a model without other errors is checked for: tied weights need a decoder that mirrors the encoder (the
    /// tie is recorded in the layers). The size limit depends on the flavour: <see cref="FlavorChecks"/>.
    /// </summary>
    private static void ValidateModel(
        DeclaredAttributes attributes,
        DeclaredOptions options,
        List<LayerSpec> layers,
        List<DiagnosticInfo> diagnostics,
        CancellationToken cancellationToken)
    {
        if (options.TiedWeights && TieLayers(layers) is { } mismatch)
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.TiedWeightsNeedMirroredDecoder,
                NamedArgumentLocation(attributes.Autoencoder, "TiedWeights", cancellationToken),
                mismatch));
        }
    }

    /// <summary>Diagnoses layer attributes on a type that has no [Autoencoder] (they would be ignored silently).</summary>
    public static EquatableArray<DiagnosticInfo> ParseOrphanLayers(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        AttributeData? first = null;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case AttributeSources.AutoencoderAttributeName:
                    return EquatableArray<DiagnosticInfo>.Empty;
                case AttributeSources.EncoderAttributeName or AttributeSources.CodeAttributeName
                    or AttributeSources.DecoderAttributeName or AttributeSources.OutputAttributeName:
                    first ??= attribute;
                    break;
            }
        }

        // Each layer attribute kind has its own pipeline; only the kind written first reports, so the type gets one error.
        if (first is null || !SymbolEqualityComparer.Default.Equals(first.AttributeClass, context.Attributes[0].AttributeClass))
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        string name = first.AttributeClass?.Name ?? "layer";
        if (name.EndsWith("Attribute", StringComparison.Ordinal))
        {
            name = name.Substring(0, name.Length - "Attribute".Length);
        }

        var location = LocationInfo.From(first.ApplicationSyntaxReference?.GetSyntax(cancellationToken));
        return new[] { DiagnosticInfo.Create(DiagnosticDescriptors.LayerWithoutAutoencoder, location, type.Name, name) }.ToEquatableArray();
    }

    private static void CheckTypeShape(INamedTypeSymbol type, TypeDeclarationSyntax declaration, LocationInfo? location, List<DiagnosticInfo> diagnostics)
    {
        if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNotPartial, location, type.Name));
        }

        if (type.ContainingType is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NestedTypeNotSupported, location, type.Name, type.ContainingType.Name));
        }

        if (type.IsGenericType)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericTypeNotSupported, location, type.Name));
        }

        if (type.IsStatic)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedTypeKind, location, type.Name, "static"));
        }
        else if (type.IsAbstract)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedTypeKind, location, type.Name, "abstract"));
        }
        else if (type.IsRecord)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedTypeKind, location, type.Name, "a record"));
        }
        else if (declaration.Modifiers.Any(SyntaxKind.FileKeyword))
        {
            // The generated members go into their own file, and a partial type in another file cannot extend a
            // file-local one: they would land on a second, unrelated type of the same name.
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedTypeKind, location, type.Name, "file-local"));
        }
    }

    /// <summary>The default of <c>[Autoencoder] MaxBatch</c>.</summary>
    public const int DefaultMaxBatch = 64;

    /// <summary>The largest <c>MaxBatch</c> accepted.</summary>
    public const int MaxMaxBatch = 65536;

    /// <summary>
    /// Ties decoder layer t (counted from the code) to encoder layer k − t, where k is the code
    /// layer's index, replacing the layers in place. Returns null, or what does not mirror.
    /// </summary>
    private static string? TieLayers(List<LayerSpec> layers)
    {
        int code = layers.FindIndex(l => l.Role == LayerRole.Code);
        int encoderSide = code + 1;
        int decoderSide = layers.Count - encoderSide;
        if (decoderSide != encoderSide)
        {
            return $"the encoder side has {encoderSide} layer(s) up to and including the code, the decoder side {decoderSide} (hidden decoders and the output)";
        }

        for (int t = 0; t < decoderSide; t++)
        {
            LayerSpec decoder = layers[encoderSide + t];
            LayerSpec mirror = layers[code - t];
            if (decoder.InputWidth != mirror.Width || decoder.Width != mirror.InputWidth)
            {
                return $"decoder layer {decoder.Index} is {decoder.InputWidth} → {decoder.Width} but its mirror, layer {mirror.Index}, is {mirror.InputWidth} → {mirror.Width}";
            }

            layers[encoderSide + t] = decoder with { TiedTo = mirror.Index };
        }

        return null;
    }

    private static bool NamedBool(AttributeData attribute, string name)
    {
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Key == name)
            {
                return argument.Value.Value is true;
            }
        }

        return false;
    }

    private static string? NamedString(AttributeData attribute, string name)
    {
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Key == name)
            {
                return argument.Value.Value as string;
            }
        }

        return null;
    }

    private static int NamedInt(AttributeData attribute, string name, int fallback)
    {
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Key == name)
            {
                return AsInt(argument.Value);
            }
        }

        return fallback;
    }

    private static int ConstructorInt(AttributeData attribute, int index)
        => index < attribute.ConstructorArguments.Length ? AsInt(attribute.ConstructorArguments[index]) : 0;

    private static int AsInt(TypedConstant constant) => constant.Value is int value ? value : 0;

    /// <summary>Spans of the type's attributes that have a compiler error in their arguments (or bind to no constructor).</summary>
    private static List<TextSpan> BrokenAttributeSpans(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var spans = new List<TextSpan>();
        foreach (AttributeData attribute in type.GetAttributes())
        {
            bool broken = attribute.AttributeConstructor is null
                || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
                || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error);
            if (broken && attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is { } syntax)
            {
                spans.Add(syntax.Span);
            }
        }

        return spans;
    }

    /// <summary>The location of a named argument (<c>Input = 0</c>), else of the whole attribute.</summary>
    private static LocationInfo? NamedArgumentLocation(AttributeData attribute, string name, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax)
        {
            return null;
        }

        AttributeArgumentSyntax? argument = syntax.ArgumentList?.Arguments
            .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
        return LocationInfo.From(argument is null ? syntax : argument);
    }

    /// <summary>The location of the n-th positional argument, else of the whole attribute.</summary>
    private static LocationInfo? ArgumentLocation(AttributeData attribute, int index, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax)
        {
            return null;
        }

        ImmutableArray<AttributeArgumentSyntax> positional = syntax.ArgumentList?.Arguments
            .Where(a => a.NameEquals is null && a.NameColon is null).ToImmutableArray() ?? ImmutableArray<AttributeArgumentSyntax>.Empty;
        return LocationInfo.From(index >= 0 && index < positional.Length ? positional[index] : syntax);
    }

    /// <summary>
    /// The dotted namespace without keyword escapes (<c>Demo.event</c>, not <c>Demo.@event</c>): it names
    /// files and models; the emitter escapes it where it writes code. Empty for the global namespace.
    /// </summary>
    private static string NamespaceName(INamespaceSymbol? ns)
    {
        var parts = new List<string>();
        for (; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
        {
            parts.Insert(0, ns.Name);
        }

        return string.Join(".", parts);
    }

    /// <summary>The EdgeAe attributes on a declared type, by kind (only inside the transform: they hold symbols).</summary>
    private sealed record DeclaredAttributes(AttributeData Autoencoder, List<AttributeData> Encoders, AttributeData? Code, List<AttributeData> Decoders, AttributeData? Output);

    /// <summary>The named arguments of <c>[Autoencoder]</c> as read.</summary>
    private sealed record DeclaredOptions(
        int InputSize,
        LossKind Loss,
        int Seed,
        bool TiedWeights,
        bool OnDeviceTraining,
        InitializationKind Initialization,
        int CodeBits,
        int MaxBatch,
        string? Weights);
}
