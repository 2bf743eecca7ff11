using EdgeAe.IO;
using EdgeAe.Tests.Models;

namespace EdgeAe.Tests.Baking;

/// <summary>A model with baked weights starts exactly where loading its weight file would put it.</summary>
public sealed class BakedWeightsTests
{
    [Fact]
    public void Baked_deep_parameters_are_bit_identical_to_loading_the_file()
        => AssertBitIdentical(new BakedDeepAe(), Loaded<BakedDeepTwin>(BakedAssetRecipe.DeepFile));

    [Fact]
    public void Baked_tied_parameters_are_bit_identical_to_loading_the_file()
        => AssertBitIdentical(new BakedTiedAe(), Loaded<BakedTiedTwin>(BakedAssetRecipe.TiedFile));

    [Fact]
    public void Baked_deep_outputs_are_bit_identical_to_the_loaded_twin()
        => AssertSameOutputs(new BakedDeepAe(), Loaded<BakedDeepTwin>(BakedAssetRecipe.DeepFile), seed: 3);

    [Fact]
    public void Baked_tied_outputs_are_bit_identical_to_the_loaded_twin()
        => AssertSameOutputs(new BakedTiedAe(), Loaded<BakedTiedTwin>(BakedAssetRecipe.TiedFile), seed: 4);

    [Fact]
    public void Baked_parameters_keep_awkward_values_exactly()
    {
        // The recipe puts −0, the smallest subnormal, another subnormal, 0.1 … first in the file.
        var model = new BakedDeepAe();
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(model.Parameters[0]));
        Assert.Equal(BitConverter.SingleToInt32Bits(float.Epsilon), BitConverter.SingleToInt32Bits(model.Parameters[1]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-1e-40f), BitConverter.SingleToInt32Bits(model.Parameters[2]));
        Assert.Equal(BitConverter.SingleToInt32Bits(0.1f), BitConverter.SingleToInt32Bits(model.Parameters[3]));
    }

    [Fact]
    public void Baked_constants_name_the_file_and_its_checksum()
    {
        Assert.True(BakedDeepAe.HasBakedWeights);
        Assert.True(BakedTiedAe.HasBakedWeights);
        Assert.False(BakedDeepTwin.HasBakedWeights);
        Assert.False(DigitsAe.HasBakedWeights);
        Assert.Equal("baked-deep.eaw", BakedDeepAe.BakedWeightsFile);
        Assert.Equal("Assets/baked-tied.eaw", BakedTiedAe.BakedWeightsFile);
        Assert.Equal(BakedDeepAe.BakedWeightsCrc32, WeightFile.Read(BakedAssetRecipe.AssetPath(BakedAssetRecipe.DeepFile)).Checksum);
        Assert.Equal(BakedTiedAe.BakedWeightsCrc32, WeightFile.Read(BakedAssetRecipe.AssetPath(BakedAssetRecipe.TiedFile)).Checksum);
    }

    [Fact]
    public void Seeded_construction_and_initialisation_still_work_on_a_baked_model()
    {
        var seeded = new BakedDeepAe(BakedDeepAe.DeclaredSeed);
        AssertBitIdentical(seeded, new BakedDeepTwin());

        var baked = new BakedDeepAe();
        baked.InitializeParameters(BakedDeepAe.DeclaredSeed);
        AssertBitIdentical(baked, new BakedDeepTwin());
    }

    [Fact]
    public void Each_baked_instance_owns_its_parameters()
    {
        var first = new BakedTiedAe();
        first.Parameters[0] += 1f;
        var second = new BakedTiedAe();
        AssertBitIdentical(second, Loaded<BakedTiedTwin>(BakedAssetRecipe.TiedFile));
    }

    private static T Loaded<T>(string fileName)
        where T : IAutoencoder, new()
    {
        // A seed different from the declared one, so nothing passes by coincidence of initialisation.
        var model = new T();
        model.InitializeParameters(987654);
        WeightFile.Load(BakedAssetRecipe.AssetPath(fileName), model);
        return model;
    }

    private static void AssertBitIdentical(IAutoencoder actual, IAutoencoder expected)
    {
        ReadOnlySpan<float> a = actual.Parameters;
        ReadOnlySpan<float> e = expected.Parameters;
        Assert.Equal(e.Length, a.Length);
        for (int k = 0; k < e.Length; k++)
        {
            if (BitConverter.SingleToInt32Bits(a[k]) != BitConverter.SingleToInt32Bits(e[k]))
            {
                Assert.Fail($"parameter {k}: expected {e[k]:R} (0x{BitConverter.SingleToInt32Bits(e[k]):X8}), found {a[k]:R} (0x{BitConverter.SingleToInt32Bits(a[k]):X8})");
            }
        }
    }

    private static void AssertSameOutputs(IAutoencoder baked, IAutoencoder loaded, int seed)
    {
        int inputSize = baked.Topology.InputSize;
        int codeSize = baked.Topology.CodeSize;
        var random = new Random(seed);
        var input = new float[inputSize];
        for (int sample = 0; sample < 50; sample++)
        {
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = (float)random.NextDouble();
            }

            var codeA = new float[codeSize];
            var codeB = new float[codeSize];
            baked.Encode(input, codeA);
            loaded.Encode(input, codeB);
            AssertBits(codeB, codeA);

            var outA = new float[inputSize];
            var outB = new float[inputSize];
            float lossA = baked.Reconstruct(input, outA);
            float lossB = loaded.Reconstruct(input, outB);
            AssertBits(outB, outA);
            Assert.Equal(BitConverter.SingleToInt32Bits(lossB), BitConverter.SingleToInt32Bits(lossA));
        }
    }

    private static void AssertBits(float[] expected, float[] actual)
        => Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
}
