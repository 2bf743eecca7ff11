using EdgeAe.Training;

namespace EdgeAe.Tests.Training;

/// <summary>Denoising corruptions: their statistics, determinism and command-line parsing.</summary>
public sealed class CorruptionTests
{
    private const int Width = 1000;
    private const int Samples = 50;

    [Fact]
    public void None_copies_and_draws_nothing()
    {
        float[] clean = Clean(1);
        var corrupted = new float[Width];
        var rng = new SplitMix64(1);
        Corruption.None.Apply(clean, corrupted, ref rng);
        Assert.Equal(clean, corrupted);
        Assert.True(Corruption.None.IsNone);
        Assert.Equal(new SplitMix64(1).NextUInt64(), rng.NextUInt64());
    }

    [Theory]
    [InlineData(0.0f)]
    [InlineData(0.3f)]
    [InlineData(0.75f)]
    public void Masking_zeroes_about_v_of_the_inputs_and_leaves_the_others_unchanged(float v)
    {
        var masking = new MaskingNoise(v);
        var rng = new SplitMix64(2);
        var corrupted = new float[Width];
        int zeroed = 0;
        for (int sample = 0; sample < Samples; sample++)
        {
            float[] clean = Clean(sample);
            masking.Apply(clean, corrupted, ref rng);
            for (int i = 0; i < Width; i++)
            {
                if (corrupted[i] == 0f)
                {
                    zeroed++;
                }
                else
                {
                    Assert.Equal(clean[i], corrupted[i]);
                }
            }
        }

        // Clean values are never 0, so every 0 was masked. 50 000 inputs: σ of the fraction ≤ 0.0023.
        Assert.InRange(zeroed / (double)(Width * Samples), v - 0.01, v + 0.01);
        Assert.IsNotType<MaskingNoise>(Corruption.None);
    }

    [Fact]
    public void Gaussian_noise_has_the_requested_mean_and_standard_deviation()
    {
        var gaussian = new GaussianNoise(0.1f);
        var rng = new SplitMix64(3);
        var corrupted = new float[Width];
        double sum = 0, sumSquares = 0;
        for (int sample = 0; sample < Samples; sample++)
        {
            float[] clean = Clean(sample);
            gaussian.Apply(clean, corrupted, ref rng);
            for (int i = 0; i < Width; i++)
            {
                double noise = corrupted[i] - (double)clean[i];
                sum += noise;
                sumSquares += noise * noise;
            }
        }

        int n = Width * Samples;
        double mean = sum / n;
        double std = Math.Sqrt(sumSquares / n - mean * mean);
        Assert.InRange(mean, -0.002, 0.002); // σ of the mean ≈ 0.00045
        Assert.InRange(std, 0.098, 0.102);
    }

    [Fact]
    public void Gaussian_noise_with_zero_deviation_copies()
    {
        float[] clean = Clean(4);
        var corrupted = new float[Width];
        var rng = new SplitMix64(4);
        new GaussianNoise(0).Apply(clean, corrupted, ref rng);
        Assert.Equal(clean, corrupted);
    }

    [Theory]
    [InlineData(0.2f, 0f, 1f)]
    [InlineData(0.5f, -1f, 1f)]
    public void Salt_and_pepper_replaces_about_p_with_low_or_high_at_equal_odds(float p, float low, float high)
    {
        var noise = new SaltAndPepper(p, low, high);
        var rng = new SplitMix64(5);
        var corrupted = new float[Width];
        int lows = 0, highs = 0;
        for (int sample = 0; sample < Samples; sample++)
        {
            float[] clean = Clean(sample);
            noise.Apply(clean, corrupted, ref rng);
            for (int i = 0; i < Width; i++)
            {
                if (corrupted[i] == low)
                {
                    lows++;
                }
                else if (corrupted[i] == high)
                {
                    highs++;
                }
                else
                {
                    Assert.Equal(clean[i], corrupted[i]);
                }
            }
        }

        // Clean values lie strictly between 0 and 1, so every low or high was a replacement.
        int n = Width * Samples;
        Assert.InRange((lows + highs) / (double)n, p - 0.01, p + 0.01);
        Assert.InRange(lows / (double)(lows + highs), 0.48, 0.52);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void The_same_seed_gives_the_same_corruption(string text)
    {
        Corruption corruption = Corruption.Parse(text);
        float[] clean = Clean(6);
        var a = new float[Width];
        var b = new float[Width];
        var c = new float[Width];
        var rngA = new SplitMix64(77);
        var rngB = new SplitMix64(77);
        var rngC = new SplitMix64(78);
        corruption.Apply(clean, a, ref rngA);
        corruption.Apply(clean, b, ref rngB);
        corruption.Apply(clean, c, ref rngC);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(rngA.NextUInt64(), rngB.NextUInt64());
    }

    [Fact]
    public void Apply_rejects_spans_of_different_lengths()
    {
        var rng = new SplitMix64(1);
        var exception = Assert.Throws<ArgumentException>(() => new MaskingNoise(0.1f).Apply(new float[4], new float[3], ref rng));
        Assert.Equal("corrupted", exception.ParamName);
        Assert.Contains("Expected 4", exception.Message);
        Assert.Contains("found 3", exception.Message);
    }

    [Theory]
    [InlineData("none", "none")]
    [InlineData(" None ", "none")]
    [InlineData("masking:0.3", "masking:0.3")]
    [InlineData("MASKING: 0", "masking:0")]
    [InlineData("gaussian:0.1", "gaussian:0.1")]
    [InlineData("gaussian:0", "gaussian:0")]
    [InlineData("saltpepper:0.2", "saltpepper:0.2")]
    [InlineData("salt-and-pepper:0.25", "saltpepper:0.25")]
    public void Parse_accepts_the_cli_forms(string text, string canonical)
    {
        Corruption corruption = Corruption.Parse(text);
        Assert.Equal(canonical, corruption.ToString());
        Assert.Equal(canonical, Corruption.Parse(corruption.ToString()).ToString());
    }

    [Fact]
    public void Parse_builds_the_right_types()
    {
        Assert.Same(Corruption.None, Corruption.Parse("none"));
        Assert.Equal(0.3f, Assert.IsType<MaskingNoise>(Corruption.Parse("masking:0.3")).Probability);
        Assert.Equal(0.1f, Assert.IsType<GaussianNoise>(Corruption.Parse("gaussian:0.1")).StandardDeviation);
        var saltPepper = Assert.IsType<SaltAndPepper>(Corruption.Parse("saltpepper:0.2"));
        Assert.Equal((0.2f, 0f, 1f), (saltPepper.Probability, saltPepper.Low, saltPepper.High));
    }

    [Theory]
    [InlineData("masking:1.5", "the probability must be in [0, 1)")]
    [InlineData("masking:1", "the probability must be in [0, 1)")]
    [InlineData("masking:-0.1", "the probability must be in [0, 1)")]
    [InlineData("masking:NaN", "the probability must be in [0, 1)")]
    [InlineData("masking:abc", "'abc' is not a number; the probability must be in [0, 1)")]
    [InlineData("masking", "'masking' needs a value")]
    [InlineData("masking:", "'masking' needs a value")]
    [InlineData("masking:0,3", "'0,3' is not a number")]
    [InlineData("saltpepper:1.2", "the probability must be in [0, 1)")]
    [InlineData("salt-and-pepper:-1", "the probability must be in [0, 1)")]
    [InlineData("saltpepper", "'saltpepper' needs a value")]
    [InlineData("gaussian:-0.1", "the standard deviation must be finite and ≥ 0")]
    [InlineData("gaussian:Infinity", "the standard deviation must be finite and ≥ 0")]
    [InlineData("gaussian:x", "'x' is not a number; the standard deviation must be finite and ≥ 0")]
    [InlineData("gaussian", "'gaussian' needs a value")]
    [InlineData("none:0.3", "'none' takes no value")]
    [InlineData("dropout:0.3", "unknown corruption 'dropout'; expected none, masking:<probability>, gaussian:<standard deviation> or saltpepper:<probability>")]
    [InlineData("", "unknown corruption ''")]
    public void Parse_rejects_bad_text_naming_the_text_and_the_allowed_values(string text, string problem)
    {
        var exception = Assert.Throws<ArgumentException>(() => Corruption.Parse(text));
        Assert.StartsWith($"corruption '{text}': ", exception.Message);
        Assert.Contains(problem, exception.Message);
        Assert.Equal("text", exception.ParamName);
    }

    [Fact]
    public void Parse_rejects_null() => Assert.Throws<ArgumentNullException>(() => Corruption.Parse(null!));

    public static TheoryData<string, float> BadConstructorArguments => new()
    {
        { "masking", 1f }, { "masking", -0.1f }, { "masking", float.NaN },
        { "gaussian", -1f }, { "gaussian", float.NaN }, { "gaussian", float.PositiveInfinity },
        { "saltpepper", 1f }, { "saltpepper", -0.5f },
    };

    [Theory]
    [MemberData(nameof(BadConstructorArguments))]
    public void Construction_rejects_bad_values(string kind, float value)
    {
        Func<Corruption> create = kind switch
        {
            "masking" => () => new MaskingNoise(value),
            "gaussian" => () => new GaussianNoise(value),
            _ => () => new SaltAndPepper(value),
        };
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(kind == "gaussian" ? "standardDeviation" : "probability", exception.ParamName);
        Assert.Equal(value, exception.ActualValue);
    }

    [Fact]
    public void Salt_and_pepper_needs_finite_low_below_high()
    {
        Assert.Equal("high", Assert.Throws<ArgumentOutOfRangeException>(() => new SaltAndPepper(0.1f, 1, 1)).ParamName);
        Assert.Equal("high", Assert.Throws<ArgumentOutOfRangeException>(() => new SaltAndPepper(0.1f, 0, float.NaN)).ParamName);
        Assert.Equal("low", Assert.Throws<ArgumentOutOfRangeException>(() => new SaltAndPepper(0.1f, float.NegativeInfinity, 1)).ParamName);
    }

    public static TheoryData<string> All => new("masking:0.3", "gaussian:0.1", "saltpepper:0.2");

    /// <summary>Inputs strictly between 0 and 1, so corrupted values are recognisable.</summary>
    private static float[] Clean(int seed)
    {
        var rng = new SplitMix64((ulong)seed + 1000);
        var clean = new float[Width];
        for (int i = 0; i < Width; i++)
        {
            clean[i] = 0.05f + 0.9f * rng.NextSingle();
        }

        return clean;
    }
}
