using EdgeAe.Data;
using EdgeAe.Tests.Models;

namespace EdgeAe.Tests;

/// <summary>The default 64 → 16 → 64 model learns the bundled digits with the generated plain SGD step.</summary>
public sealed class LearningTests
{
    [Fact]
    public void Default_model_learns_the_digits_with_plain_sgd()
    {
        Dataset digits = BundledData.Digits();
        var model = new DigitsAe();
        double initial = MeanBce(model, digits);

        // Per-sample SGD, visiting the samples in a fixed shuffled order each epoch.
        var order = Enumerable.Range(0, digits.Count).ToArray();
        var random = new Random(1);
        for (int epoch = 0; epoch < 30; epoch++)
        {
            random.Shuffle(order);
            foreach (int index in order)
            {
                model.TrainStep(digits[index], 0.05f);
            }
        }

        double trained = MeanBce(model, digits);

        // Measured: 0.7008 at initialisation (near ln 2: untrained sigmoid outputs sit near 0.5) and
        // 0.2509 after these 30 epochs (PyTorch with Adam reaches 0.2485 after 200 epochs). The data's
        // own entropy keeps BCE above ≈0.2; an untrained or broken model stays near ln 2.
        Assert.InRange(initial, 0.68, 0.72);
        Assert.True(trained < 0.26, $"mean BCE after training {trained:F4} (initial {initial:F4})");
        Assert.True(trained < 0.45 * initial);
    }

    private static double MeanBce(DigitsAe model, Dataset data)
    {
        var output = new float[DigitsAe.InputSize];
        double sum = 0;
        for (int i = 0; i < data.Count; i++)
        {
            sum += model.Reconstruct(data[i], output);
        }

        return Metrics.MeanPerElement(LossKind.BinaryCrossEntropy, sum / data.Count, DigitsAe.InputSize);
    }
}
