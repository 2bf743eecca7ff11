using EdgeAe.Training;

namespace EdgeAe.Tests.Training;

/// <summary>The deterministic generator: fixed streams and rough statistics.</summary>
public sealed class SplitMix64Tests
{
    private const int Draws = 100_000;

    [Fact]
    public void The_stream_matches_the_published_splitmix64_reference()
    {
        // Vigna's splitmix64.c with x = 1234567 starts 6457827717110365317, 3203168211198807973, 9817491932198370423.
        var rng = new SplitMix64(1234567);
        Assert.Equal(6457827717110365317UL, rng.NextUInt64());
        Assert.Equal(3203168211198807973UL, rng.NextUInt64());
        Assert.Equal(9817491932198370423UL, rng.NextUInt64());
    }

    [Fact]
    public void The_same_seed_gives_the_same_draws_and_another_seed_does_not()
    {
        var a = new SplitMix64(42);
        var b = new SplitMix64(42);
        var a2 = new SplitMix64(42);
        var c = new SplitMix64(43);
        int differences = 0;
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(a.NextSingle(), b.NextSingle());
            Assert.Equal(a.NextGaussian(), b.NextGaussian());
            Assert.Equal(a.NextInt32(17), b.NextInt32(17));
            differences += a2.NextUInt64() != c.NextUInt64() ? 1 : 0;
        }

        Assert.True(differences > 990);
    }

    [Fact]
    public void NextSingle_is_uniform_in_zero_one()
    {
        var rng = new SplitMix64(7);
        double sum = 0, sumSquares = 0;
        for (int i = 0; i < Draws; i++)
        {
            float x = rng.NextSingle();
            Assert.InRange(x, 0f, 0.99999994f);
            sum += x;
            sumSquares += (double)x * x;
        }

        double mean = sum / Draws;
        double variance = sumSquares / Draws - mean * mean;
        Assert.InRange(mean, 0.5 - 0.005, 0.5 + 0.005); // σ of the mean ≈ 0.0009
        Assert.InRange(variance, 1.0 / 12 - 0.002, 1.0 / 12 + 0.002);
    }

    [Fact]
    public void NextGaussian_has_mean_zero_and_variance_one()
    {
        var rng = new SplitMix64(11);
        double sum = 0, sumSquares = 0;
        for (int i = 0; i < Draws; i++)
        {
            double x = rng.NextGaussian();
            Assert.True(double.IsFinite(x));
            sum += x;
            sumSquares += x * x;
        }

        double mean = sum / Draws;
        double variance = sumSquares / Draws - mean * mean;
        Assert.InRange(mean, -0.015, 0.015); // σ of the mean ≈ 0.0032
        Assert.InRange(variance, 0.98, 1.02); // σ of the variance ≈ 0.0045
    }

    [Fact]
    public void NextInt32_covers_the_range_evenly()
    {
        var rng = new SplitMix64(3);
        var counts = new int[10];
        for (int i = 0; i < Draws; i++)
        {
            counts[rng.NextInt32(10)]++;
        }

        Assert.All(counts, n => Assert.InRange(n, 9_500, 10_500));
        Assert.Equal(0, rng.NextInt32(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SplitMix64(1).NextInt32(0));
    }

    [Fact]
    public void Shuffle_is_a_deterministic_permutation()
    {
        int[] first = Enumerable.Range(0, 100).ToArray();
        int[] second = Enumerable.Range(0, 100).ToArray();
        var a = new SplitMix64(5);
        var b = new SplitMix64(5);
        a.Shuffle<int>(first);
        b.Shuffle<int>(second);
        Assert.Equal(first, second);
        Assert.NotEqual(Enumerable.Range(0, 100), first);
        Assert.Equal(Enumerable.Range(0, 100), first.Order());
    }

    [Fact]
    public void Shuffle_puts_each_element_in_each_place_equally_often()
    {
        var rng = new SplitMix64(9);
        var counts = new int[4, 4];
        Span<int> values = stackalloc int[4];
        for (int trial = 0; trial < 40_000; trial++)
        {
            for (int i = 0; i < 4; i++)
            {
                values[i] = i;
            }

            rng.Shuffle(values);
            for (int i = 0; i < 4; i++)
            {
                counts[values[i], i]++;
            }
        }

        foreach (int n in counts)
        {
            Assert.InRange(n, 9_500, 10_500); // expected 10 000, σ ≈ 87
        }
    }
}
