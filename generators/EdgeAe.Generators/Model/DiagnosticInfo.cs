using System;
using System.Linq;
using EdgeAe.Generators.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Generators.Model;

/// <summary>
/// A location reduced to plain values (file path, span, line span), so diagnostics can travel
/// through the pipeline without holding a syntax tree.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan TextSpan, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, TextSpan, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.SourceTree is null)
        {
            return null;
        }

        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());
}

/// <summary>An equatable diagnostic: descriptor id, location and message arguments.</summary>
internal sealed record DiagnosticInfo(string DescriptorId, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments)
        => new(descriptor.Id, location, arguments.Select(a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty).ToEquatableArray());

    public Diagnostic ToDiagnostic()
        => Diagnostic.Create(
            DiagnosticDescriptors.ById(DescriptorId),
            Location?.ToLocation(),
            Arguments.Select(a => (object)a).ToArray());
}

/// <summary>A pipeline value together with the diagnostics found while computing it.</summary>
internal sealed record Result<T>(T? Value, EquatableArray<DiagnosticInfo> Diagnostics)
    where T : class;

/// <summary>
/// What parsing one declaration produced: the topology or its diagnostics, and where the
/// <c>Weights = "…"</c> argument is (for the weight file diagnostics), when there is one. For the checks that need the
/// flavour (<see cref="Parsing.FlavorChecks"/>): where the type's name is, and the members the declaration itself declares.
/// </summary>
internal sealed record ParsedDeclaration(
    Result<TopologySpec> Result,
    LocationInfo? WeightsLocation,
    LocationInfo? TypeLocation = null,
    EquatableArray<DeclaredMember> Members = default);

/// <summary>
/// A member the user's declaration of a model declares (in any of its parts): its name, what it is (<c>field</c>,
/// <c>method</c>, …, as messages say it) and where its name is.
/// </summary>
internal sealed record DeclaredMember(string Name, string Kind, LocationInfo? Location)
{
    public bool IsMethod => Kind == MethodKind;

    public const string MethodKind = "method";
}
