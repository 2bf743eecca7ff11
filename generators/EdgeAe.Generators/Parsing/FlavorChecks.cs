using System.Collections.Generic;
using System.Globalization;
using EdgeAe.Generators.Emitting;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Parsing;

/// <summary>
/// The checks of a parsed declaration that depend on the flavour being built, which the parser cannot know (the
/// <c>EdgeAeTarget</c> build property reaches the generator in its own input): the size limit, whose workspace is the
/// desktop's batch workspace but one sample's on the device (EAE0012), and the names the generated code declares
/// (<see cref="GeneratedMembers"/>), which neither the model (EAE0027) nor a member the user declares on it (EAE0028)
/// may take. A declaration that fails one keeps its diagnostics and loses its topology, so nothing is generated for it:
/// its EAE error replaces the compiler errors (CS0542, CS0102, …) the generated code would cause.
/// </summary>
internal static class FlavorChecks
{
    public static ParsedDeclaration Check(ParsedDeclaration parsed, TargetFlavor flavor)
    {
        if (parsed.Result.Value is not { } spec)
        {
            return parsed;
        }

        var diagnostics = new List<DiagnosticInfo>();
        CheckSize(spec, flavor, parsed.TypeLocation, diagnostics);
        if (diagnostics.Count == 0)
        {
            CheckNames(spec, flavor, parsed, diagnostics);
        }
        return diagnostics.Count == 0
            ? parsed
            : parsed with { Result = new Result<TopologySpec>(null, diagnostics.ToEquatableArray()) };
    }

    /// <summary>
    /// EAE0012: the parameters and the workspace must stay within <see cref="ModelPlan.MaxParameters"/> floats each. The
    /// desktop allocates a workspace slot per sample of the largest batch; the firmware model one sample's workspace, with
    /// training's deltas only when it trains on the device.
    /// </summary>
    private static void CheckSize(TopologySpec spec, TargetFlavor flavor, LocationInfo? location, List<DiagnosticInfo> diagnostics)
    {
        (decimal parameters, decimal inference, decimal training) = ModelPlan.Size(spec);
        decimal workspace;
        string what;
        if (flavor == TargetFlavor.Desktop)
        {
            workspace = training * spec.MaxBatchSize;
            what = Invariant($"{workspace} batch workspace floats (MaxBatch = {spec.MaxBatchSize} samples of {training})");
        }
        else
        {
            workspace = spec.OnDeviceTraining ? training : inference;
            what = Invariant($"{workspace} workspace floats") + (spec.OnDeviceTraining ? " with on-device training" : string.Empty);
        }

        if (parameters > ModelPlan.MaxParameters || workspace > ModelPlan.MaxParameters)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModelTooLarge, location, spec.TypeName, parameters, what, ModelPlan.MaxParameters));
        }
    }

    /// <summary>
    /// EAE0027: the model may not be named like a generated member (a member named like its class is CS0542) or like a type
    /// the generated file declares beside it. EAE0028: a member the user declares may not take a generated name (CS0102),
    /// except a method named like a generated method, which is an overload (one with the same parameters is the
    /// compiler's CS0111).
    /// </summary>
    private static void CheckNames(TopologySpec spec, TargetFlavor flavor, ParsedDeclaration parsed, List<DiagnosticInfo> diagnostics)
    {
        IReadOnlyList<GeneratedMember> generated = GeneratedMembers.Of(spec, flavor);
        if (GeneratedMembers.TryFind(generated, spec.TypeName, out GeneratedMember clash))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNameTakenByGeneratedMember, parsed.TypeLocation, spec.TypeName, clash.Description, flavor));
        }

        foreach (DeclaredMember member in parsed.Members)
        {
            if (GeneratedMembers.TryFind(generated, member.Name, out GeneratedMember taken)
                && !(member.IsMethod && taken.Kind == GeneratedMemberKind.Method))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.MemberNameTakenByGeneratedMember, member.Location, spec.TypeName, member.Kind, member.Name, taken.Description, flavor));
            }
        }
    }

    private static string Invariant(System.FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
