using EdgeAe.Training;

namespace EdgeAe.Tests.Training;

/// <summary>Global-norm clipping with PyTorch's clip_grad_norm_ semantics.</summary>
public sealed class GradientClippingTests
{
    [Fact]
    public void Below_the_threshold_gradients_are_unchanged_and_the_norm_returned()
    {
        var gradients = new float[] { 3, 0, -4 };
        double norm = GradientClipping.ClipByGlobalNorm(gradients, 5.5f);
        Assert.Equal(5.0, norm, 12);
        Assert.Equal([3f, 0f, -4f], gradients);
    }

    [Fact]
    public void Exactly_at_the_threshold_gradients_are_unchanged()
    {
        var gradients = new float[] { 3, 4 };
        Assert.Equal(5.0, GradientClipping.ClipByGlobalNorm(gradients, 5f), 12);
        Assert.Equal([3f, 4f], gradients);
    }

    [Fact]
    public void Above_the_threshold_gradients_are_scaled_to_the_maximum_norm()
    {
        var gradients = new float[] { 30, 0, -40 };
        double norm = GradientClipping.ClipByGlobalNorm(gradients, 1f);
        Assert.Equal(50.0, norm, 12);

        // PyTorch's coefficient: max_norm / (norm + 1e-6).
        double scale = 1.0 / (50.0 + 1e-6);
        Assert.Equal(30 * scale, gradients[0], 1e-6);
        Assert.Equal(-40 * scale, gradients[2], 1e-6);
        Assert.Equal(1.0, GradientClipping.GlobalNorm(gradients), 1e-6);
    }

    [Fact]
    public void The_norm_is_accumulated_in_double()
    {
        // After 1e4² = 1e8, a float accumulator (spacing 8) would lose every 1e-4 square: the norm would be 1e4, not 1e4 + 0.005.
        var gradients = new float[1_000_001];
        gradients.AsSpan(1).Fill(1e-2f);
        gradients[0] = 1e4f;
        double expected = Math.Sqrt(1e8 + 1_000_000 * (double)1e-2f * 1e-2f);
        Assert.Equal(expected, GradientClipping.ClipByGlobalNorm(gradients, 1e9f), 1e-5);
    }

    [Fact]
    public void A_zero_vector_has_norm_zero_and_stays_zero()
    {
        var gradients = new float[8];
        Assert.Equal(0.0, GradientClipping.ClipByGlobalNorm(gradients, 1f));
        Assert.All(gradients, g => Assert.Equal(0f, g));
        Assert.Equal(0.0, GradientClipping.ClipByGlobalNorm(Span<float>.Empty, 1f));
    }

    [Theory]
    [InlineData(float.NaN, double.NaN)]
    [InlineData(float.PositiveInfinity, double.PositiveInfinity)]
    public void A_non_finite_norm_is_returned_as_is_and_gradients_are_untouched(float bad, double expectedNorm)
    {
        var gradients = new float[] { 100, bad, -100 };
        double norm = GradientClipping.ClipByGlobalNorm(gradients, 1f);
        Assert.Equal(expectedNorm, norm);
        Assert.Equal(100f, gradients[0]);
        Assert.Equal(-100f, gradients[2]);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void A_bad_maximum_is_rejected(float maxNorm)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm(new float[2], maxNorm));
        Assert.Equal("maxNorm", exception.ParamName);
        Assert.Equal(maxNorm, exception.ActualValue);
    }
}
