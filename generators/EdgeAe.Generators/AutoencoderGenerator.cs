using System.Linq;
using System.Text;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Emitting;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Generators;

/// <summary>
/// The EdgeAe incremental generator. This file only wires the pipeline; parsing lives in
/// <see cref="Parser"/>, layout in <see cref="Planning.ModelPlan"/>, code in <see cref="ModelEmitter"/>.
/// <code>
/// [Autoencoder] types ─► Parse ─► FlavorChecks ─► Result(spec, diagnostics) ─┬─► Diagnostics ─► ReportDiagnostic
///                                                                            └─► Spec ─┬─► (no Weights) Emit ─► AddSource
///                                                                                      └─► (Weights = "…") BakeRequests ─┐
/// AdditionalFiles named by a request ─► WeightFiles (bytes) ─────────────────────────────────────────────────────────────► Bake ─┬─► BakeDiagnostics
///                                                                                                                                └─► EmitBaked ─► AddSource
/// </code>
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class AutoencoderGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        context.RegisterPostInitializationOutput(static post =>
        {
            post.AddEmbeddedAttributeDefinition();
            post.AddSource(AttributeSources.HintName, SourceText.From(AttributeSources.Source, Encoding.UTF8));
        });

        IncrementalValuesProvider<ParsedDeclaration> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeSources.AutoencoderAttributeName,
                predicate: static (node, _) => IsClassDeclaration(node),
                transform: Parser.Parse)
            .WithTrackingName(TrackingNames.Parse);

        // The flavour: the EdgeAeTarget build property, else detected from the compilation. Each
        // input is reduced to a small value first, so edits elsewhere leave this step unchanged.
        IncrementalValueProvider<bool> isNanoFramework = context.CompilationProvider
            .Select(static (compilation, _) => TargetSelection.IsNanoFrameworkCoreLibrary(compilation.ObjectType.ContainingAssembly))
            .WithTrackingName(TrackingNames.Target);
        IncrementalValueProvider<TargetSelection> target = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue(TargetSelection.BuildProperty, out string? value) ? value : null)
            .Combine(isNanoFramework)
            .Select(static (pair, _) => TargetSelection.From(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Options);
        context.RegisterSourceOutput(target, static (spc, selection) =>
        {
            if (selection.InvalidValue is not null)
            {
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnknownTarget, Location.None, selection.InvalidValue));
            }
        });

        // What depends on the flavour (the size limit) is checked once it is known.
        IncrementalValuesProvider<ParsedDeclaration> checkedDeclarations = parsed
            .Combine(target)
            .Select(static (pair, _) => FlavorChecks.Check(pair.Left, pair.Right.Flavor))
            .WithTrackingName(TrackingNames.FlavorChecks);

        // Diagnostics and source travel separately: moving a declaration re-reports diagnostics
        // at their new locations without re-emitting unchanged source.
        context.RegisterSourceOutput(
            checkedDeclarations.Select(static (parsed, _) => parsed.Result.Diagnostics).WithTrackingName(TrackingNames.Diagnostics),
            ReportDiagnostics);

        IncrementalValuesProvider<TopologySpec> specs = checkedDeclarations
            .Select(static (parsed, _) => parsed.Result.Value!)
            .Where(static spec => spec is not null)
            .WithTrackingName(TrackingNames.Spec);

        context.RegisterSourceOutput(
            specs.Where(static spec => !spec.BakesWeights)
                .Combine(target)
                .Select(static (pair, _) => (Spec: pair.Left, Source: ModelEmitter.Emit(pair.Left, pair.Right.Flavor)))
                .WithTrackingName(TrackingNames.Emit),
            static (spc, output) => spc.AddSource(ModelEmitter.HintName(output.Spec), SourceText.From(output.Source, Encoding.UTF8)));

        // Baked weights: [Autoencoder(Weights = "digits.eaw")] names an AdditionalFiles item. Only the
        // files some declaration names are read, as value-compared bytes, before anything is combined.
        IncrementalValuesProvider<BakeRequest> bakeRequests = checkedDeclarations
            .Where(static parsed => parsed.Result.Value is { BakesWeights: true })
            .Select(static (parsed, _) => new BakeRequest(parsed.Result.Value!, parsed.WeightsLocation))
            .WithTrackingName(TrackingNames.BakeRequests);

        IncrementalValueProvider<EquatableArray<string>> requestedFiles = bakeRequests
            .Select(static (request, _) => request.Spec.Weights!)
            .Collect()
            .Select(static (names, _) => names.Distinct().OrderBy(n => n, System.StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.RequestedWeightFiles);

        IncrementalValueProvider<EquatableArray<WeightFileContent>> weightFiles = context.AdditionalTextsProvider
            .Combine(requestedFiles)
            .Where(static pair => WeightBaker.MatchesAny(pair.Left.Path, pair.Right))
            .Select(static (pair, cancellationToken) => WeightBaker.Read(pair.Left, cancellationToken))
            .Collect()
            .Select(static (files, _) => files.OrderBy(f => f.Path, System.StringComparer.Ordinal).ToEquatableArray())
            .WithTrackingName(TrackingNames.WeightFiles);

        IncrementalValuesProvider<BakeResult> baked = bakeRequests
            .Combine(weightFiles)
            .Select(static (pair, cancellationToken) => WeightBaker.Bake(pair.Left, pair.Right, cancellationToken))
            .WithTrackingName(TrackingNames.Bake);

        context.RegisterSourceOutput(
            baked.Select(static (result, _) => result.Diagnostics).WithTrackingName(TrackingNames.BakeDiagnostics),
            ReportDiagnostics);

        // A declaration whose weights cannot be baked gets no source at all: its EAE error explains,
        // and no follow-on compiler errors pile up on a half-generated type.
        // An int8 weight file bakes into the firmware flavour only; a desktop build reports why instead.
        context.RegisterSourceOutput(
            baked.Where(static result => result.Weights is not null)
                .Select(static (result, _) => (Spec: result.Spec, Weights: result.Weights!))
                .Combine(target)
                .Select(static (input, _) => input.Left.Weights.Int8 is { } int8 && input.Right.Flavor == TargetFlavor.Desktop
                    ? (input.Left.Spec, Source: (string?)null, Refusal: int8.DesktopRefusal)
                    : (input.Left.Spec, Source: ModelEmitter.Emit(input.Left.Spec, input.Right.Flavor, input.Left.Weights), Refusal: (DiagnosticInfo?)null))
                .WithTrackingName(TrackingNames.EmitBaked),
            static (spc, output) =>
            {
                if (output.Refusal is not null)
                {
                    spc.ReportDiagnostic(output.Refusal.ToDiagnostic());
                }
                else
                {
                    spc.AddSource(ModelEmitter.HintName(output.Spec), SourceText.From(output.Source!, Encoding.UTF8));
                }
            });

        // Layer attributes on a type without [Autoencoder] would otherwise be ignored silently.
        foreach (string layerAttribute in new[]
                 {
                     AttributeSources.EncoderAttributeName, AttributeSources.CodeAttributeName,
                     AttributeSources.DecoderAttributeName, AttributeSources.OutputAttributeName,
                 })
        {
            IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> orphans = context.SyntaxProvider
                .ForAttributeWithMetadataName(layerAttribute, static (node, _) => IsClassDeclaration(node), Parser.ParseOrphanLayers)
                .WithTrackingName(TrackingNames.OrphanLayers);
            context.RegisterSourceOutput(orphans, ReportDiagnostics);
        }
    }

    private static void ReportDiagnostics(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (DiagnosticInfo diagnostic in diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
    }

    /// <summary>
    /// A class or a record class: every declaration the attributes' AttributeUsage(Class) admits. Records must
    /// reach the parser, which reports them (EAE0013); they were dropped silently before. Structs (and record
    /// structs) are rejected by the compiler (CS0592) and need no second error.
    /// </summary>
    private static bool IsClassDeclaration(SyntaxNode node)
        => node is ClassDeclarationSyntax
            || (node is RecordDeclarationSyntax record && !record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword));
}
