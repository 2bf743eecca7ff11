using EdgeAe.Training;

namespace EdgeAe.Tests.Training;

/// <summary>The training hot paths allocate nothing after warm-up.</summary>
public sealed class AllocationTests
{
    private const int Count = 256;
    private const int Repetitions = 5_000;

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Momentum)]
    [InlineData(OptimizerKind.Nesterov)]
    [InlineData(OptimizerKind.Adam)]
    public void Optimizer_steps_allocate_nothing(OptimizerKind kind)
    {
        Optimizer optimizer = Optimizer.Create(new OptimizerOptions { Kind = kind, WeightDecay = 1e-4f }, Count);
        var parameters = new float[Count];
        var gradients = new float[Count];
        gradients.AsSpan().Fill(1e-3f);
        LearningRateSchedule schedule = LearningRateSchedule.Cosine(1e-3f, Repetitions);

        void Run(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                GradientClipping.ClipByGlobalNorm(gradients, 1f);
                optimizer.Step(parameters, gradients, schedule.At(0, i));
            }
        }

        Run(100);
        int windows = Allocations.AssertNoneOnThisThread(() => Run(Repetitions));
        Assert.Equal(100 + (windows * Repetitions), optimizer.StepCount);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("masking:0.3")]
    [InlineData("gaussian:0.1")]
    [InlineData("saltpepper:0.2")]
    public void Corruption_and_shuffling_allocate_nothing(string text)
    {
        Corruption corruption = Corruption.Parse(text);
        var clean = new float[Count];
        clean.AsSpan().Fill(0.5f);
        var corrupted = new float[Count];
        var order = new int[64];
        var rng = new SplitMix64(1);

        void Run(int samples, ref SplitMix64 rng)
        {
            for (int i = 0; i < samples; i++)
            {
                corruption.Apply(clean, corrupted, ref rng);
                if (i % 64 == 0)
                {
                    rng.Shuffle<int>(order);
                }
            }
        }

        Run(100, ref rng);
        Allocations.AssertNoneOnThisThread(() => Run(Repetitions, ref rng));
    }
}
