namespace EdgeAe.Generators.Tests;

// Inside the namespace, so the generator's model enums win over the runtime's EdgeAe.LossKind & co.
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Emitting;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

/// <summary>
/// The names the name checks (EAE0027, EAE0028) reserve are exactly the names the emitters declare: every member and
/// nested type of the generated model type, public or private, and every type beside it in the generated file, with its
/// kind. Declarations of every shape are emitted for both flavours, with each weight file they could bake; a name an
/// emitter starts to declare without <see cref="GeneratedMembers"/> listing it fails here, and so does a listed name no
/// emitter declares any more.
/// </summary>
public sealed class GeneratedMembersTests
{
    /// <summary>Topologies: a deep untied model with a hidden decoder, its tied mirror, and a single code layer with a linear code.</summary>
    private static readonly Dictionary<string, (LossKind Loss, bool Tied, LayerSpec[] Layers)> Shapes = new()
    {
        ["Deep"] = (LossKind.BinaryCrossEntropy, false,
        [
            new LayerSpec(0, LayerRole.Encoder, 8, 6, ActivationKind.Relu),
            new LayerSpec(1, LayerRole.Code, 6, 3, ActivationKind.Sigmoid),
            new LayerSpec(2, LayerRole.Decoder, 3, 6, ActivationKind.Tanh),
            new LayerSpec(3, LayerRole.Output, 6, 8, ActivationKind.Sigmoid),
        ]),
        ["Tied"] = (LossKind.SquaredError, true,
        [
            new LayerSpec(0, LayerRole.Encoder, 8, 6, ActivationKind.Tanh),
            new LayerSpec(1, LayerRole.Code, 6, 3, ActivationKind.Tanh),
            new LayerSpec(2, LayerRole.Decoder, 3, 6, ActivationKind.Relu, TiedTo: 1),
            new LayerSpec(3, LayerRole.Output, 6, 8, ActivationKind.Linear, TiedTo: 0),
        ]),
        ["Linear"] = (LossKind.SquaredError, false,
        [
            new LayerSpec(0, LayerRole.Code, 8, 2, ActivationKind.Linear),
            new LayerSpec(1, LayerRole.Output, 2, 8, ActivationKind.Linear),
        ]),
    };

    public static TheoryData<string, string, int, bool, bool> Declarations()
    {
        var data = new TheoryData<string, string, int, bool, bool>();
        foreach (string shape in Shapes.Keys)
        {
            foreach (string flavor in new[] { nameof(TargetFlavor.Desktop), nameof(TargetFlavor.NanoFramework) })
            {
                foreach (int codeBits in new[] { 0, 8 })
                {
                    foreach (bool training in flavor == nameof(TargetFlavor.Desktop) ? [false] : new[] { false, true })
                    {
                        foreach (bool bakes in new[] { false, true })
                        {
                            data.Add(shape, flavor, codeBits, training, bakes);
                        }
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Declarations))]
    public void The_reserved_names_are_the_names_the_emitters_declare(string shape, string target, int codeBits, bool training, bool bakes)
    {
        var flavor = Enum.Parse<TargetFlavor>(target);
        TopologySpec spec = Spec(shape, codeBits, training, bakes);
        var declared = new SortedSet<string>(StringComparer.Ordinal);
        foreach (BakedWeights? baked in HandBuiltWeights.Files(spec, flavor))
        {
            declared.UnionWith(DeclaredNames(ModelEmitter.Emit(spec, flavor, baked), spec.TypeName));
        }

        var reserved = new SortedSet<string>(GeneratedMembers.Of(spec, flavor).Select(m => $"{m.Name} ({m.Kind})"), StringComparer.Ordinal);
        string[] unreserved = declared.Except(reserved).ToArray();
        string[] stale = reserved.Except(declared).ToArray();
        Assert.True(unreserved.Length == 0 && stale.Length == 0,
            $"Declared but not in GeneratedMembers: [{string.Join(", ", unreserved)}]; in GeneratedMembers but never declared: [{string.Join(", ", stale)}]");
    }

    [Theory]
    [InlineData("Desktop")]
    [InlineData("NanoFramework")]
    public void The_compiled_model_has_no_member_outside_the_reserved_names(string target)
    {
        // The whole generator, compiled: every member of the model type its generated part declares is reserved.
        const string declaration = """
            using EdgeAe;

            namespace Demo;

            [Autoencoder(Input = 12, Loss = Loss.BinaryCrossEntropy, CodeBits = 16)]
            [Encoder(9, Activation.Relu)]
            [Code(4, Activation.Tanh)]
            [Decoder(9, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            public partial class Compiled
            {
                public int Own => 1;
            }
            """;
        GeneratorRun run = target == "Desktop" ? GeneratorHarness.Run(declaration) : NanoHarness.RunAgainstNanoFramework(target, declaration);
        Assert.DoesNotContain(run.OutputDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        INamedTypeSymbol model = run.Output.GetTypeByMetadataName("Demo.Compiled")!;
        string[] generated = model.GetMembers()
            .Where(m => m.CanBeReferencedByName && m.DeclaringSyntaxReferences.Any(r => run.IsGenerated(r.SyntaxTree)))
            .Select(m => m.Name)
            .Distinct()
            .ToArray();
        Assert.True(generated.Length > 30, $"Only {generated.Length} generated members found");

        TopologySpec spec = Spec("Deep", codeBits: 16, training: false, bakes: false) with { TypeName = "Compiled" };
        HashSet<string> reserved = GeneratedMembers.Of(spec, target == "Desktop" ? TargetFlavor.Desktop : TargetFlavor.NanoFramework).Select(m => m.Name).ToHashSet();
        string[] unreserved = generated.Where(name => !reserved.Contains(name)).ToArray();
        Assert.True(unreserved.Length == 0, "Generated but not reserved: " + string.Join(", ", unreserved));
        Assert.DoesNotContain("Own", reserved);
    }

    private static TopologySpec Spec(string shape, int codeBits, bool training, bool bakes)
    {
        (LossKind loss, bool tied, LayerSpec[] layers) = Shapes[shape];
        return new TopologySpec("Demo", "Model", layers[0].InputWidth, loss, Seed: 1, tied, MaxBatchSize: 4, layers.ToEquatableArray(),
            Weights: bakes ? "model.eaw" : null, OnDeviceTraining: training, CodeBits: codeBits);
    }

    /// <summary>"Name (Kind)" of every member of the model type in <paramref name="source"/>, and of every type beside it.</summary>
    private static IEnumerable<string> DeclaredNames(string source, string model)
    {
        CompilationUnitSyntax root = CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions, cancellationToken: TestContext.Current.CancellationToken)
            .GetCompilationUnitRoot(TestContext.Current.CancellationToken);
        BaseTypeDeclarationSyntax[] topLevel = root.DescendantNodes(n => n is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax)
            .OfType<BaseTypeDeclarationSyntax>().ToArray();
        foreach (BaseTypeDeclarationSyntax type in topLevel.Where(t => t.Identifier.ValueText != model))
        {
            yield return $"{type.Identifier.ValueText} ({GeneratedMemberKind.TypeBeside})";
        }

        var modelType = (TypeDeclarationSyntax)Assert.Single(topLevel, t => t.Identifier.ValueText == model);
        foreach (MemberDeclarationSyntax member in modelType.Members)
        {
            switch (member)
            {
                case FieldDeclarationSyntax field:
                    GeneratedMemberKind kind = field.Modifiers.Any(SyntaxKind.ConstKeyword) ? GeneratedMemberKind.Constant : GeneratedMemberKind.Field;
                    foreach (VariableDeclaratorSyntax variable in field.Declaration.Variables)
                    {
                        yield return $"{variable.Identifier.ValueText} ({kind})";
                    }

                    break;
                case PropertyDeclarationSyntax { ExplicitInterfaceSpecifier: null } property:
                    yield return $"{property.Identifier.ValueText} ({GeneratedMemberKind.Property})";
                    break;
                case MethodDeclarationSyntax { ExplicitInterfaceSpecifier: null } method:
                    yield return $"{method.Identifier.ValueText} ({GeneratedMemberKind.Method})";
                    break;
                case BaseTypeDeclarationSyntax nested:
                    yield return $"{nested.Identifier.ValueText} ({GeneratedMemberKind.NestedType})";
                    break;
                case ConstructorDeclarationSyntax:
                case PropertyDeclarationSyntax or MethodDeclarationSyntax: // explicit interface implementations are not named members
                    break;
                default:
                    Assert.Fail($"A kind of member the name checks do not know: {member.Kind()} in the model type");
                    break;
            }
        }
    }
}
