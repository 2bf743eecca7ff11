namespace EdgeAe.Generators;

/// <summary>Names of the generator's pipeline steps, used by the caching tests.</summary>
internal static class TrackingNames
{
    public const string Parse = nameof(Parse);
    public const string FlavorChecks = nameof(FlavorChecks);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Spec = nameof(Spec);
    public const string Options = nameof(Options);
    public const string Target = nameof(Target);
    public const string Emit = nameof(Emit);
    public const string OrphanLayers = nameof(OrphanLayers);
    public const string BakeRequests = nameof(BakeRequests);
    public const string RequestedWeightFiles = nameof(RequestedWeightFiles);
    public const string WeightFiles = nameof(WeightFiles);
    public const string Bake = nameof(Bake);
    public const string BakeDiagnostics = nameof(BakeDiagnostics);
    public const string EmitBaked = nameof(EmitBaked);
}
