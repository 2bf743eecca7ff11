using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// One test per EdgeAe diagnostic: its ID, severity, message (naming the attribute and value) and the
/// exact span it squiggles; a broken declaration yields that diagnostic only, no source for the type,
/// and no compiler error inside generated code.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Prelude = "using EdgeAe;\n\nnamespace Demo;\n\n";

    [Fact]
    public void EAE0001_input_not_positive_squiggles_the_named_argument()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder([|Input = 0|], Loss = Loss.BinaryCrossEntropy, Seed = 1)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0001",
            "[Autoencoder] Input must be a positive width; found 0",
            typeName: "M");

    [Fact]
    public void EAE0001_negative_input_with_stated_output_width()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder([|Input = -8|])]
            [Code(4, Activation.Sigmoid)]
            [Output(8, Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0001",
            "[Autoencoder] Input must be a positive width; found -8",
            typeName: "M");

    [Fact]
    public void EAE0001_missing_input_squiggles_the_whole_attribute()
        => AssertOnlyDiagnostic(
            """
            [[|Autoencoder(Seed = 3)|]]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0001",
            "[Autoencoder] Input must be a positive width; found 0",
            typeName: "M");

    [Fact]
    public void EAE0002_layer_width_not_positive_squiggles_the_width()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code([|0|], Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0002",
            "[Code] width must be positive; found 0",
            typeName: "M");

    [Fact]
    public void EAE0002_negative_encoder_width()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Encoder([|-3|], Activation.Relu)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0002",
            "[Encoder] width must be positive; found -3",
            typeName: "M");

    [Fact]
    public void EAE0003_missing_code_layer_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Encoder(4, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class [|NoCode|];
            """,
            "EAE0003",
            "'NoCode' declares no [Code] layer; an autoencoder needs exactly one [Code(width, activation)]",
            typeName: "NoCode");

    [Fact]
    public void EAE0004_missing_output_layer_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            public partial class [|NoOutput|];
            """,
            "EAE0004",
            "'NoOutput' declares no [Output] layer; add [Output(activation)] after the decoder layers",
            typeName: "NoOutput");

    [Fact]
    public void EAE0005_output_width_mismatch_squiggles_the_stated_width()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy)]
            [Code(16, Activation.Sigmoid)]
            [Output([|32|], Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0005",
            "[Output] width is 32 but [Autoencoder] Input is 64; an autoencoder reconstructs its input, so both must be equal",
            typeName: "M");

    [Fact]
    public void EAE0006_cross_entropy_without_sigmoid_squiggles_the_output_activation()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy)]
            [Code(16, Activation.Sigmoid)]
            [Output([|Activation.Relu|])]
            public partial class M;
            """,
            "EAE0006",
            "Loss.BinaryCrossEntropy needs [Output(Activation.Sigmoid)]; found Activation.Relu (use Loss.SquaredError for other outputs)",
            typeName: "M");

    [Fact]
    public void EAE0006_default_loss_is_cross_entropy_and_width_form_squiggles_the_activation()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(8, [|Activation.Tanh|])]
            public partial class M;
            """,
            "EAE0006",
            "Loss.BinaryCrossEntropy needs [Output(Activation.Sigmoid)]; found Activation.Tanh (use Loss.SquaredError for other outputs)",
            typeName: "M");

    [Fact]
    public void EAE0007_non_partial_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public class [|Plain|];
            """,
            "EAE0007",
            "'Plain' must be declared partial so that EdgeAe can generate its members",
            typeName: "Plain");

    [Fact]
    public void EAE0008_nested_squiggles_the_inner_type_name()
        => AssertOnlyDiagnostic(
            """
            public partial class Outer
            {
                [Autoencoder(Input = 8)]
                [Code(4, Activation.Sigmoid)]
                [Output(Activation.Sigmoid)]
                public partial class [|Inner|];
            }
            """,
            "EAE0008",
            "'Inner' is nested in 'Outer'; declare the autoencoder as a top-level type in a namespace",
            typeName: "Inner");

    [Fact]
    public void EAE0009_generic_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class [|Generic|]<T>;
            """,
            "EAE0009",
            "'Generic' is generic; an autoencoder type must not have type parameters",
            typeName: "Generic");

    [Fact]
    public void EAE0010_unknown_activation_squiggles_the_cast()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, [|(Activation)9|])]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0010",
            "[Code] activation value 9 is not a member of EdgeAe.Activation (Linear, Sigmoid, Tanh, Relu)",
            typeName: "M");

    [Fact]
    public void EAE0010_unknown_output_activation_is_not_also_a_cross_entropy_error()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8, Loss = Loss.BinaryCrossEntropy)]
            [Code(4, Activation.Sigmoid)]
            [Output([|(Activation)(-1)|])]
            public partial class M;
            """,
            "EAE0010",
            "[Output] activation value -1 is not a member of EdgeAe.Activation (Linear, Sigmoid, Tanh, Relu)",
            typeName: "M");

    [Fact]
    public void EAE0011_unknown_loss_squiggles_the_named_argument()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8, [|Loss = (Loss)7|])]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0011",
            "[Autoencoder] Loss value 7 is not a member of EdgeAe.Loss (BinaryCrossEntropy, SquaredError)",
            typeName: "M");

    [Fact]
    public void EAE0022_unknown_initialization_squiggles_the_named_argument()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8, [|Initialization = (Initialization)5|])]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0022",
            "[Autoencoder] Initialization value 5 is not a member of EdgeAe.Initialization (GlorotHe, UniformFanIn)",
            typeName: "M");

    [Fact]
    public void EAE0023_code_bits_other_than_0_8_16_squiggle_the_named_argument()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8, [|CodeBits = 12|])]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0023",
            "[Autoencoder] CodeBits must be 0 (no packet codec), 8 or 16; found 12",
            typeName: "M");

    [Fact]
    public void EAE0012_model_too_large_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 100000, Loss = Loss.SquaredError)]
            [Code(100000, Activation.Linear)]
            [Output(Activation.Linear)]
            public partial class [|Huge|];
            """,
            "EAE0012",
            "'Huge' needs 20000200000 parameters and 25600000 batch workspace floats (MaxBatch = 64 samples of 400000); EdgeAe supports at most 268435456 of each per model",
            typeName: "Huge");

    [Theory]
    [InlineData("", "200000 workspace floats")]
    [InlineData(", OnDeviceTraining = true", "400000 workspace floats with on-device training")]
    public void EAE0012_on_the_firmware_counts_one_samples_workspace_not_a_batch_workspace(string training, string workspace)
        => AssertOnlyDiagnostic(
            $$"""
            [Autoencoder(Input = 100000, Loss = Loss.SquaredError{{training}})]
            [Code(100000, Activation.Linear)]
            [Output(Activation.Linear)]
            public partial class [|Huge|];
            """,
            "EAE0012",
            $"'Huge' needs 20000200000 parameters and {workspace}; EdgeAe supports at most 268435456 of each per model",
            typeName: "Huge",
            generate: source => NanoHarness.RunAgainstNanoFramework(null, source));

    [Fact]
    public void EAE0012_a_batch_workspace_too_large_for_the_desktop_is_no_limit_for_the_firmware()
    {
        // 33.5 million parameters (below 2²⁸), 16384 workspace floats per sample: 2³⁰ for batches of 65536.
        const string declaration = Prelude + """
            [Autoencoder(Input = 4096, Loss = Loss.SquaredError, MaxBatch = 65536)]
            [Code(4096, Activation.Linear)]
            [Output(Activation.Linear)]
            public partial class Wide;
            """;
        Diagnostic desktop = Assert.Single(GeneratorHarness.Run(declaration).GeneratorDiagnostics);
        Assert.Equal(
            "'Wide' needs 33562624 parameters and 1073741824 batch workspace floats (MaxBatch = 65536 samples of 16384); EdgeAe supports at most 268435456 of each per model",
            desktop.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

        GeneratorRun firmware = NanoHarness.RunAgainstNanoFramework(null, declaration);
        Assert.Empty(firmware.GeneratorDiagnostics);
        Assert.Contains("public const int InferenceWorkspaceLength = 8192;", firmware.ModelSource("Demo.Wide"), StringComparison.Ordinal);
    }

    [Fact]
    public void EAE0013_abstract_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public abstract partial class [|Abstract|];
            """,
            "EAE0013",
            "'Abstract' is abstract; an autoencoder must be a class that is not static, abstract, file-local or a record",
            typeName: "Abstract");

    [Fact]
    public void EAE0013_static_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public static partial class [|Static|];
            """,
            "EAE0013",
            "'Static' is static; an autoencoder must be a class that is not static, abstract, file-local or a record",
            typeName: "Static");

    [Fact]
    public void EAE0013_record_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial record [|Rec|];
            """,
            "EAE0013",
            "'Rec' is a record; an autoencoder must be a class that is not static, abstract, file-local or a record",
            typeName: "Rec");

    [Fact]
    public void EAE0013_file_local_squiggles_the_type_name()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            file partial class [|Local|];
            """,
            "EAE0013",
            "'Local' is file-local; an autoencoder must be a class that is not static, abstract, file-local or a record",
            typeName: "Local");

    [Fact]
    public void EAE0014_layer_without_autoencoder_squiggles_the_first_layer_attribute_once()
        => AssertOnlyDiagnostic(
            """
            [[|Code(4, Activation.Sigmoid)|]]
            [Encoder(6, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class Orphan;
            """,
            "EAE0014",
            "'Orphan' has [Code] but no [Autoencoder] attribute, so no model is generated; add [Autoencoder(Input = …)]",
            typeName: "Orphan");

    [Fact]
    public void EAE0015_tied_weights_without_a_mirrored_decoder_squiggle_the_named_argument()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 16, [|TiedWeights = true|])]
            [Encoder(8, Activation.Relu)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class Tied;
            """,
            "EAE0015",
            "TiedWeights = true needs the decoder to mirror the encoder: the encoder side has 2 layer(s) up to and including the code, the decoder side 1 (hidden decoders and the output)",
            typeName: "Tied");

    [Fact]
    public void EAE0015_names_the_first_decoder_layer_whose_mirror_differs()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 16, [|TiedWeights = true|])]
            [Encoder(8, Activation.Relu)]
            [Code(4, Activation.Sigmoid)]
            [Decoder(6, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class Tied;
            """,
            "EAE0015",
            "TiedWeights = true needs the decoder to mirror the encoder: decoder layer 2 is 4 → 6 but its mirror, layer 1, is 8 → 4",
            typeName: "Tied");

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65537)]
    public void EAE0016_max_batch_outside_1_to_65536_squiggles_the_named_argument(int maxBatch)
        => AssertOnlyDiagnostic(
            $$"""
            [Autoencoder(Input = 8, [|MaxBatch = {{maxBatch}}|])]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class Batch;
            """,
            "EAE0016",
            $"[Autoencoder] MaxBatch must be between 1 and 65536; found {maxBatch}",
            typeName: "Batch");

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("./")]
    public void EAE0029_an_empty_weight_file_name_squiggles_the_named_argument_and_is_not_a_missing_file(string name)
        => AssertOnlyDiagnostic(
            $$"""
            [Autoencoder(Input = 8, [|Weights = "{{name}}"|])]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """,
            "EAE0029",
            $"[Autoencoder] Weights = \"{name}\" gives no file name; name the weight file to bake, such as Weights = \"model.eaw\", or leave Weights out to initialise the parameters from the seed",
            typeName: "M");

    [Theory]
    [InlineData("Int8", "the nested type 'Int8'")]
    [InlineData("Layer0", "the nested type 'Layer0'")]
    [InlineData("Layer1", "the nested type 'Layer1'")]
    [InlineData("SampleLayout", "the nested type 'SampleLayout'")]
    [InlineData("Topology", "the property 'Topology'")]
    [InlineData("InputSize", "the constant 'InputSize'")]
    [InlineData("Ws", "the method 'Ws'")]
    [InlineData("_workspace", "the field '_workspace'")]
    public void EAE0027_a_model_named_like_a_generated_member_squiggles_the_type_name(string name, string member)
        => AssertOnlyDiagnostic(
            $$"""
            [Autoencoder(Input = 8)]
            [Encoder(6, Activation.Relu)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class [|{{name}}|];
            """,
            "EAE0027",
            $"The model '{name}' is named like {member} that EdgeAe generates for the Desktop flavour; rename the model, for instance to '{name}Model'",
            typeName: name);

    [Theory]
    [InlineData("AnomalyWindow", "the nested type 'AnomalyWindow'", "")]
    [InlineData("Check", "the method 'Check'", "")]
    [InlineData("EdgeAeMath", "the file-local class 'EdgeAeMath' beside the model", "")]
    [InlineData("Backward", "the method 'Backward'", ", OnDeviceTraining = true")]
    [InlineData("SetCodeRange", "the method 'SetCodeRange'", ", CodeBits = 8")]
    public void EAE0027_on_the_firmware_checks_the_firmware_members(string name, string member, string options)
        => AssertOnlyDiagnostic(
            $$"""
            [Autoencoder(Input = 8{{options}})]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class [|{{name}}|];
            """,
            "EAE0027",
            $"The model '{name}' is named like {member} that EdgeAe generates for the NanoFramework flavour; rename the model, for instance to '{name}Model'",
            typeName: name,
            generate: source => NanoHarness.RunAgainstNanoFramework(null, source));

    [Theory]
    [InlineData("Int8", "NanoFramework")] // the desktop's int8 companion, not generated for the firmware
    [InlineData("Layer2", "Desktop")] // a model of two layers has no Layer2
    [InlineData("Backward", "NanoFramework")] // the firmware's backward pass exists only with on-device training
    [InlineData("AnomalyWindow", "Desktop")]
    [InlineData("Load", "Desktop")] // members the int8 companion inherits: the model's name is written qualified inside it
    [InlineData("Packed", "Desktop")]
    [InlineData("Codes", "Desktop")]
    [InlineData("Int8Rows", "Desktop")]
    public void A_model_named_like_a_member_generated_only_elsewhere_compiles(string name, string target)
    {
        string source = Prelude + $$"""
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class {{name}};
            """;
        GeneratorRun run = target == "Desktop" ? GeneratorHarness.Run(source) : NanoHarness.RunAgainstNanoFramework(null, source);
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Diagnostic[] problems = run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(problems.Length == 0, GeneratorHarness.DescribeFailure(run, problems));
        Assert.Single(run.ModelSources);
    }

    [Theory]
    [InlineData("public int [|Score|];", "field", "Score", "the method 'Score'")]
    [InlineData("public const int [|InputSize|] = 8;", "constant", "InputSize", "the constant 'InputSize'")]
    [InlineData("public void [|Topology|]() { }", "method", "Topology", "the property 'Topology'")]
    [InlineData("public class [|Int8|] { }", "nested type", "Int8", "the nested type 'Int8'")]
    [InlineData("public event System.Action? [|Layer0|];", "event", "Layer0", "the nested type 'Layer0'")]
    [InlineData("private float[] [|_parameters|] = new float[1];", "field", "_parameters", "the field '_parameters'")]
    public void EAE0028_a_member_named_like_a_generated_member_squiggles_the_members_name(string member, string kind, string name, string generated)
        => AssertOnlyDiagnostic(
            $$"""
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M
            {
                {{member}}
            }
            """,
            "EAE0028",
            $"'M' declares the {kind} '{name}', which clashes with {generated} that EdgeAe generates for the Desktop flavour; rename the {kind}",
            typeName: "M");

    [Fact]
    public void EAE0028_on_the_firmware_a_member_may_not_hide_the_generated_math_class()
        => AssertOnlyDiagnostic(
            """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M
            {
                public static int [|EdgeAeMath|] { get { return 1; } }
            }
            """,
            "EAE0028",
            "'M' declares the property 'EdgeAeMath', which clashes with the file-local class 'EdgeAeMath' beside the model that EdgeAe generates for the NanoFramework flavour; rename the property",
            typeName: "M",
            generate: source => NanoHarness.RunAgainstNanoFramework(null, source));

    [Fact]
    public void EAE0028_reports_each_clashing_member_of_every_part_of_the_class_and_a_clashing_model_name()
    {
        GeneratorRun run = GeneratorHarness.Run(
            Prelude + "[Autoencoder(Input = 8)]\n[Code(4, Activation.Sigmoid)]\n[Output(Activation.Sigmoid)]\npublic partial class Int8 { public int Score; }\n",
            Prelude + "public partial class Int8 { public int LayerCount => 2; }\n");
        run.AssertGeneratorDidNotThrow();
        Assert.Equal(
            ["EAE0027 Source0.cs Int8", "EAE0028 Source0.cs Score", "EAE0028 Source1.cs LayerCount"],
            run.GeneratorDiagnostics.Select(d => $"{d.Id} {d.Location.GetLineSpan().Path} {GeneratorHarness.SquiggledText(d, run.Output)}").Order(StringComparer.Ordinal));
        Assert.Empty(run.ModelSources);
        Assert.DoesNotContain(run.OutputDiagnostics, d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("EAE", StringComparison.Ordinal));
    }

    [Fact]
    public void A_method_named_like_a_generated_method_is_an_overload_not_a_clash()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            [Autoencoder(Input = 8)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M
            {
                public void Encode(float[] input, float[] code) => Encode(new System.ReadOnlySpan<float>(input), new System.Span<float>(code));
            }
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Diagnostic[] problems = run.OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(problems.Length == 0, GeneratorHarness.DescribeFailure(run, problems));
    }

    [Fact]
    public void Every_descriptor_is_an_error_with_a_unique_id_in_sequence()
    {
        string[] expected = Enumerable.Range(1, DiagnosticDescriptors.All.Count).Select(i => "EAE" + i.ToString("0000", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected, DiagnosticDescriptors.All.Select(d => d.Id).ToArray());
        Assert.All(DiagnosticDescriptors.All, d => Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity));
    }

    [Theory]
    [InlineData("[Code(16, Activation.Softmax)]", "CS0117")] // an unknown activation: the width used to read as 0 (EAE0002)
    [InlineData("[Code(\"16\", Activation.Sigmoid)]", "CS1503")]
    public void An_attribute_argument_the_compiler_rejects_gets_no_generator_diagnostic(string code, string compilerError)
    {
        // Issue 13 point 16: only the compiler's own error, no spurious "width must be positive; found 0".
        GeneratorRun run = GeneratorHarness.Run(Prelude + $"[Autoencoder(Input = 64)]\n{code}\n[Output(Activation.Sigmoid)]\npublic partial class M;\n");
        run.AssertGeneratorDidNotThrow();
        Diagnostic[] edgeAe = run.OutputDiagnostics.Concat(run.GeneratorDiagnostics).Where(d => d.Id.StartsWith("EAE", StringComparison.Ordinal)).ToArray();
        Assert.True(edgeAe.Length == 0, string.Join(Environment.NewLine, edgeAe.Select(d => d.ToString())));
        Assert.Contains(run.OutputDiagnostics, d => d.Id == compilerError);
        Assert.Empty(run.ModelSources);
    }

    [Fact]
    public void Other_problems_of_a_declaration_with_a_broken_attribute_are_still_reported()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + "[Autoencoder(Input = 0)]\n[Code(16, Activation.Softmax)]\n[Output(Activation.Sigmoid)]\npublic partial class M;\n");
        Assert.Equal(["EAE0001"], run.OutputDiagnostics.Concat(run.GeneratorDiagnostics).Where(d => d.Id.StartsWith("EAE", StringComparison.Ordinal)).Select(d => d.Id).Distinct());
    }

    /// <param name="generate">Runs the generator on the source; by default for the desktop.</param>
    private static void AssertOnlyDiagnostic(string markup, string id, string message, string typeName, Func<string, GeneratorRun>? generate = null)
    {
        (string body, Microsoft.CodeAnalysis.Text.TextSpan span) = Markup.Parse(markup);
        string source = Prelude + body;
        GeneratorRun run = (generate ?? (text => GeneratorHarness.Run(text)))(source);
        run.AssertGeneratorDidNotThrow();

        Diagnostic[] edgeAe = run.OutputDiagnostics.Concat(run.GeneratorDiagnostics)
            .Where(d => d.Id.StartsWith("EAE", StringComparison.Ordinal))
            .Distinct()
            .ToArray();
        Assert.True(edgeAe.Length == 1, $"Expected only {id}; got:{Environment.NewLine}{string.Join(Environment.NewLine, edgeAe.Select(d => d.ToString()))}");
        Diagnostic diagnostic = edgeAe[0];
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(source.Substring(Prelude.Length + span.Start, span.Length), GeneratorHarness.SquiggledText(diagnostic, run.Output));
        Assert.Equal(span.Start + Prelude.Length, diagnostic.Location.SourceSpan.Start);

        Assert.DoesNotContain(run.GeneratedSources, s => s.HintName.EndsWith("." + typeName + ".Autoencoder.g.cs", StringComparison.Ordinal));
        Assert.Empty(run.ModelSources);
        Diagnostic[] generatedErrors = run.DiagnosticsInGeneratedCode.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(generatedErrors.Length == 0, "Errors in generated code: " + string.Join(Environment.NewLine, generatedErrors.Select(d => d.ToString())));

        // The declaration itself is valid C#: the EdgeAe diagnostic must be the only error of the build.
        Diagnostic[] compilerErrors = run.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("EAE", StringComparison.Ordinal)).ToArray();
        Assert.True(compilerErrors.Length == 0, "Compiler errors: " + string.Join(Environment.NewLine, compilerErrors.Select(d => d.ToString())));
    }
}
