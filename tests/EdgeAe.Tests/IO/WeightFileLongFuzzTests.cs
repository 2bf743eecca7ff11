using System.Diagnostics;
using EdgeAe.Tests.Models;
using static EdgeAe.Tests.IO.WeightFileTestKit;

namespace EdgeAe.Tests.IO;

/// <summary>
/// The long run: one million seeded mutations of a valid DeepBceAe file (half with the checksum
/// repaired so the structural checks are reached). Opt-in: set <c>EDGEAE_LONG_FUZZ=1</c>;
/// <c>EDGEAE_LONG_FUZZ_CASES</c> and <c>EDGEAE_LONG_FUZZ_SEED</c> change the count and the seed.
/// </summary>
public sealed class WeightFileLongFuzzTests
{
    [Fact]
    public void A_million_mutations_are_rejected_or_loaded_cleanly()
    {
        if (Environment.GetEnvironmentVariable("EDGEAE_LONG_FUZZ") != "1")
        {
            Assert.Skip("Long fuzzing runs only with EDGEAE_LONG_FUZZ=1.");
        }

        int cases = int.TryParse(Environment.GetEnvironmentVariable("EDGEAE_LONG_FUZZ_CASES"), out int c) ? c : 1_000_000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("EDGEAE_LONG_FUZZ_SEED"), out int s) ? s : 1;
        byte[] original = DeepBceFile(out _);
        var model = new DeepBceAe();
        int[] before = Bits(model.Parameters);
        var random = new Random(seed);
        int rejected = 0, repairedAccepted = 0, rawAccepted = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            byte[] bytes = Mutate(original, random);
            bool repaired = (i & 1) == 1;
            if (repaired)
            {
                FixChecksum(bytes);
            }

            if (LoadOrReject(bytes, model, before, $"seed {seed} case {i}"))
            {
                if (repaired)
                {
                    repairedAccepted++;
                }
                else
                {
                    rawAccepted++;
                }

                new DeepBceAe().Parameters.CopyTo(model.Parameters);
            }
            else
            {
                rejected++;
            }
        }

        string report = $"EDGEAE_LONG_FUZZ: {cases} cases (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: {rejected} rejected cleanly, "
            + $"{repairedAccepted} accepted with repaired CRC (valid files, e.g. a changed weight), {rawAccepted} accepted without repair, 0 escaped";
        TestContext.Current.SendDiagnosticMessage(report);
        Console.Error.WriteLine(report);

        // Without a repaired checksum, a mutation passes only on a CRC-32 collision (about 1 in 4·10⁹).
        Assert.Equal(0, rawAccepted);
    }
}
