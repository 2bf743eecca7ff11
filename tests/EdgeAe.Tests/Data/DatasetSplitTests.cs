using EdgeAe.Data;

namespace EdgeAe.Tests.Data;

public sealed class DatasetSplitTests
{
    private static Dataset Numbered(int count)
    {
        var values = new float[count];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = i;
            labels[i] = i;
        }

        return new Dataset(values, count, 1, labels);
    }

    [Fact]
    public void Split_is_a_partition_of_the_requested_size_in_original_order()
    {
        (Dataset train, Dataset validation) = DatasetSplit.TrainValidation(Numbered(100), 0.2, seed: 1);
        Assert.Equal(80, train.Count);
        Assert.Equal(20, validation.Count);
        int[] all = [.. train.Labels!, .. validation.Labels!];
        Assert.Equal(Enumerable.Range(0, 100), all.Order());
        Assert.Equal(train.Labels!.Order(), train.Labels!);
        Assert.Equal(validation.Labels!.Order(), validation.Labels!);
        Assert.Equal(validation.Labels!.Select(l => (float)l), validation.Values.ToArray());
    }

    [Fact]
    public void Same_seed_same_split_other_seed_other_split()
    {
        Dataset data = Numbered(50);
        int[] a = DatasetSplit.TrainValidation(data, 0.3, 42).Validation.Labels!;
        int[] b = DatasetSplit.TrainValidation(data, 0.3, 42).Validation.Labels!;
        int[] c = DatasetSplit.TrainValidation(data, 0.3, 43).Validation.Labels!;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Split_is_pinned_so_it_never_depends_on_the_runtime()
    {
        // SplitMix64 and Fisher–Yates are ours; this exact split must stay the same forever.
        int[] validation = DatasetSplit.TrainValidation(Numbered(10), 0.3, 7).Validation.Labels!;
        Assert.Equal(PinnedValidation, validation);
    }

    // Computed independently (Python) from the SplitMix64 reference and Fisher–Yates from the last index down.
    private static readonly int[] PinnedValidation = [5, 8, 9];

    [Fact]
    public void Tiny_fractions_keep_one_sample_on_each_side()
    {
        Assert.Equal(1, DatasetSplit.TrainValidation(Numbered(10), 0.001, 0).Validation.Count);
        Assert.Equal(1, DatasetSplit.TrainValidation(Numbered(10), 0.999, 0).Train.Count);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public void Fraction_outside_the_open_unit_interval_is_rejected(double fraction)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.TrainValidation(Numbered(10), fraction, 0));
        Assert.Equal("validationFraction", e.ParamName);
        Assert.Contains("validationFraction", e.Message);
    }

    [Fact]
    public void One_sample_cannot_be_split()
        => Assert.Throws<ArgumentException>(() => DatasetSplit.TrainValidation(Numbered(1), 0.5, 0));
}
