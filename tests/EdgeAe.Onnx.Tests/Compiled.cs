using System.Collections.Immutable;
using System.Text;
using EdgeAe.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Onnx.Tests;

/// <summary>
/// Runs the EdgeAe generator on many declarations as ONE in-memory compilation (compiling the generated code is the
/// expensive part; one compilation shares the attributes, the references and the compiler's warm-up) and loads the result.
/// </summary>
internal static class Compiled
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>The image of the declarations and their generated code (Debug: compiles about a third faster than Release).</summary>
    public static byte[] Compile(string name, IReadOnlyList<(string Path, string Source)> declarations, OptimizationLevel level = OptimizationLevel.Debug)
    {
        string trusted = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set.");
        ImmutableArray<MetadataReference> references = trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(typeof(IAutoencoder).Assembly.Location)
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
        SyntaxTree[] trees = declarations
            .Select(d => CSharpSyntaxTree.ParseText(SourceText.From(d.Source, Encoding.UTF8), ParseOptions, d.Path))
            .ToArray();
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: level,
            allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable);
        CSharpCompilation compilation = CSharpCompilation.Create(name, trees, references, options);
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new AutoencoderGenerator().AsSourceGenerator()], parseOptions: ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = output.Emit(image);
        Diagnostic[] errors = generatorDiagnostics.Concat(result.Diagnostics).Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        if (!result.Success || errors.Length > 0)
        {
            throw new InvalidOperationException("The declarations do not compile:\n" + string.Join("\n", errors.Take(20)));
        }

        return image.ToArray();
    }
}
