using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;

namespace EdgeAe.Generators.Tests;

/// <summary>The generated text is the same under any culture: a build machine's locale must not change the code.</summary>
public sealed class CultureTests
{
    private const string Declaration = """
        using EdgeAe;

        namespace Demo;

        [Autoencoder(Input = 1200, Loss = Loss.BinaryCrossEntropy, Seed = -5)]
        [Encoder(1100, Activation.Relu)]
        [Code(7, Activation.Tanh)]
        [Decoder(1100, Activation.Linear)]
        [Output(Activation.Sigmoid)]
        public partial class Negative;
        """;

    /// <summary>A culture that writes −5 with U+2212, 1,5 with a comma and 1 200 with a no-break space.</summary>
    private static CultureInfo Hostile()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NegativeSign = "\u2212";
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = "\u00A0";
        return culture;
    }

    [Fact]
    public void Generated_text_is_byte_for_byte_the_invariant_culture_text_and_compiles()
    {
        CultureInfo hostile = Hostile();
        Assert.Equal("\u22125", (-5).ToString(hostile)); // the culture really is hostile
        Assert.Equal("1\u00A0200", 1200.ToString("N0", hostile));

        GeneratorRun invariant = RunUnder(CultureInfo.InvariantCulture, Declaration);
        GeneratorRun local = RunUnder(hostile, Declaration);

        Assert.Contains("public const int DeclaredSeed = -5;", invariant.ModelSource("Demo.Negative"), StringComparison.Ordinal);
        Assert.Equal(invariant.GeneratedSources.Select(s => s.HintName), local.GeneratedSources.Select(s => s.HintName));
        foreach ((GeneratedSourceResult expected, GeneratedSourceResult actual) in invariant.GeneratedSources.Zip(local.GeneratedSources))
        {
            byte[] expectedBytes = Encoding.UTF8.GetBytes(expected.SourceText.ToString());
            byte[] actualBytes = Encoding.UTF8.GetBytes(actual.SourceText.ToString());
            Assert.True(expectedBytes.AsSpan().SequenceEqual(actualBytes), $"{actual.HintName} differs under {nameof(Hostile)} culture.");
        }

        Diagnostic[] errors = local.OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, GeneratorHarness.DescribeFailure(local, errors));
        Assert.Equal(-5, GeneratorHarness.WithModel(local, "Demo.Negative", model => model.Topology.Seed));
    }

    [Fact]
    public void Diagnostic_arguments_do_not_depend_on_culture()
    {
        GeneratorRun run = RunUnder(Hostile(), """
            using EdgeAe;
            [Autoencoder(Input = -1200)]
            [Code(4, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class M;
            """);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("[Autoencoder] Input must be a positive width; found -1200", diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    private static GeneratorRun RunUnder(CultureInfo culture, string source)
    {
        CultureInfo previous = CultureInfo.CurrentCulture;
        CultureInfo previousUi = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = culture;
            return GeneratorHarness.Run(source);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
            CultureInfo.CurrentUICulture = previousUi;
        }
    }
}
