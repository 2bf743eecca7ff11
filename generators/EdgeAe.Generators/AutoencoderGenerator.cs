using System.Text;
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
/// [Autoencoder] types ─► Parse ─► Result(spec, diagnostics) ─┬─► Diagnostics ─► ReportDiagnostic
///                                                            └─► Spec ─► Emit ─► AddSource
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

        IncrementalValuesProvider<Result<TopologySpec>> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeSources.AutoencoderAttributeName,
                predicate: static (node, _) => IsClassDeclaration(node),
                transform: Parser.Parse)
            .WithTrackingName(TrackingNames.Parse);

        // Diagnostics and source travel separately: moving a declaration re-reports diagnostics
        // at their new locations without re-emitting unchanged source.
        context.RegisterSourceOutput(
            parsed.Select(static (result, _) => result.Diagnostics).WithTrackingName(TrackingNames.Diagnostics),
            static (spc, diagnostics) =>
            {
                foreach (DiagnosticInfo diagnostic in diagnostics)
                {
                    spc.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            });

        IncrementalValuesProvider<TopologySpec> specs = parsed
            .Select(static (result, _) => result.Value!)
            .Where(static spec => spec is not null)
            .WithTrackingName(TrackingNames.Spec);

        context.RegisterSourceOutput(
            specs.Select(static (spec, _) => (Spec: spec, Source: ModelEmitter.Emit(spec, TargetFlavor.Desktop)))
                .WithTrackingName(TrackingNames.Emit),
            static (spc, output) => spc.AddSource(ModelEmitter.HintName(output.Spec), SourceText.From(output.Source, Encoding.UTF8)));

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
            context.RegisterSourceOutput(orphans, static (spc, diagnostics) =>
            {
                foreach (DiagnosticInfo diagnostic in diagnostics)
                {
                    spc.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            });
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
