using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// A declaration naming a weight file: a missing, corrupted, mismatched or ambiguous file is one
/// EAE error on the <c>Weights = "…"</c> argument, never a crash and never errors in generated code.
/// </summary>
public sealed class BakedWeightsDiagnosticsTests : IDisposable
{
    // The topology of tests/EdgeAe.Tests/Assets/baked-deep.eaw (see BakedModels.cs there).
    private const string Layers = """
        [Encoder(6, Activation.Relu)]
        [Code(3, Activation.Tanh)]
        [Decoder(5, Activation.Linear)]
        [Output(Activation.Sigmoid)]
        public partial class Baked;
        """;

    private static readonly byte[] ValidFile = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Assets", "baked-deep.eaw"));

    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-bake-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_valid_weight_file_is_baked_and_the_model_compiles_and_runs()
    {
        string path = Write("weights/baked-deep.eaw", ValidFile);
        GeneratorRun run = Run("""[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, Seed = 40, Weights = "baked-deep.eaw")]""", path);
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        string source = Assert.Single(run.ModelSources).SourceText.ToString();
        Assert.Contains("public const bool HasBakedWeights = true;", source);
        Assert.Contains("s_bakedParameters", source);
        float first = GeneratorHarness.WithModel(run, "Demo.Baked", model => model.Parameters[0]);
        Assert.Equal(-0f, first);
        Assert.True(float.IsNegative(first), "the baked −0 keeps its sign");
    }

    [Fact]
    public void EAE0017_a_file_that_is_not_an_additional_file()
        => AssertOnly(
            """[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, [|Weights = "digits.eaw"|])]""",
            "EAE0017",
            """[Autoencoder] Weights = "digits.eaw": no AdditionalFiles item is named 'digits.eaw'; add <AdditionalFiles Include="digits.eaw" /> to the project file""",
            Write("other.eaw", ValidFile));

    [Fact]
    public void EAE0018_a_corrupted_file_names_the_checksum_mismatch()
    {
        byte[] corrupted = (byte[])ValidFile.Clone();
        corrupted[corrupted.Length / 2] ^= 0x40;
        string path = Write("baked-deep.eaw", corrupted);
        Diagnostic diagnostic = AssertOnly(
            """[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, [|Weights = "baked-deep.eaw"|])]""",
            "EAE0018",
            message: null,
            path);
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.StartsWith("[Autoencoder] Weights = \"baked-deep.eaw\": cannot read", message);
        Assert.Contains("checksum mismatch", message);
    }

    [Fact]
    public void EAE0018_a_file_that_is_not_a_weight_file()
    {
        string path = Write("baked-deep.eaw", Encoding.UTF8.GetBytes("0,1,2,3\n"));
        Diagnostic diagnostic = AssertOnly(
            """[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, [|Weights = "baked-deep.eaw"|])]""",
            "EAE0018",
            message: null,
            path);
        Assert.Contains("not an EdgeAe weight file", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void EAE0019_a_file_saved_for_another_topology_names_expected_and_found()
    {
        string path = Write("baked-deep.eaw", ValidFile);
        Diagnostic diagnostic = AssertOnly(
            """[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, [|Weights = "baked-deep.eaw"|])]""",
            "EAE0019",
            message: null,
            path,
            layers: Layers.Replace("[Code(3, Activation.Tanh)]", "[Code(4, Activation.Tanh)]", StringComparison.Ordinal));
        string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(message.Contains("the file was saved for a different model than 'Demo.Baked'", StringComparison.Ordinal), message);
        Assert.Contains("layer 1: expected code 6→4 Tanh, found code 6→3 Tanh", message);
    }

    [Fact]
    public void EAE0020_a_name_that_matches_several_additional_files()
    {
        string a = Write("a/baked-deep.eaw", ValidFile);
        string b = Write("b/baked-deep.eaw", ValidFile);
        Diagnostic diagnostic = AssertOnly(
            """[Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, [|Weights = "baked-deep.eaw"|])]""",
            "EAE0020",
            message: null,
            a,
            b);
        Assert.Contains("matches 2 AdditionalFiles items", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    private string Write(string relative, byte[] bytes)
    {
        string path = Path.Combine(_folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static GeneratorRun Run(string autoencoder, params string[] additionalFiles)
        => Run(autoencoder, Layers, additionalFiles);

    private static GeneratorRun Run(string autoencoder, string layers, string[] additionalFiles)
    {
        string source = "using EdgeAe;\n\nnamespace Demo;\n\n" + autoencoder + "\n" + layers;
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(source);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new AutoencoderGenerator().AsSourceGenerator()],
            additionalTexts: additionalFiles.Select(f => (AdditionalText)new WeightFileText(f)).ToImmutableArray(),
            parseOptions: GeneratorHarness.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return GeneratorHarness.Run(driver, compilation);
    }

    /// <summary>Asserts the run reports exactly one EdgeAe error, on the marked span, and generates no model.</summary>
    private static Diagnostic AssertOnly(string markedAutoencoder, string id, string? message, string additionalFile, string? secondFile = null, string? layers = null)
    {
        (string autoencoder, TextSpan span) = Markup.Parse(markedAutoencoder);
        string[] files = secondFile is null ? [additionalFile] : [additionalFile, secondFile];
        GeneratorRun run = Run(autoencoder, layers ?? Layers, files);
        run.AssertGeneratorDidNotThrow();
        Diagnostic[] edgeAe = run.OutputDiagnostics.Concat(run.GeneratorDiagnostics)
            .Where(d => d.Id.StartsWith("EAE", StringComparison.Ordinal)).Distinct().ToArray();
        Assert.True(edgeAe.Length == 1, "Expected only " + id + "; got: " + string.Join("; ", edgeAe.Select(d => d.ToString())));
        Diagnostic diagnostic = edgeAe[0];
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        if (message is not null)
        {
            Assert.Equal(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(autoencoder.Substring(span.Start, span.Length), GeneratorHarness.SquiggledText(diagnostic, run.Output));
        Assert.Empty(run.ModelSources);
        Assert.Empty(run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("EAE", StringComparison.Ordinal)));
        return diagnostic;
    }
}
