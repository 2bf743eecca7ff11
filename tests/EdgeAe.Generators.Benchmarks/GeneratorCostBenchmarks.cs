using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EdgeAe.Generators.Benchmarks;

/// <summary>
/// The EdgeAe generator on a project of <see cref="Models"/> declarations (one file each) and 20
/// unrelated files:
/// <list type="bullet">
/// <item><see cref="Cold"/>: a new driver, as a command-line build runs it;</item>
/// <item><see cref="UnrelatedEdit"/>: the IDE case, a method body in an unrelated file changes between runs;</item>
/// <item><see cref="DeclarationEdit"/>: one declaration's code width changes between runs.</item>
/// </list>
/// The incremental cases alternate between two compilations, so every run follows an edit.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class GeneratorCostBenchmarks
{
    private const int UnrelatedFiles = 20;

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _unrelatedEdited = null!;
    private CSharpCompilation _declarationEdited = null!;
    private GeneratorDriver _unrelatedDriver = null!;
    private GeneratorDriver _declarationDriver = null!;
    private bool _toggle;

    [Params(1, 10, 50)]
    public int Models { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var trees = new List<SyntaxTree>();
        for (int i = 0; i < Models; i++)
        {
            trees.Add(Parse(Model(i, codeWidth: 4 + (i % 12)), $"Model{i}.cs"));
        }

        for (int i = 0; i < UnrelatedFiles; i++)
        {
            trees.Add(Parse(Unrelated(i, "x * 2"), $"Unrelated{i}.cs"));
        }

        string[] trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        MetadataReference[] references = trusted
            .Where(p => Path.GetFileName(p) is "System.Private.CoreLib.dll" or "System.Runtime.dll" or "System.Memory.dll" or "netstandard.dll")
            .Select(p => MetadataReference.CreateFromFile(p))
            .ToArray();
        _compilation = CSharpCompilation.Create("Bench", trees, references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

        SyntaxTree unrelated = _compilation.SyntaxTrees.Single(t => t.FilePath == "Unrelated0.cs");
        _unrelatedEdited = _compilation.ReplaceSyntaxTree(unrelated, Parse(Unrelated(0, "x + x"), "Unrelated0.cs"));
        SyntaxTree declaration = _compilation.SyntaxTrees.Single(t => t.FilePath == "Model0.cs");
        _declarationEdited = _compilation.ReplaceSyntaxTree(declaration, Parse(Model(0, codeWidth: 3), "Model0.cs"));

        _unrelatedDriver = CreateDriver().RunGenerators(_compilation);
        _declarationDriver = CreateDriver().RunGenerators(_compilation);

        GeneratorRunResult check = _unrelatedDriver.GetRunResult().Results.Single();
        if (check.Exception is not null || check.Diagnostics.Length != 0 || check.GeneratedSources.Length < Models)
        {
            throw new InvalidOperationException($"The generator did not produce {Models} models cleanly: {check.Exception} {string.Join("; ", check.Diagnostics)}");
        }
    }

    [Benchmark(Description = "cold (new driver)")]
    public GeneratorDriver Cold() => CreateDriver().RunGenerators(_compilation);

    [Benchmark(Description = "incremental, unrelated edit")]
    public GeneratorDriver UnrelatedEdit()
    {
        _toggle = !_toggle;
        return _unrelatedDriver = _unrelatedDriver.RunGenerators(_toggle ? _unrelatedEdited : _compilation);
    }

    [Benchmark(Description = "incremental, declaration edit")]
    public GeneratorDriver DeclarationEdit()
    {
        _toggle = !_toggle;
        return _declarationDriver = _declarationDriver.RunGenerators(_toggle ? _declarationEdited : _compilation);
    }

    private static GeneratorDriver CreateDriver()
        => CSharpGeneratorDriver.Create([new AutoencoderGenerator().AsSourceGenerator()], parseOptions: ParseOptions);

    private static SyntaxTree Parse(string text, string path) => CSharpSyntaxTree.ParseText(text, ParseOptions, path);

    private static string Model(int index, int codeWidth)
    {
        int input = 16 + (16 * (index % 4));
        return string.Create(CultureInfo.InvariantCulture, $$"""
            using EdgeAe;

            namespace Bench.Models;

            [Autoencoder(Input = {{input}}, Loss = Loss.BinaryCrossEntropy, Seed = {{index}})]
            [Encoder({{input / 2}}, Activation.Relu)]
            [Code({{codeWidth}}, Activation.Sigmoid)]
            [Decoder({{input / 2}}, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class Model{{index}};
            """);
    }

    private static string Unrelated(int index, string body) => string.Create(CultureInfo.InvariantCulture, $$"""
        namespace Bench.Other;

        public static class Helper{{index}}
        {
            public static int Twice(int x) => {{body}};
        }
        """);
}
