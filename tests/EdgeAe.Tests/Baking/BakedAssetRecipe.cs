using System.Runtime.CompilerServices;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Tests.Models;

namespace EdgeAe.Tests.Baking;

/// <summary>
/// How the committed weight files in tests/EdgeAe.Tests/Assets were made, checked on every run.
/// To regenerate them (only after a deliberate format change): set EDGEAE_REGENERATE_BAKED_ASSETS=1
/// and run these tests once; the files are rewritten next to this source file's project.
/// </summary>
public sealed class BakedAssetRecipe
{
    public const string DeepFile = "baked-deep.eaw";
    public const string TiedFile = "baked-tied.eaw";

    /// <summary>Values that a text round trip gets wrong unless every float is written exactly.</summary>
    private static readonly float[] Awkward =
    {
        -0f, float.Epsilon, -1e-40f, 0.1f, 1f / 3f, -2.5e-7f, 16777217f / 8388608f, 3.4e+3f, MathF.PI, -MathF.E,
    };

    /// <summary>The copy of a committed asset next to the test binaries (the csproj copies Assets/*.eaw).</summary>
    public static string AssetPath(string fileName) => Path.Combine(AppContext.BaseDirectory, "Assets", fileName);

    /// <summary>The committed asset in the source tree (for regeneration only).</summary>
    private static string SourceAssetPath(string fileName, [CallerFilePath] string source = "")
        => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(source)!)!, "Assets", fileName);

    /// <summary>The recipe: every tensor value (padding excluded) from a fixed SplitMix64 stream, the first few awkward.</summary>
    public static T Recipe<T>(ulong seed)
        where T : IAutoencoder, new()
    {
        var model = new T();
        Span<float> buffer = model.Parameters;
        ulong state = seed;
        int n = 0;
        foreach ((int offset, var entry) in WeightFile.Tensors(model.Topology, buffer.Length))
        {
            for (int j = 0; j < entry.Count; j++, n++)
            {
                state += 0x9E3779B97F4A7C15UL;
                ulong z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                float uniform = (int)(z >> 40) * (1f / 8388608f) - 1f;
                buffer[offset + j] = n < Awkward.Length ? Awkward[n] : uniform * 1.5f;
            }
        }

        return model;
    }

    public static byte[] DeepBytes() => WeightFile.ToBytes(Recipe<BakedDeepTwin>(1234), Normalization.None);

    public static byte[] TiedBytes() => WeightFile.ToBytes(Recipe<BakedTiedTwin>(5678), Normalization.ScaleBy(255, BakedTiedTwin.InputSize));

    [Fact]
    public void Committed_deep_asset_is_what_the_recipe_writes() => Check(DeepFile, DeepBytes());

    [Fact]
    public void Committed_tied_asset_is_what_the_recipe_writes() => Check(TiedFile, TiedBytes());

    private static void Check(string fileName, byte[] expected)
    {
        if (Environment.GetEnvironmentVariable("EDGEAE_REGENERATE_BAKED_ASSETS") == "1")
        {
            File.WriteAllBytes(SourceAssetPath(fileName), expected);
            return;
        }

        Assert.Equal(expected, File.ReadAllBytes(AssetPath(fileName)));
    }
}
