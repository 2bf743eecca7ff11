namespace EdgeAe.Generators.Tests;

// Inside the namespace, so the generator's model enums win over the runtime's EdgeAe.LossKind & co.
using System.Text.RegularExpressions;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Emitting;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

/// <summary>
/// What the generated comments state holds for the model they are generated for: a sentence true only of tied models,
/// of trainable ones or of float32 ones is not written for the others. Every flavour and weight file a declaration may
/// have is emitted (the emitter alone, hand-built weights).
/// </summary>
public sealed partial class GeneratedCommentTests
{
    private static readonly LayerSpec[] Untied =
    [
        new(0, LayerRole.Encoder, 8, 6, ActivationKind.Relu),
        new(1, LayerRole.Code, 6, 3, ActivationKind.Sigmoid),
        new(2, LayerRole.Decoder, 3, 6, ActivationKind.Tanh),
        new(3, LayerRole.Output, 6, 8, ActivationKind.Sigmoid),
    ];

    private static readonly LayerSpec[] Tied =
    [
        new(0, LayerRole.Encoder, 8, 6, ActivationKind.Tanh),
        new(1, LayerRole.Code, 6, 3, ActivationKind.Sigmoid),
        new(2, LayerRole.Decoder, 3, 6, ActivationKind.Relu, TiedTo: 1),
        new(3, LayerRole.Output, 6, 8, ActivationKind.Sigmoid, TiedTo: 0),
    ];

    [Fact]
    public void An_untied_model_claims_no_tied_layer_in_any_flavour()
    {
        foreach ((TopologySpec spec, TargetFlavor flavor, BakedWeights? baked, string source) in Models(tied: false))
        {
            string[] claims = Comments(source).Where(c => TiedWord().IsMatch(c)).ToArray();
            Assert.True(claims.Length == 0, $"{Describe(spec, flavor, baked)} speaks of tied layers:{Environment.NewLine}{string.Join(Environment.NewLine, claims)}");
        }
    }

    [Fact]
    public void A_tied_int8_firmware_model_says_its_decoder_keeps_its_own_int8_weights()
    {
        (_, _, _, string source) = Models(tied: true).First(m => m.Baked?.Int8 is not null);
        Assert.Contains("/// <para>Parameters: 155 (int8 weights, int32 biases; a tied decoder layer keeps its own int8 W).", source, StringComparison.Ordinal);
        Assert.Contains("a tied W counted once; this int8 model stores 155, every tied decoder layer with its own int8 W.", Summary(source, "public const int ParameterCount "), StringComparison.Ordinal);
    }

    [Fact]
    public void Only_a_model_with_a_gradient_buffer_speaks_of_gradients()
    {
        foreach ((TopologySpec spec, TargetFlavor flavor, BakedWeights? baked, string source) in Models(tied: false).Concat(Models(tied: true)))
        {
            bool gradients = source.Contains("_gradients", StringComparison.Ordinal);
            Assert.Equal(flavor == TargetFlavor.Desktop || spec.OnDeviceTraining, gradients);
            string[] mentions = Comments(source).Where(c => c.Contains("gradient", StringComparison.OrdinalIgnoreCase)).ToArray();
            Assert.True(gradients || mentions.Length == 0, $"{Describe(spec, flavor, baked)} has no gradients but says:{Environment.NewLine}{string.Join(Environment.NewLine, mentions)}");
        }
    }

    [Fact]
    public void The_int8_firmware_model_states_float_sizes_as_the_float32_models_and_offers_no_seeded_constructor()
    {
        foreach ((TopologySpec spec, TargetFlavor flavor, BakedWeights? baked, string source) in Models(tied: false).Concat(Models(tied: true)))
        {
            string name = spec.TypeName;
            bool seeded = source.Contains($"public {name}(int seed)", StringComparison.Ordinal);
            Assert.Equal(baked?.Int8 is null, seeded);
            if (!seeded)
            {
                Assert.DoesNotContain("(DeclaredSeed)", source, StringComparison.Ordinal);
                Assert.DoesNotContain("trainable", source, StringComparison.Ordinal);
                foreach (string constant in new[] { "ParameterBufferLength", "ParameterBytes", "InferenceWorkspaceLength" })
                {
                    Assert.Contains("float32 model", Summary(source, $"public const int {constant} "), StringComparison.Ordinal);
                }
            }
            else if (baked is not null)
            {
                Assert.Contains($"<c>new {name}(DeclaredSeed)</c>", Summary(source, "public const int DeclaredSeed "), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void The_firmware_ram_summary_names_the_arrays_the_model_has()
    {
        foreach ((TopologySpec spec, TargetFlavor flavor, BakedWeights? baked, string source) in Models(tied: false))
        {
            if (flavor != TargetFlavor.NanoFramework || baked?.Int8 is not null)
            {
                continue;
            }

            string ram = Summary(source, "public const int RamBytes ");
            string what = Describe(spec, flavor, baked) + ": " + ram;
            Assert.True(spec.HasCodec == ram.Contains("packet codec", StringComparison.Ordinal), what);
            Assert.True(spec.OnDeviceTraining == ram.Contains("gradients", StringComparison.Ordinal), what);
            Assert.True((baked is not null) == ram.Contains("baked", StringComparison.Ordinal), what);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_private_batch_helper_names_exactly_the_members_that_call_it(bool tied)
    {
        foreach ((TopologySpec spec, TargetFlavor flavor, BakedWeights? baked, string source) in Models(tied).Where(m => m.Flavor == TargetFlavor.Desktop))
        {
            ClassDeclarationSyntax model = CSharpSyntaxTree.ParseText(source, cancellationToken: TestContext.Current.CancellationToken)
                .GetCompilationUnitRoot(TestContext.Current.CancellationToken)
                .DescendantNodes().OfType<ClassDeclarationSyntax>().First(c => c.Identifier.ValueText == spec.TypeName);
            MethodDeclarationSyntax[] methods = model.Members.OfType<MethodDeclarationSyntax>().ToArray();
            foreach (string helper in new[] { "EncodeRows", "DecodeHiddenRows" })
            {
                MethodDeclarationSyntax? declaration = methods.FirstOrDefault(m => m.Identifier.ValueText == helper);
                if (declaration is null)
                {
                    Assert.True(tied && helper == "DecodeHiddenRows", $"{helper} is missing");
                    continue;
                }

                string summary = declaration.GetLeadingTrivia().ToFullString();
                string[] named = CallerList().Match(summary).Groups["callers"].Value.Split(", ");
                string[] callers = methods
                    .Where(m => m.DescendantNodes().OfType<InvocationExpressionSyntax>().Any(i => i.Expression is IdentifierNameSyntax { Identifier.ValueText: var called } && called == helper))
                    .Select(m => m.Identifier.ValueText).Distinct().Order(StringComparer.Ordinal).ToArray();
                Assert.True(named.Order(StringComparer.Ordinal).SequenceEqual(callers),
                    $"{Describe(spec, flavor, baked)}: {helper}'s summary names [{string.Join(", ", named)}], its callers are [{string.Join(", ", callers)}]");
            }
        }
    }

    /// <summary>Every form of the model: both flavours, each weight file it could bake, with and without training and a codec.</summary>
    private static IEnumerable<(TopologySpec Spec, TargetFlavor Flavor, BakedWeights? Baked, string Source)> Models(bool tied)
    {
        foreach (TargetFlavor flavor in new[] { TargetFlavor.Desktop, TargetFlavor.NanoFramework })
        {
            foreach (bool training in flavor == TargetFlavor.Desktop ? [false] : new[] { false, true })
            {
                foreach (int codeBits in new[] { 0, 8 })
                {
                    foreach (bool bakes in new[] { false, true })
                    {
                        var spec = new TopologySpec("Demo", "Sensor", 8, tied ? LossKind.SquaredError : LossKind.BinaryCrossEntropy, Seed: 5, tied, MaxBatchSize: 4,
                            (tied ? Tied : Untied).ToEquatableArray(), Weights: bakes ? "sensor.eaw" : null, OnDeviceTraining: training, CodeBits: codeBits);
                        foreach (BakedWeights? baked in HandBuiltWeights.Files(spec, flavor))
                        {
                            yield return (spec, flavor, baked, ModelEmitter.Emit(spec, flavor, baked));
                        }
                    }
                }
            }
        }
    }

    private static string Describe(TopologySpec spec, TargetFlavor flavor, BakedWeights? baked)
        => $"{flavor} {(spec.TiedWeights ? "tied" : "untied")} model (training {spec.OnDeviceTraining}, CodeBits {spec.CodeBits}, "
            + (baked is null ? "no weight file" : baked.Int8 is null ? "float32 file" : "int8 file") + (baked?.HasAnomalyThreshold == true ? " with threshold" : string.Empty) + ")";

    /// <summary>The comment text of every line (what follows <c>//</c> or <c>///</c>).</summary>
    private static IEnumerable<string> Comments(string source)
        => source.Split('\n').Select(l => l.IndexOf("//", StringComparison.Ordinal)).Zip(source.Split('\n'))
            .Where(p => p.First >= 0).Select(p => p.Second[p.First..].Trim());

    /// <summary>The XML summary right above the line that starts with <paramref name="declaration"/>.</summary>
    private static string Summary(string source, string declaration)
    {
        int at = source.IndexOf(declaration, StringComparison.Ordinal);
        Assert.True(at >= 0, $"no '{declaration}'");
        int start = source.LastIndexOf("<summary>", at, StringComparison.Ordinal);
        return string.Join(" ", source[start..at].Split('\n').Select(l => l.Trim().TrimStart('/').Trim()));
    }

    [GeneratedRegex(@"\btied\b", RegexOptions.IgnoreCase)]
    private static partial Regex TiedWord();

    /// <summary>The parenthesised list of callers that ends a helper's summary, e.g. <c>(EncodeBatch, ScoreBatch).</c></summary>
    [GeneratedRegex(@"\((?<callers>[A-Z][A-Za-z]*(, [A-Z][A-Za-z]*)*)\)\.\s*(///\s*)?</summary>")]
    private static partial Regex CallerList();
}
