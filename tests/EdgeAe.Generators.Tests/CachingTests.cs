using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// The generator stays fast in the IDE: edits that do not touch a declaration re-use every cached step,
/// moving a declaration re-uses the emitted source, and pipeline values hold no Roslyn objects.
/// </summary>
public sealed class CachingTests
{
    private const string Model = """
        using EdgeAe;

        namespace Demo;

        [Autoencoder(Input = 16, Loss = Loss.BinaryCrossEntropy, Seed = 1)]
        [Encoder(12, Activation.Relu)]
        [Code(4, Activation.Sigmoid)]
        [Output(Activation.Sigmoid)]
        public partial class Cached;
        """;

    // A broken declaration and an orphan layer attribute, so that the Diagnostics and OrphanLayers steps carry values too.
    private const string Broken = """
        using EdgeAe;

        namespace Demo;

        [Autoencoder(Input = 0)]
        [Code(4, Activation.Sigmoid)]
        [Output(Activation.Sigmoid)]
        public partial class Broken;

        [Code(4, Activation.Sigmoid)]
        public partial class Orphan;
        """;

    private const string Unrelated = """
        namespace Other;

        public static class Helper
        {
            public static int Twice(int x) => x * 2;
        }
        """;

    private static readonly string[] StepNames = typeof(TrackingNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    private static readonly IncrementalStepRunReason[] Reused = [IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged];

    [Fact]
    public void Step_names_are_the_pipelines_names()
        => Assert.Superset(new HashSet<string> { "Parse", "Diagnostics", "Spec", "Emit", "OrphanLayers" }, StepNames.ToHashSet());

    [Fact]
    public void Running_again_on_the_same_compilation_reuses_every_step()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun();
        AssertReasons(Rerun(driver, compilation), StepNames, Reused);
    }

    [Fact]
    public void Running_on_a_clone_of_the_compilation_reuses_every_step()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun();
        AssertReasons(Rerun(driver, compilation.Clone()), StepNames, Reused);
    }

    [Fact]
    public void Adding_an_unrelated_file_reuses_spec_and_emitted_source()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun();
        CSharpCompilation next = compilation.AddSyntaxTrees(GeneratorHarness.ParseSource("namespace Other2; public class Added { }", 9));
        AssertReasons(Rerun(driver, next), [TrackingNames.Spec, TrackingNames.Emit], Reused);
    }

    [Fact]
    public void Changing_a_method_body_in_an_unrelated_file_reuses_every_step()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun();
        CSharpCompilation next = Replace(compilation, "Source2.cs", Unrelated.Replace("x * 2", "x + x", StringComparison.Ordinal));
        AssertReasons(Rerun(driver, next), [TrackingNames.Spec, TrackingNames.Emit], Reused);
    }

    [Fact]
    public void Moving_the_declaration_reuses_the_emitted_source_but_reports_diagnostics_where_they_now_are()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun();
        int lineBefore = BrokenLine(driver.GetRunResult().Results.Single());

        const string Moved = "// A comment and blank lines move every declaration down.\n\n\n";
        CSharpCompilation next = Replace(Replace(compilation, "Source0.cs", Moved + Model), "Source1.cs", Moved + Broken);
        GeneratorDriver after = driver.RunGenerators(next, TestContext.Current.CancellationToken);
        GeneratorRunResult result = after.GetRunResult().Results.Single();

        AssertReasons(result, [TrackingNames.Spec, TrackingNames.Emit], Reused);
        Assert.Equal(lineBefore + 3, BrokenLine(result));
    }

    [Fact]
    public void Changing_a_width_recomputes_spec_and_source()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun();
        CSharpCompilation next = Replace(compilation, "Source0.cs", Model.Replace("[Code(4,", "[Code(5,", StringComparison.Ordinal));
        GeneratorRunResult result = Rerun(driver, next);

        foreach (string step in new[] { TrackingNames.Spec, TrackingNames.Emit })
        {
            IncrementalStepRunReason[] reasons = Outputs(result, step).Select(o => o.Reason).ToArray();
            Assert.True(reasons.Contains(IncrementalStepRunReason.Modified), $"{step}: expected Modified, got [{string.Join(", ", reasons)}]");
        }

        Assert.Contains("public const int CodeSize = 5;", Assert.Single(result.GeneratedSources, s => s.HintName == "Demo.Cached.Autoencoder.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_baked_model_is_reused_on_unrelated_edits_and_regenerated_when_its_weight_file_changes()
    {
        string folder = Directory.CreateTempSubdirectory("edgeae-caching-").FullName;
        try
        {
            const string baked = """
                using EdgeAe;

                namespace Demo;

                [Autoencoder(Input = 7, Loss = Loss.BinaryCrossEntropy, Seed = 40, Weights = "baked-deep.eaw")]
                [Encoder(6, Activation.Relu)]
                [Code(3, Activation.Tanh)]
                [Decoder(5, Activation.Linear)]
                [Output(Activation.Sigmoid)]
                public partial class Baked;
                """;
            byte[] original = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Assets", "baked-deep.eaw"));
            string path = Path.Combine(folder, "baked-deep.eaw");
            File.WriteAllBytes(path, original);
            var text = new WeightFileText(path);
            CSharpCompilation compilation = GeneratorHarness.CreateCompilation(baked, Unrelated);
            GeneratorDriver driver = NanoHarness.CreateDriver(null, text).RunGenerators(compilation, TestContext.Current.CancellationToken);
            string first = driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName == "Demo.Baked.Autoencoder.g.cs").SourceText.ToString();

            // An unrelated edit: the weight file is not read again and the baked source is reused.
            CSharpCompilation edited = Replace(compilation, "Source1.cs", Unrelated.Replace("x * 2", "x + x", StringComparison.Ordinal));
            GeneratorDriver second = driver.RunGenerators(edited, TestContext.Current.CancellationToken);
            AssertReasons(second.GetRunResult().Results.Single(), [TrackingNames.WeightFiles, TrackingNames.Bake, TrackingNames.EmitBaked], Reused);

            // The file changes (one weight, re-checksummed): the bake and the source are recomputed.
            Assert.True(EdgeAe.IO.Format.WeightFileFormat.TryParse(original, out EdgeAe.IO.Format.WeightFileData? data, out string error), error);
            data!.Parameters[0] = 0.5f;
            File.WriteAllBytes(path, EdgeAe.IO.Format.WeightFileFormat.Write(data));
            GeneratorDriver third = second.ReplaceAdditionalText(text, new WeightFileText(path)).RunGenerators(edited, TestContext.Current.CancellationToken);
            GeneratorRunResult result = third.GetRunResult().Results.Single();
            foreach (string step in new[] { TrackingNames.WeightFiles, TrackingNames.Bake, TrackingNames.EmitBaked })
            {
                IncrementalStepRunReason[] reasons = Outputs(result, step).Select(o => o.Reason).ToArray();
                Assert.True(reasons.Contains(IncrementalStepRunReason.Modified), $"{step}: expected Modified, got [{string.Join(", ", reasons)}]");
            }

            string changed = result.GeneratedSources.Single(s => s.HintName == "Demo.Baked.Autoencoder.g.cs").SourceText.ToString();
            Assert.NotEqual(first, changed);
            Assert.Contains("0.5f,", changed, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Step_outputs_hold_no_symbols_syntax_compilations_or_locations()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun();
        var results = new List<GeneratorRunResult> { driver.GetRunResult().Results.Single() };
        results.Add(Rerun(driver, Replace(compilation, "Source0.cs", Model.Replace("[Code(4,", "[Code(5,", StringComparison.Ordinal))));

        var found = new List<string>();
        int walked = 0;
        foreach (GeneratorRunResult result in results)
        {
            foreach (string step in StepNames)
            {
                foreach ((object value, IncrementalStepRunReason _) in Outputs(result, step))
                {
                    walked++;
                    found.AddRange(ObjectGraph.FindForbidden(value, step));
                }
            }
        }

        Assert.True(walked >= 10, $"Only {walked} step outputs were walked");
        Assert.True(found.Count == 0, "Pipeline values hold Roslyn objects:" + Environment.NewLine + string.Join(Environment.NewLine, found));
    }

    [Fact]
    public void The_object_graph_walk_finds_roslyn_objects_deep_inside_values()
    {
        SyntaxNode node = CSharpSyntaxTree.ParseText("class C { }", cancellationToken: TestContext.Current.CancellationToken).GetRoot(TestContext.Current.CancellationToken);
        Assert.NotEmpty(ObjectGraph.FindForbidden((Spec: 1, Where: Location.None)));
        Assert.NotEmpty(ObjectGraph.FindForbidden(new object[] { 1, "x", new List<object> { node } }));
        Assert.NotEmpty(ObjectGraph.FindForbidden(ImmutableArray.Create<object>(GeneratorHarness.CreateCompilation())));
        Assert.Empty(ObjectGraph.FindForbidden((Name: "Demo", Widths: new[] { 1, 2 }, Span: node.Span)));
    }

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Model, Broken, Unrelated);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation, TestContext.Current.CancellationToken);
        GeneratorRunResult first = driver.GetRunResult().Results.Single();
        Assert.Null(first.Exception);
        Assert.Single(first.GeneratedSources, s => s.HintName == "Demo.Cached.Autoencoder.g.cs");
        return (driver, compilation);
    }

    private static GeneratorRunResult Rerun(GeneratorDriver driver, CSharpCompilation compilation)
    {
        GeneratorRunResult result = driver.RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        return result;
    }

    private static CSharpCompilation Replace(CSharpCompilation compilation, string path, string text)
    {
        SyntaxTree old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path));
    }

    private static int BrokenLine(GeneratorRunResult result)
        => result.Diagnostics.Single(d => d.Id == "EAE0001").Location.GetLineSpan().StartLinePosition.Line;

    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRunResult result, string step)
        => result.TrackedSteps.TryGetValue(step, out ImmutableArray<IncrementalGeneratorRunStep> runs)
            ? runs.SelectMany(r => r.Outputs)
            : [];

    private static void AssertReasons(GeneratorRunResult result, IEnumerable<string> steps, IncrementalStepRunReason[] allowed)
    {
        var problems = new List<string>();
        foreach (string step in steps)
        {
            (object Value, IncrementalStepRunReason Reason)[] outputs = Outputs(result, step).ToArray();
            if (outputs.Length == 0 && step is TrackingNames.Spec or TrackingNames.Emit)
            {
                problems.Add($"{step}: no tracked outputs");
            }

            problems.AddRange(outputs.Where(o => !allowed.Contains(o.Reason)).Select(o => $"{step}: {o.Reason} {o.Value}"));
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
