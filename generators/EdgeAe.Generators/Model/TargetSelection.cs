using System;
using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Model;

/// <summary>
/// Which flavour to emit, from the <c>EdgeAeTarget</c> build property (made visible to the compiler
/// by targets/EdgeAe.props) or, when it is not set, from the compilation itself: its core library
/// (the assembly defining <c>System.Object</c>) is nanoFramework's <c>mscorlib</c>.
/// </summary>
internal sealed record TargetSelection(TargetFlavor Flavor, string? InvalidValue)
{
    public const string BuildProperty = "build_property.EdgeAeTarget";

    /// <summary>
    /// True when <paramref name="coreLibrary"/> is nanoFramework's mscorlib: it declares the target framework
    /// <c>.NETnanoFramework</c> (<c>[assembly: TargetFramework(".NETnanoFramework,Version=v1.0")]</c>), or, for a build
    /// without that attribute, it is an <c>mscorlib</c> of version 1.x (nanoFramework.CoreLibrary; the .NET Framework's
    /// and .NET's <c>mscorlib</c> are 2.0 and 4.0). The API surface is not the test: nanoFramework is gaining
    /// <c>Span&lt;T&gt;</c>, and a desktop project may declare a type named like one of nanoFramework's.
    /// </summary>
    public static bool IsNanoFrameworkCoreLibrary(IAssemblySymbol? coreLibrary)
    {
        if (coreLibrary is null)
        {
            return false;
        }

        foreach (AttributeData attribute in coreLibrary.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == "System.Runtime.Versioning.TargetFrameworkAttribute"
                && attribute.ConstructorArguments.Length == 1
                && attribute.ConstructorArguments[0].Value is string framework)
            {
                return framework.StartsWith(".NETnanoFramework", StringComparison.OrdinalIgnoreCase);
            }
        }

        return coreLibrary.Identity.Name == "mscorlib" && coreLibrary.Identity.Version.Major == 1;
    }

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
