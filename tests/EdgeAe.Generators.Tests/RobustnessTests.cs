using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Tests;

/// <summary>Odd and broken declarations: the generator never throws, and reports what the declaration deserves.</summary>
public sealed class RobustnessTests
{
    public static TheoryData<string, string, string[]> WeirdDeclarations => new()
    {
        {
            "negative widths",
            """
            [Autoencoder(Input = 8)]
            [Encoder(-1, Activation.Relu)]
            [Code(-2, Activation.Sigmoid)]
            [Decoder(-3, Activation.Relu)]
            [Output(-4, Activation.Sigmoid)]
            public partial class M;
            """,
            ["EAE0002", "EAE0002", "EAE0002", "EAE0002"]
        },
        {
            "huge widths",
            """
            [Autoencoder(Input = 100000, Loss = Loss.SquaredError)]
            [Encoder(100000, Activation.Relu)]
            [Code(100000, Activation.Linear)]
            [Output(Activation.Linear)]
            public partial class M;
            """,
            ["EAE0012"]
        },
        {
            "int.MaxValue widths whose parameter count overflows a long",
            """
            [Autoencoder(Input = int.MaxValue, Loss = Loss.SquaredError)]
            [Encoder(int.MaxValue, Activation.Relu)]
            [Code(int.MaxValue, Activation.Linear)]
            [Decoder(int.MaxValue, Activation.Relu)]
            [Output(Activation.Linear)]
            public partial class M;
            """,
            ["EAE0012"]
        },
        {
            "activations out of range",
            """
            [Autoencoder(Input = 8)]
            [Encoder(6, (Activation)9)]
            [Code(4, Activation.Sigmoid)]
            [Output((Activation)9)]
            public partial class M;
            """,
            ["EAE0010", "EAE0010"]
        },
        {
            "missing Input",
            """
            [Autoencoder]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            ["EAE0001"]
        },
        {
            "everything missing",
            """
            [Autoencoder]
            public class M<T>;
            """,
            ["EAE0001", "EAE0003", "EAE0004", "EAE0007", "EAE0009"]
        },
        {
            "a struct (AttributeUsage forbids it)",
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial struct M;
            """,
            []
        },
        {
            "a record struct (AttributeUsage forbids it)",
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial record struct M;
            """,
            []
        },
        {
            "a layer attribute missing its activation (CS7036)",
            """
            [Autoencoder(Input = 8)]
            [Code(4)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            [] // the compiler's error names it; the generator adds nothing and generates nothing
        },
        {
            "a non-constant width (CS0120)",
            """
            [Autoencoder(Input = 8)]
            [Code(M.Width, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M { public int Width = 4; }
            """,
            [] // the compiler's error names it; the generator adds nothing and generates nothing
        },
        {
            "two code layers (CS0579)",
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Code(2, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            []
        },
    };

    [Theory]
    [MemberData(nameof(WeirdDeclarations))]
    public void Generator_never_throws_and_reports_what_the_declaration_deserves(string description, string declaration, string[] expectedIds)
    {
        GeneratorRun run = GeneratorHarness.Run("using EdgeAe;\n\nnamespace Demo;\n\n" + declaration);
        run.AssertGeneratorDidNotThrow();

        string[] ids = run.GeneratorDiagnostics.Select(d => d.Id).Order(StringComparer.Ordinal).ToArray();
        Assert.True(expectedIds.SequenceEqual(ids), $"{description}: expected [{string.Join(", ", expectedIds)}], got [{string.Join(", ", ids)}]");
        Diagnostic[] generatedErrors = run.DiagnosticsInGeneratedCode.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(generatedErrors.Length == 0, $"{description}: errors in generated code:{Environment.NewLine}{string.Join(Environment.NewLine, generatedErrors.Select(d => d.ToString()))}");
        if (expectedIds.Length > 0)
        {
            Assert.Empty(run.ModelSources);
        }
    }

    [Fact]
    public void Struct_gets_the_compilers_CS0592_and_nothing_from_the_generator()
    {
        GeneratorRun run = GeneratorHarness.Run(
            """
            using EdgeAe;
            namespace Demo;
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial struct S;
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Contains(run.OutputDiagnostics, d => d.Id == "CS0592");
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.ModelSources);
    }

    [Fact]
    public void Partial_class_split_over_two_files_generates_one_model_that_compiles()
    {
        GeneratorRun run = GeneratorHarness.Run(
            """
            using EdgeAe;
            namespace Demo;
            [Autoencoder(Input = 8, Loss = Loss.SquaredError, Seed = 2)]
            [Encoder(6, Activation.Tanh)]
            public partial class Split
            {
                public string Describe() => "split " + InputSize;
            }
            """,
            """
            using EdgeAe;
            namespace Demo;
            [Code(3, Activation.Linear)]
            [Decoder(6, Activation.Relu)]
            [Output(Activation.Linear)]
            public partial class Split;
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.ModelSources);
        Assert.Empty(run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        LayerInfo[] layers = GeneratorHarness.WithModel(run, "Demo.Split", model => model.Topology.Layers.ToArray());
        Assert.Equal(4, layers.Length);
        Assert.Equal((LayerRole.Encoder, 8, 6, ActivationKind.Tanh), (layers[0].Role, layers[0].InputWidth, layers[0].Width, layers[0].Activation));
    }

    [Fact]
    public void Type_named_with_a_keyword_generates_code_that_compiles()
    {
        GeneratorRun run = GeneratorHarness.Run(
            """
            using EdgeAe;
            namespace Demo.@event;
            [Autoencoder(Input = 4, Loss = Loss.SquaredError)]
            [Code(2, Activation.Linear)]
            [Output(Activation.Linear)]
            public partial class @class;
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal("Demo.event.class.Autoencoder.g.cs", Assert.Single(run.ModelSources).HintName);
        Assert.Empty(run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Equal("Demo.event.class", GeneratorHarness.WithModel(run, "Demo.event.class", model => model.Topology.Name));
    }
}
