using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Tests;

/// <summary>Valid declarations compile without a single warning (nullable on, every warning wave) and run.</summary>
public sealed class CompileAndRunTests
{
    public static TheoryData<string, string, int, int> Topologies => new()
    {
        {
            "UnderComplete",
            """
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1)]
            [Code(16, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class UnderComplete;
            """,
            64, 16
        },
        {
            "OverComplete",
            """
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 2)]
            [Code(128, Activation.Sigmoid)]
            [Output(64, Activation.Sigmoid)]
            public partial class OverComplete;
            """,
            64, 128
        },
        {
            "Deep",
            """
            [Autoencoder(Input = 32, Loss = Loss.BinaryCrossEntropy, Seed = 3)]
            [Encoder(24, Activation.Relu)]
            [Encoder(16, Activation.Tanh)]
            [Code(8, Activation.Sigmoid)]
            [Decoder(16, Activation.Linear)]
            [Decoder(24, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class Deep;
            """,
            32, 8
        },
        {
            "SquaredError",
            """
            [Autoencoder(Input = 12, Loss = Loss.SquaredError, Seed = -7)]
            [Encoder(10, Activation.Tanh)]
            [Code(4, Activation.Relu)]
            [Decoder(10, Activation.Sigmoid)]
            [Output(Activation.Linear)]
            public sealed partial class SquaredError;
            """,
            12, 4
        },
    };

    [Theory]
    [MemberData(nameof(Topologies))]
    public void Compiles_without_warnings(string name, string declaration, int inputSize, int codeSize)
    {
        GeneratorRun run = GeneratorHarness.Run(Source(declaration));
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.ModelSources);
        Diagnostic[] warnings = run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(warnings.Length == 0, GeneratorHarness.DescribeFailure(run, warnings));
        Assert.Contains($"public const int InputSize = {inputSize};", run.ModelSource("Demo." + name), StringComparison.Ordinal);
        Assert.Contains($"public const int CodeSize = {codeSize};", run.ModelSource("Demo." + name), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Topologies))]
    public void Runs_and_gives_finite_outputs_of_the_declared_widths(string name, string declaration, int inputSize, int codeSize)
    {
        GeneratorRun run = GeneratorHarness.Run(Source(declaration));
        (float[] code, float[] reconstruction, float loss, int topologyInput) = GeneratorHarness.WithModel(run, "Demo." + name, model =>
        {
            float[] input = Enumerable.Range(0, inputSize).Select(i => (i % 5) / 4f).ToArray();
            float[] code = new float[codeSize];
            float[] output = new float[inputSize];
            model.Encode(input, code);
            float loss = model.Reconstruct(input, output);
            return (code, output, loss, model.Topology.InputSize);
        });

        Assert.Equal(inputSize, topologyInput);
        Assert.All(code, v => Assert.True(float.IsFinite(v)));
        Assert.All(reconstruction, v => Assert.True(float.IsFinite(v)));
        Assert.True(float.IsFinite(loss) && loss >= 0f, $"loss {loss}");
        Assert.Contains(code, v => v != 0f);
    }

    [Fact]
    public void Wrong_span_lengths_throw_ArgumentException_naming_the_parameter_and_both_lengths()
    {
        GeneratorRun run = GeneratorHarness.Run(Source(
            """
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1)]
            [Encoder(32, Activation.Relu)]
            [Code(16, Activation.Sigmoid)]
            [Decoder(32, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class LengthChecked;
            """));
        (ArgumentException? input, ArgumentException? code) = GeneratorHarness.WithModel(run, "Demo.LengthChecked", model => (
            Record.Exception(() => model.Encode(new float[63], new float[16])) as ArgumentException,
            Record.Exception(() => model.Encode(new float[64], new float[17])) as ArgumentException));

        Assert.NotNull(input);
        Assert.Equal("input", input.ParamName);
        Assert.Contains("Expected 64 floats in 'input' but found 63.", input.Message, StringComparison.Ordinal);
        Assert.NotNull(code);
        Assert.Equal("code", code.ParamName);
        Assert.Contains("Expected 16 floats in 'code' but found 17.", code.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_named_Ae_beside_types_named_like_the_runtimes_compiles_without_warnings_and_runs()
    {
        // The desktop file aliases EdgeAe as Ae (and Kernels, Unsafe, MemoryMarshal) and imports System inside the model's
        // namespace. A model called Ae — the name docs/diagnostics.md uses — failed with 42 CS0576 errors in generated code,
        // and a Span<T> of the user's namespace replaced System.Span<T> in every signature. A name the namespace declares
        // now gets no directive and stays global::-qualified; the others keep their short names.
        GeneratorRun run = GeneratorHarness.Run(Source(
            """
            [Autoencoder(Input = 16, Loss = Loss.SquaredError, Seed = 4, TiedWeights = true, CodeBits = 8)]
            [Encoder(8, Activation.Relu)]
            [Code(4, Activation.Sigmoid)]
            [Decoder(8, Activation.Tanh)]
            [Output(Activation.Linear)]
            public partial class Ae;

            internal static class Kernels;
            internal static class Unsafe;
            internal static class MemoryMarshal;
            internal static class Quantization;
            internal static class Compression;
            internal sealed class Span<T>;
            internal sealed class ReadOnlySpan<T>;
            internal sealed class GeneratedCodeAttribute : System.Attribute;
            """));
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Diagnostic[] warnings = run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(warnings.Length == 0, GeneratorHarness.DescribeFailure(run, warnings));
        string source = run.ModelSource("Demo.Ae");
        string[] usings = [.. source.Split('\n').Where(line => line.StartsWith("using ", StringComparison.Ordinal))];
        Assert.Equal(["using System;"], usings); // Array, MathF… still short; every alias name is taken
        Assert.Contains("partial class Ae : global::EdgeAe.IAutoencoder,", source, StringComparison.Ordinal);
        Assert.Contains("global::System.ReadOnlySpan<float> input", source, StringComparison.Ordinal);
        Assert.Contains("global::EdgeAe.Kernels.", source, StringComparison.Ordinal);
        Assert.Contains("[global::System.CodeDom.Compiler.GeneratedCode(", source, StringComparison.Ordinal);
        Assert.DoesNotContain(" ReadOnlySpan<float>", source, StringComparison.Ordinal);

        float loss = GeneratorHarness.WithModel(run, "Demo.Ae", model =>
        {
            float[] input = Enumerable.Range(0, 16).Select(i => (i % 5) / 4f).ToArray();
            model.Encode(input, new float[4]);
            return model.Reconstruct(input, new float[16]);
        });
        Assert.True(float.IsFinite(loss), $"loss {loss}");
    }

    [Fact]
    public void Members_of_the_model_named_like_the_runtimes_keep_their_names_qualified_and_the_rest_short()
    {
        string source = CompiledWithoutWarnings("Small",
            """
            [Autoencoder(Input = 8, Loss = Loss.BinaryCrossEntropy, Seed = 2)]
            [Code(3, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class Small
            {
                public static class Kernels;
                public int Array => 1;
            }
            """);
        Assert.Contains("using Ae = global::EdgeAe;", source, StringComparison.Ordinal);
        Assert.DoesNotContain("using Kernels", source, StringComparison.Ordinal);
        Assert.Contains(" Ae.Kernels.Dense.", source, StringComparison.Ordinal); // through the Ae alias, not the taken name
        Assert.DoesNotContain("global::EdgeAe", source.Replace("using Ae = global::EdgeAe;", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("partial class Small : Ae.IAutoencoder,", source, StringComparison.Ordinal);
        Assert.Contains("ReadOnlySpan<float> input", source, StringComparison.Ordinal);
        Assert.DoesNotContain("global::System.ReadOnlySpan", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_named_System_compiles_without_the_System_directives()
    {
        string source = CompiledWithoutWarnings("System",
            """
            [Autoencoder(Input = 8, Loss = Loss.BinaryCrossEntropy, Seed = 2)]
            [Code(3, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class System;
            """);
        Assert.DoesNotContain("using System", source, StringComparison.Ordinal);
        Assert.Contains("using Kernels = global::EdgeAe.Kernels;", source, StringComparison.Ordinal);
        Assert.Contains("global::System.ReadOnlySpan<float> input", source, StringComparison.Ordinal);
    }

    /// <summary>The generated source of the model <c>Demo.</c><paramref name="model"/>, after checking it compiles without warnings.</summary>
    private static string CompiledWithoutWarnings(string model, string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run(Source(declaration));
        run.AssertGeneratorDidNotThrow();
        Diagnostic[] warnings = run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(warnings.Length == 0, GeneratorHarness.DescribeFailure(run, warnings));
        return run.ModelSource("Demo." + model);
    }

    private static string Source(string declaration) => "using EdgeAe;\n\nnamespace Demo;\n\n" + declaration;
}
