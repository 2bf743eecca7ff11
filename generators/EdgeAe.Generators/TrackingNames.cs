namespace EdgeAe.Generators;

/// <summary>Names of the generator's pipeline steps, used by the caching tests.</summary>
internal static class TrackingNames
{
    public const string Parse = nameof(Parse);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Spec = nameof(Spec);
    public const string Options = nameof(Options);
    public const string Emit = nameof(Emit);
    public const string OrphanLayers = nameof(OrphanLayers);
}
