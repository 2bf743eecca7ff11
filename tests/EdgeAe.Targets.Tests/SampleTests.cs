using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using EdgeAe.Cli;
using EdgeAe.Data;
using EdgeAe.IO;

namespace EdgeAe.Targets.Tests;

/// <summary>
/// The requirement: the README's default job writes a weight file that the sample projects under
/// targets/samples consume as baked-in code; the desktop sample prints codes and reconstruction losses
/// identical, bit for bit, to the desktop model loaded from the same file at run time.
/// </summary>
public sealed class SampleTests(SamplesFixture samples) : IClassFixture<SamplesFixture>
{
    [Fact]
    public void Both_samples_build_without_warnings()
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"train {samples.Training.TotalSeconds:F1} s, build {samples.Build.Elapsed.TotalSeconds:F1} s, run {samples.DesktopRun?.Elapsed.TotalSeconds:F1} s");
        Assert.True(samples.Build.ExitCode == 0, samples.Build.ToString());
        Assert.True(samples.Build.WarningLines.Count == 0, samples.Build.ToString());
    }

    [Fact]
    public void Desktop_sample_prints_the_codes_and_losses_of_the_model_loaded_from_the_same_file_bit_for_bit()
    {
        ProcessResult run = samples.DesktopRun ?? throw new InvalidOperationException("The samples did not build:\n" + samples.Build);
        Assert.True(run.ExitCode == 0, run.ToString());

        var model = new DigitsAe();
        WeightFile.Load(samples.Weights, model);
        Dataset digits = BundledData.Digits();
        var code = new float[DigitsAe.CodeSize];
        var reconstruction = new float[DigitsAe.InputSize];

        string[] lines = run.Lines.Where(l => l.StartsWith("sample ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(5, lines.Length);
        Assert.Contains($"crc32 {WeightFile.Read(samples.Weights).Checksum:x8}", run.Lines[0], StringComparison.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            // sample <i> label <digit> code <c0> … <c15> loss <value>
            string[] fields = lines[i].Split(' ');
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), fields[1]);
            Assert.Equal(digits.Labels![i].ToString(CultureInfo.InvariantCulture), fields[3]);
            float[] printedCode = fields[5..(5 + DigitsAe.CodeSize)].Select(Parse).ToArray();
            Assert.Equal("loss", fields[5 + DigitsAe.CodeSize]);
            float printedLoss = Parse(fields[6 + DigitsAe.CodeSize]);

            model.Encode(digits[i], code);
            float loss = model.Reconstruct(digits[i], reconstruction);
            Assert.Equal(Bits(code), Bits(printedCode));
            Assert.Equal(BitConverter.SingleToInt32Bits(loss), BitConverter.SingleToInt32Bits(printedLoss));
        }
    }

    [Fact]
    public void Firmware_sample_references_nanoFrameworks_mscorlib_only_and_holds_the_generated_models()
    {
        Assert.True(samples.Build.ExitCode == 0, samples.Build.ToString());
        using var stream = File.OpenRead(samples.FirmwareAssembly);
        using var pe = new PEReader(stream);
        MetadataReader metadata = pe.GetMetadataReader();

        string[] references = metadata.AssemblyReferences
            .Select(h => metadata.GetAssemblyReference(h))
            .Select(r => $"{metadata.GetString(r.Name)} {r.Version}")
            .ToArray();
        Assert.Equal(["mscorlib 1.17.11.0"], references);

        string[] types = metadata.TypeDefinitions
            .Select(h => metadata.GetTypeDefinition(h))
            .Select(t => $"{metadata.GetString(t.Namespace)}.{metadata.GetString(t.Name)}")
            .ToArray();
        Assert.Contains("DigitsFirmware.DigitsAe", types);
        Assert.Contains("DigitsFirmware.UntrainedDigitsAe", types);
        Assert.Contains("DigitsFirmware.Program", types);
    }

    private static float Parse(string text) => float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
