using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Generators.Tests;

/// <summary>What one generator run produced.</summary>
/// <param name="Input">The compilation the generator ran on.</param>
/// <param name="Driver">The driver after the run (run it again to test caching).</param>
/// <param name="Result">The generator's run result (tracked steps, exception).</param>
/// <param name="GeneratorDiagnostics">Diagnostics the generator reported.</param>
/// <param name="DriverDiagnostics">Diagnostics of the run itself (CS8784/CS8785 when a generator throws).</param>
/// <param name="GeneratedSources">Every source the generator added, the attributes included.</param>
/// <param name="Output">The input compilation plus the generated sources.</param>
/// <param name="OutputDiagnostics">All diagnostics of <paramref name="Output"/>.</param>
internal sealed record GeneratorRun(
    CSharpCompilation Input,
    GeneratorDriver Driver,
    GeneratorRunResult Result,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> DriverDiagnostics,
    ImmutableArray<GeneratedSourceResult> GeneratedSources,
    Compilation Output,
    ImmutableArray<Diagnostic> OutputDiagnostics)
{
    /// <summary>Generated model sources (not the attributes nor the embedded-attribute definition).</summary>
    public ImmutableArray<GeneratedSourceResult> ModelSources =>
        GeneratedSources.Where(s => s.HintName.EndsWith(".Autoencoder.g.cs", StringComparison.Ordinal)).ToImmutableArray();

    /// <summary>The generated source of the model <paramref name="fullName"/> (e.g. <c>Demo.DigitsAe</c>).</summary>
    public string ModelSource(string fullName)
    {
        string hintName = fullName + ".Autoencoder.g.cs";
        GeneratedSourceResult[] matches = GeneratedSources.Where(s => s.HintName == hintName).ToArray();
        Assert.True(matches.Length == 1, $"Expected one source named {hintName}; generated: {string.Join(", ", GeneratedSources.Select(s => s.HintName))}");
        return matches[0].SourceText.ToString();
    }

    /// <summary>Whether <paramref name="tree"/> was added by the generator.</summary>
    public bool IsGenerated(SyntaxTree? tree) => tree is not null && !Input.SyntaxTrees.Contains(tree);

    /// <summary>Diagnostics of the output compilation located in generated code.</summary>
    public ImmutableArray<Diagnostic> DiagnosticsInGeneratedCode =>
        OutputDiagnostics.Where(d => IsGenerated(d.Location.SourceTree)).ToImmutableArray();

    /// <summary>Fails unless the generator ran to completion (no exception, no CS8784/CS8785).</summary>
    public void AssertGeneratorDidNotThrow()
    {
        Assert.Null(Result.Exception);
        Diagnostic[] failures = DriverDiagnostics.Concat(OutputDiagnostics)
            .Where(d => d.Id is "CS8784" or "CS8785").ToArray();
        Assert.True(failures.Length == 0, "The generator failed: " + string.Join(Environment.NewLine, failures.Select(d => d.ToString())));
    }
}

/// <summary>
/// Runs the EdgeAe generator in process on source text and compiles (and runs) what it produced.
/// References are loaded once per test run.
/// </summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>Nullable enabled and every warning wave on, so "no warnings" means no warnings.</summary>
    public static readonly CSharpCompilationOptions CompilationOptions =
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
            .WithWarningLevel(9999);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>All trusted platform assemblies plus the EdgeAe runtime.</summary>
    public static ImmutableArray<MetadataReference> References => s_references.Value;

    /// <summary>A compilation of <paramref name="sources"/>, named Source0.cs, Source1.cs, …</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources)
        => CSharpCompilation.Create(
            "EdgeAe.GeneratedUnderTest",
            sources.Select((text, i) => ParseSource(text, i)),
            References,
            CompilationOptions);

    public static SyntaxTree ParseSource(string text, int index)
        => CSharpSyntaxTree.ParseText(SourceText.From(text, Encoding.UTF8), ParseOptions, path: $"Source{index}.cs");

    public static GeneratorDriver CreateDriver()
        => CSharpGeneratorDriver.Create(
            [new AutoencoderGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs a fresh driver on a compilation of <paramref name="sources"/>.</summary>
    public static GeneratorRun Run(params string[] sources) => Run(CreateDriver(), CreateCompilation(sources));

    /// <summary><paramref name="count"/> seeded samples of <paramref name="width"/> values uniform in [0, 1) (every loss accepts them).</summary>
    public static float[][] UniformInputs(int count, int width, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
    }

    /// <summary>Runs <paramref name="driver"/> (fresh or from an earlier run) on <paramref name="compilation"/>.</summary>
    public static GeneratorRun Run(GeneratorDriver driver, CSharpCompilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        return new GeneratorRun(
            compilation,
            driver,
            result,
            result.Diagnostics,
            driverDiagnostics,
            result.GeneratedSources,
            output,
            output.GetDiagnostics());
    }

    /// <summary>The source text a diagnostic squiggles (its location may be a file location without a tree).</summary>
    public static string SquiggledText(Diagnostic diagnostic, Compilation compilation)
    {
        Location location = diagnostic.Location;
        SyntaxTree? tree = location.SourceTree
            ?? compilation.SyntaxTrees.FirstOrDefault(t => t.FilePath == location.GetLineSpan().Path);
        Assert.True(tree is not null, $"{diagnostic.Id} has no location in a source file: {location}");
        return tree.GetText().ToString(location.SourceSpan);
    }

    /// <summary>
    /// Emits <paramref name="run"/>'s output, loads it into a collectible context, creates
    /// <paramref name="fullTypeName"/> and hands it to <paramref name="use"/> as an <see cref="IAutoencoder"/>.
    /// The result must not hold on to the model: the context is unloaded afterwards.
    /// </summary>
    public static T WithModel<T>(GeneratorRun run, string fullTypeName, Func<IAutoencoder, T> use)
    {
        using var image = new MemoryStream();
        EmitResult emitted = run.Output.Emit(image);
        if (!emitted.Success)
        {
            throw new InvalidOperationException(DescribeFailure(run, emitted.Diagnostics));
        }

        image.Position = 0;
        var context = new AssemblyLoadContext("EdgeAe.Generators.Tests:" + fullTypeName, isCollectible: true);
        try
        {
            Assembly assembly = context.LoadFromStream(image);
            Type type = assembly.GetType(fullTypeName, throwOnError: true)!;
            var model = (IAutoencoder)Activator.CreateInstance(type)!;
            return use(model);
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>The errors followed by every generated source with line numbers.</summary>
    public static string DescribeFailure(GeneratorRun run, IEnumerable<Diagnostic> diagnostics)
    {
        var text = new StringBuilder("Compilation of the generated code failed:").AppendLine();
        foreach (Diagnostic diagnostic in diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning))
        {
            text.AppendLine("  " + diagnostic);
        }

        foreach (GeneratedSourceResult source in run.GeneratedSources)
        {
            text.AppendLine().AppendLine("=== " + source.HintName + " ===");
            int number = 1;
            foreach (TextLine line in source.SourceText.Lines)
            {
                text.Append((number++).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(5)).Append(": ").AppendLine(line.ToString());
            }
        }

        return text.ToString();
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string trusted = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")
            ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set.");
        return trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(typeof(IAutoencoder).Assembly.Location)
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}
