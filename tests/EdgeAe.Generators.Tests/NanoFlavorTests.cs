using System.Reflection;
using EdgeAe.Tests;
using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// The firmware flavour: compiles against nanoFramework's own mscorlib with zero diagnostics, computes
/// what the desktop flavour computes, trains on the device with correct gradients, and states its footprint.
/// </summary>
public sealed class NanoFlavorTests
{
    private const string Prelude = "using EdgeAe;\n\nnamespace Device;\n\n";

    public static readonly TheoryData<string, bool> Topologies = Cases();

    private static readonly Dictionary<string, string> Declarations = new()
    {
        ["UnderComplete"] = """
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1{0})]
            [Code(16, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class UnderComplete;
            """,
        ["OverComplete"] = """
            [Autoencoder(Input = 16, Loss = Loss.BinaryCrossEntropy, Seed = 2{0})]
            [Code(32, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class OverComplete;
            """,
        ["Deep"] = """
            [Autoencoder(Input = 12, Loss = Loss.BinaryCrossEntropy, Seed = 3{0})]
            [Encoder(10, Activation.Relu)]
            [Encoder(8, Activation.Tanh)]
            [Code(4, Activation.Sigmoid)]
            [Decoder(8, Activation.Linear)]
            [Decoder(10, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class Deep;
            """,
        ["Tied"] = """
            [Autoencoder(Input = 10, Loss = Loss.SquaredError, Seed = 4, TiedWeights = true{0})]
            [Encoder(6, Activation.Tanh)]
            [Code(3, Activation.Sigmoid)]
            [Decoder(6, Activation.Relu)]
            [Output(Activation.Linear)]
            public partial class Tied;
            """,
    };

    [Theory]
    [MemberData(nameof(Topologies))]
    public void Compiles_against_nanoFrameworks_mscorlib_with_zero_diagnostics(string name, bool training)
    {
        GeneratorRun run = NanoHarness.RunAgainstNanoFramework("NanoFramework", Declaration(name, training));
        run.AssertGeneratorDidNotThrow();
        Diagnostic[] problems = NanoHarness.Problems(run);
        Assert.True(problems.Length == 0, GeneratorHarness.DescribeFailure(run, problems));
        string source = run.ModelSource("Device." + name);
        Assert.DoesNotContain("global::System.Span", source);
        Assert.DoesNotContain("global::System.ReadOnlySpan", source);
        Assert.DoesNotContain("global::System.Math", source);
        Assert.DoesNotContain("GeneratedCode(", source);
        Assert.Equal(training, source.Contains("public float TrainStep(float[] input, float learningRate)", StringComparison.Ordinal));
    }

    [Fact]
    public void The_firmware_check_rejects_code_nanoFramework_cannot_run()
    {
        // Proves the check above can fail: Span<T> and System.Math do not exist in nanoFramework's mscorlib.
        GeneratorRun run = NanoHarness.RunAgainstNanoFramework(
            "NanoFramework",
            """
            public static class UsesDesktopApis
            {
                public static float Exp(float x) => (float)System.Math.Exp(x);
                public static float First(System.Span<float> values) => values[0];
            }
            """);
        string[] errors = run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).Distinct().ToArray();
        Assert.Contains("CS0234", errors);
    }

    [Fact]
    public void Without_the_property_the_flavour_is_detected_from_the_compilation()
    {
        GeneratorRun nano = NanoHarness.RunAgainstNanoFramework(null, Declaration("UnderComplete", false));
        Assert.Empty(NanoHarness.Problems(nano));
        Assert.DoesNotContain("IAutoencoder", nano.ModelSource("Device.UnderComplete"));

        GeneratorRun desktop = NanoHarness.RunAgainstDesktop(null, Declaration("UnderComplete", false));
        Assert.Contains(": Ae.IAutoencoder", desktop.ModelSource("Device.UnderComplete"));
    }

    [Fact]
    public void NanoFramework_is_recognised_by_its_core_library_even_once_it_has_span()
    {
        // nanoFramework's development branch adds Span<T>: a compilation against its mscorlib that also has
        // System.Span<T> (declared here, as a future mscorlib would) is still the firmware flavour.
        const string span = """
            namespace System
            {
                public readonly ref struct Span<T>
                {
                }
            }
            """;
        GeneratorRun nano = NanoHarness.RunAgainstNanoFramework(null, Declaration("UnderComplete", false), span);
        Assert.NotNull(nano.Output.GetTypeByMetadataName("System.SpanByte"));
        Assert.NotNull(nano.Output.GetTypeByMetadataName("System.Span`1"));
        Assert.Empty(NanoHarness.Problems(nano));
        Assert.DoesNotContain("IAutoencoder", nano.ModelSource("Device.UnderComplete"));
        Assert.Contains("(NanoFramework flavour)", nano.ModelSource("Device.UnderComplete"));
    }

    [Fact]
    public void A_desktop_project_that_declares_a_SpanByte_stays_desktop()
    {
        const string spanByte = """
            namespace System
            {
                public struct SpanByte
                {
                }
            }
            """;
        GeneratorRun desktop = NanoHarness.RunAgainstDesktop(null, Declaration("UnderComplete", false), spanByte);
        Assert.Contains("(Desktop flavour)", desktop.ModelSource("Device.UnderComplete"));
        Assert.Contains(": Ae.IAutoencoder", desktop.ModelSource("Device.UnderComplete"));
    }

    [Fact]
    public void An_unknown_target_is_an_error_naming_the_value()
    {
        GeneratorRun run = NanoHarness.RunAgainstDesktop("Arduino", Declaration("UnderComplete", false));
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "EAE0021");
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("'Arduino'", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Topologies))]
    public void Firmware_flavour_on_dotnet_matches_the_desktop_flavour(string name, bool training)
    {
        // Same declaration, both flavours compiled for .NET: same initial parameters bit for bit; codes,
        // reconstructions and losses within 2e-6 relative of the desktop's SIMD path (FMA, other summation
        // orders; see docs/math.md); and codes bit-identical to the desktop's portable encoder.
        string declaration = Declaration(name, training);
        GeneratorRun desktopRun = NanoHarness.RunAgainstDesktop("Desktop", declaration);
        GeneratorRun nanoRun = NanoHarness.RunAgainstDesktop("NanoFramework", declaration);
        Assert.Empty(NanoHarness.Problems(nanoRun));

        var inputs = Enumerable.Range(0, 8).Select(s => RandomInput(name, s)).ToArray();
        var desktop = GeneratorHarness.WithModel(desktopRun, "Device." + name, model =>
        {
            var results = new List<(float[] Parameters, float[] Code, float[] Output, float Loss, float[] Portable)>();
            foreach (float[] input in inputs)
            {
                var code = new float[model.Topology.CodeSize];
                var portable = new float[model.Topology.CodeSize];
                var output = new float[input.Length];
                model.Encode(input, code);
                model.EncodePortable(input, portable);
                float loss = model.Reconstruct(input, output);
                results.Add((model.Parameters.ToArray(), code, output, loss, portable));
            }

            return results;
        });

        float[][] Run() => NanoHarness.WithAssembly(nanoRun, assembly =>
        {
            NanoModel model = NanoModel.Create(assembly, "Device." + name);
            var flat = new List<float>();
            for (int s = 0; s < inputs.Length; s++)
            {
                var code = new float[model.Constant("CodeSize")];
                var output = new float[inputs[s].Length];
                model.Encode(inputs[s], code);
                float loss = model.Reconstruct(inputs[s], output);
                Assert.Equal(desktop[s].Parameters, model.Parameters);
                AssertClose(desktop[s].Code, code, $"{name} code {s}");

                // The desktop's portable encoder computes exactly what the device computes.
                Assert.Equal(desktop[s].Portable.Select(BitConverter.SingleToInt32Bits), code.Select(BitConverter.SingleToInt32Bits));
                AssertClose(desktop[s].Output, output, $"{name} output {s}");
                AssertClose([desktop[s].Loss], [loss], $"{name} loss {s}");
                flat.AddRange(code);
                flat.AddRange(output);
                flat.Add(loss);
            }

            return new[] { flat.ToArray() };
        });

        // Bit-identical to itself across runs (fresh assembly, fresh instance).
        float[] first = Run()[0];
        float[] second = Run()[0];
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), second.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData("Deep")]
    [InlineData("Tied")]
    [InlineData("UnderComplete")]
    public void On_device_gradients_match_central_finite_differences_of_the_reference(string name)
    {
        string declaration = Declaration(name, training: true);
        ModelTopology topology = GeneratorHarness.WithModel(NanoHarness.RunAgainstDesktop("Desktop", declaration), "Device." + name, m => m.Topology);
        GeneratorRun nanoRun = NanoHarness.RunAgainstDesktop("NanoFramework", declaration);
        NanoHarness.WithAssembly(nanoRun, assembly =>
        {
            NanoModel model = NanoModel.Create(assembly, "Device." + name);
            var random = new Random(5);
            float[] p = model.Parameters;
            foreach (LayerInfo layer in topology.Layers)
            {
                for (int j = 0; j < layer.Width; j++)
                {
                    p[layer.BiasOffset + j] = (float)(random.NextDouble() - 0.5) * 0.4f;
                }
            }

            double[] parameters = p.Select(v => (double)v).ToArray();
            float[] input = RandomInput(name, 11);
            float[] target = RandomInput(name, 12);
            model.ZeroGradients();
            float loss = model.AccumulateGradients(input, target);
            double[] input64 = input.Select(v => (double)v).ToArray();
            double[] target64 = target.Select(v => (double)v).ToArray();
            double reference = ReferenceModel.Loss(topology, parameters, input64, target64);
            Assert.True(Math.Abs(loss - reference) <= 1e-5 * Math.Max(1, Math.Abs(reference)), $"loss {loss} vs {reference}");

            double[] expected = ReferenceModel.FiniteDifferenceGradient(topology, parameters, input64, target64);
            float[] actual = model.Gradients;
            foreach (LayerInfo layer in topology.Layers)
            {
                IEnumerable<int> owned = Enumerable.Range(layer.BiasOffset, layer.Width);
                if (!layer.IsTied)
                {
                    owned = owned.Concat(Enumerable.Range(layer.WeightOffset, layer.WeightCount));
                }

                foreach (int k in owned)
                {
                    double error = Math.Abs(actual[k] - expected[k]) / Math.Max(Math.Max(Math.Abs(expected[k]), Math.Abs(actual[k])), 1e-4);
                    Assert.True(error < 1e-3, $"{name} [{k}]: analytical {actual[k]:R} vs finite difference {expected[k]:R}");
                }
            }

            // And the on-device SGD step learns: the loss on a sample falls over a few steps.
            float before = model.TrainStep(input, 0.05f);
            float after = before;
            for (int step = 0; step < 50; step++)
            {
                after = model.TrainStep(input, 0.05f);
            }

            Assert.True(after < 0.9f * before, $"loss {before} → {after}");
            return 0;
        });
    }

    [Fact]
    public void Wrong_lengths_and_nulls_are_rejected_naming_the_parameter()
    {
        GeneratorRun run = NanoHarness.RunAgainstDesktop("NanoFramework", Declaration("UnderComplete", false));
        NanoHarness.WithAssembly(run, assembly =>
        {
            NanoModel model = NanoModel.Create(assembly, "Device.UnderComplete");
            var wrong = Assert.Throws<ArgumentException>(() => model.Encode(new float[63], new float[16]));
            Assert.Equal("input", wrong.ParamName);
            Assert.Contains("Expected 64 floats in 'input' but found 63", wrong.Message);
            var missing = Assert.Throws<ArgumentNullException>(() => model.Encode(new float[64], null!));
            Assert.Equal("code", missing.ParamName);
            return 0;
        });
    }

    [Fact]
    public void Footprint_constants_state_ram_and_flash()
    {
        // UnderComplete: parameters 64·16 + 16 + 16·64 + 64 = 2128 floats (no padding needed); inference workspace
        // 16 + 64 activations and 64 pre-activations = 144 floats; code scratch 16 floats; 12 bytes per array.
        GeneratorRun run = NanoHarness.RunAgainstDesktop("NanoFramework", Declaration("UnderComplete", false));
        NanoHarness.WithAssembly(run, assembly =>
        {
            NanoModel model = NanoModel.Create(assembly, "Device.UnderComplete");
            Assert.Equal(2128, model.Constant("ParameterBufferLength"));
            Assert.Equal(144, model.Constant("InferenceWorkspaceLength"));
            Assert.Equal((2128 + 144 + 16) * 4 + 3 * 12, model.Constant("RamBytes"));
            Assert.Equal(0, model.Constant("BakedDataFlashBytes"));
            return 0;
        });

        // With the packet codec: its per-value minimum and scale arrays, and (a sigmoid code has a known range)
        // the static range arrays it starts from: four arrays of CodeSize floats.
        GeneratorRun codec = NanoHarness.RunAgainstDesktop("NanoFramework", Declaration("UnderComplete", false).Replace("Seed = 1", "Seed = 1, CodeBits = 8", StringComparison.Ordinal));
        NanoHarness.WithAssembly(codec, assembly =>
        {
            NanoModel model = NanoModel.Create(assembly, "Device.UnderComplete");
            Assert.Equal((2128 + 144 + 16) * 4 + 3 * 12 + 4 * (16 * 4 + 12), model.Constant("RamBytes"));
            return 0;
        });

        GeneratorRun training = NanoHarness.RunAgainstDesktop("NanoFramework", Declaration("UnderComplete", true));
        NanoHarness.WithAssembly(training, assembly =>
        {
            NanoModel model = NanoModel.Create(assembly, "Device.UnderComplete");
            int workspace = model.Constant("TrainingWorkspaceLength");
            Assert.Equal((2 * 2128 + workspace + 16) * 4 + 4 * 12, model.Constant("RamBytes"));
            return 0;
        });
    }

    private static string Declaration(string name, bool training)
        => Prelude + Declarations[name].Replace("{0}", training ? ", OnDeviceTraining = true" : string.Empty, StringComparison.Ordinal);

    private static float[] RandomInput(string name, int seed)
    {
        int width = name switch { "UnderComplete" => 64, "OverComplete" => 16, "Deep" => 12, _ => 10 };
        var random = new Random(seed);
        return Enumerable.Range(0, width)
            .Select(_ => name == "Tied" ? (float)(random.NextDouble() * 3 - 1.5) : (float)random.NextDouble())
            .ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = 2e-6 * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound, $"{what}[{i}]: firmware {actual[i]:R} vs desktop {expected[i]:R}");
        }
    }

    private static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in new[] { "UnderComplete", "OverComplete", "Deep", "Tied" })
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }
}
