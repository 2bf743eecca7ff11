using System;

namespace EdgeAe.Generators.Model;

/// <summary>
/// Which flavour to emit, from the <c>EdgeAeTarget</c> build property (made visible to the compiler
/// by targets/EdgeAe.props) or, when it is not set, from the compilation itself: nanoFramework's
/// mscorlib has <c>System.SpanByte</c> and no <c>System.Span&lt;T&gt;</c>.
/// </summary>
internal sealed record TargetSelection(TargetFlavor Flavor, string? InvalidValue)
{
    public const string BuildProperty = "build_property.EdgeAeTarget";

    public static TargetSelection From(string? property, bool compilationIsNanoFramework)
    {
        TargetFlavor detected = compilationIsNanoFramework ? TargetFlavor.NanoFramework : TargetFlavor.Desktop;
        string value = property?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            return new TargetSelection(detected, null);
        }

        if (string.Equals(value, "Desktop", StringComparison.OrdinalIgnoreCase))
        {
            return new TargetSelection(TargetFlavor.Desktop, null);
        }

        if (string.Equals(value, "NanoFramework", StringComparison.OrdinalIgnoreCase))
        {
            return new TargetSelection(TargetFlavor.NanoFramework, null);
        }

        return new TargetSelection(detected, value);
    }
}
