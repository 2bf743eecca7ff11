using EdgeAe.Data;

namespace EdgeAe.Tests.Data;

public sealed class NormalizerTests
{
    private static Dataset Sample() => new([1f, 10f, 5f, 3f, 10f, 5f, 5f, 10f, 5f], 3, 3, [0, 1, 2]);

    [Fact]
    public void FitScale_divides_every_feature()
    {
        Dataset data = Sample();
        Normalization n = Normalizer.FitScale(data, 10f);
        Assert.Equal(NormalizationKind.Scale, n.Kind);
        Assert.Equal(3, n.Width);
        Dataset scaled = Normalizer.Apply(data, n);
        Assert.Equal([0.1f, 1f, 0.5f], scaled[0].ToArray());
        Assert.Equal([0, 1, 2], scaled.Labels!);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void FitScale_rejects_a_bad_max(float max)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Normalizer.FitScale(Sample(), max));
        Assert.Equal("max", e.ParamName);
    }

    [Fact]
    public void FitStandardize_uses_mean_and_population_std_and_1_for_constant_features()
    {
        Normalization n = Normalizer.FitStandardize(Sample());
        Assert.Equal(NormalizationKind.Standardize, n.Kind);
        Assert.Equal([3f, 10f, 5f], n.Offset.ToArray());
        Assert.Equal((float)Math.Sqrt(8.0 / 3.0), n.Scale[0]);
        Assert.Equal(1f, n.Scale[1]);
        Assert.Equal(1f, n.Scale[2]);

        Dataset standardized = Normalizer.Apply(Sample(), n);
        double mean = 0, square = 0;
        for (int s = 0; s < standardized.Count; s++)
        {
            mean += standardized[s][0];
            square += standardized[s][0] * standardized[s][0];
            Assert.Equal(0f, standardized[s][1]);
        }

        Assert.Equal(0, mean / 3, 6);
        Assert.Equal(1, square / 3, 5);
    }

    [Fact]
    public void FitStandardize_is_accurate_for_large_offsets()
    {
        // Naive sum-of-squares in float would lose the spread entirely.
        Dataset data = new([100000.5f, 100001.5f, 100000.5f, 100001.5f], 4, 1);
        Normalization n = Normalizer.FitStandardize(data);
        Assert.Equal(100001f, n.Offset[0]);
        Assert.Equal(0.5f, n.Scale[0]);
    }

    [Fact]
    public void FitStandardize_rejects_an_empty_set()
        => Assert.Throws<ArgumentException>(() => Normalizer.FitStandardize(new Dataset([], 0, 2)));

    [Fact]
    public void Apply_rejects_a_width_mismatch_and_does_not_touch_the_input()
    {
        Dataset data = Sample();
        Assert.Throws<ArgumentException>(() => Normalizer.Apply(data, Normalization.ScaleBy(2f, 4)));
        Dataset same = Normalizer.Apply(data, Normalization.None);
        Assert.Equal(data.Values.ToArray(), same.Values.ToArray());
        Normalizer.Apply(data, Normalization.ScaleBy(2f, 3));
        Assert.Equal(1f, data[0][0]);
    }
}
