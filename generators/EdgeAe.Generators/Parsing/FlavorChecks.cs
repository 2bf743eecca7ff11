using System.Collections.Generic;
using System.Globalization;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Parsing;

/// <summary>
/// The checks of a parsed declaration that depend on the flavour being built, which the parser cannot know (the
/// <c>EdgeAeTarget</c> build property reaches the generator in its own input): the size limit, whose workspace is the
/// desktop's batch workspace but one sample's on the device (EAE0012). A declaration that fails one keeps its
/// diagnostics and loses its topology, so nothing is generated for it.
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

    private static string Invariant(System.FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
