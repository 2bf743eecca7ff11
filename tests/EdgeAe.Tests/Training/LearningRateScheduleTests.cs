using EdgeAe.Training;

namespace EdgeAe.Tests.Training;

/// <summary>Learning-rate schedules at chosen epochs and steps, and their validation.</summary>
public sealed class LearningRateScheduleTests
{
    [Fact]
    public void Constant_never_changes()
    {
        LearningRateSchedule schedule = LearningRateSchedule.Constant(0.01f);
        Assert.Equal(0.01f, schedule.At(0, 0));
        Assert.Equal(0.01f, schedule.At(1000, 1_000_000_000_000));
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(9, 0.1)]
    [InlineData(10, 0.05)]
    [InlineData(19, 0.05)]
    [InlineData(20, 0.025)]
    [InlineData(35, 0.0125)]
    public void StepDecay_multiplies_by_gamma_every_step_epochs(int epoch, double expected)
    {
        LearningRateSchedule schedule = LearningRateSchedule.StepDecay(0.1f, 10, 0.5f);
        Assert.Equal(expected, schedule.At(epoch, 12345), 1e-7);
    }

    [Fact]
    public void StepDecay_never_reaches_zero()
        => Assert.True(LearningRateSchedule.StepDecay(0.1f, 1, 0.01f).At(100_000, 0) > 0);

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(50, 0.055)] // halfway: the mean of initial and minimum
    [InlineData(25, 0.01 + 0.09 * 0.8535533905932737)] // (1 + cos(π/4)) / 2
    [InlineData(100, 0.01)]
    [InlineData(250, 0.01)] // held at the minimum after the last step
    public void Cosine_anneals_from_initial_to_minimum(long step, double expected)
    {
        LearningRateSchedule schedule = LearningRateSchedule.Cosine(0.1f, 100, 0.01f);
        Assert.Equal(expected, schedule.At(3, step), 1e-7);
    }

    [Fact]
    public void Cosine_to_zero_ends_at_the_smallest_positive_rate()
    {
        float last = LearningRateSchedule.Cosine(0.1f, 10).At(0, 10);
        Assert.True(last > 0 && last < 1e-30f);
    }

    public static TheoryData<string, Func<LearningRateSchedule>> Invalid => new()
    {
        { "learningRate", () => LearningRateSchedule.Constant(0) },
        { "initial", () => LearningRateSchedule.StepDecay(float.NaN, 1, 0.5f) },
        { "initial", () => LearningRateSchedule.Cosine(float.PositiveInfinity, 1) },
        { "stepEpochs", () => LearningRateSchedule.StepDecay(0.1f, 0, 0.5f) },
        { "gamma", () => LearningRateSchedule.StepDecay(0.1f, 1, 0) },
        { "gamma", () => LearningRateSchedule.StepDecay(0.1f, 1, 1.5f) },
        { "gamma", () => LearningRateSchedule.StepDecay(0.1f, 1, float.NaN) },
        { "totalSteps", () => LearningRateSchedule.Cosine(0.1f, 0) },
        { "minimum", () => LearningRateSchedule.Cosine(0.1f, 10, -0.01f) },
        { "minimum", () => LearningRateSchedule.Cosine(0.1f, 10, 0.2f) },
        { "minimum", () => LearningRateSchedule.Cosine(0.1f, 10, float.NaN) },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Construction_rejects_bad_parameters(string name, Func<LearningRateSchedule> create)
    {
        var exception = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(name == "learningRate" ? "initial" : name, exception.ParamName);
    }

    [Fact]
    public void At_rejects_negative_progress()
    {
        LearningRateSchedule schedule = LearningRateSchedule.Constant(0.1f);
        Assert.Equal("epoch", Assert.Throws<ArgumentOutOfRangeException>(() => schedule.At(-1, 0)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => schedule.At(0, -1)).ParamName);
    }
}
