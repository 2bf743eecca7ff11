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

    [Theory]
    [InlineData(2, 0.5, 1)]
    [InlineData(101, 0.1, 3)]
    [InlineData(1797, 0.25, 7)]
    public void The_in_place_split_gives_the_same_parts_without_copying_the_values(int count, double fraction, int seed)
    {
        // Point 13: the command line splits a large file without a second copy of it.
        var random = new Random(count);
        var values = new float[count * 5];
        var labels = new int[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.Next(1000);
        }

        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(10);
        }

        (Dataset train, Dataset validation) = DatasetSplit.TrainValidation(new Dataset(values, count, 5, labels), fraction, seed);
        var data = new Dataset((float[])values.Clone(), count, 5, (int[])labels.Clone());
        long before = GC.GetAllocatedBytesForCurrentThread();
        (Dataset trainInPlace, Dataset validationInPlace) = DatasetSplit.TrainValidationInPlace(data, fraction, seed);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(train.Values.ToArray(), trainInPlace.Values.ToArray());
        Assert.Equal(validation.Values.ToArray(), validationInPlace.Values.ToArray());
        Assert.Equal(train.Labels, trainInPlace.Labels);
        Assert.Equal(validation.Labels, validationInPlace.Labels);
        Assert.True(allocated < values.Length * sizeof(float) / 2 + 64 * count + 4096, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Normalising_in_place_matches_the_copy()
    {
        Dataset data = BundledData.DigitsRaw().Slice(0, 50);
        Normalization standardize = Normalizer.FitStandardize(data);
        Dataset copy = Normalizer.Apply(data, standardize);
        Dataset same = Normalizer.ApplyInPlace(data, standardize);
        Assert.Same(data, same);
        Assert.Equal(copy.Values.ToArray(), data.Values.ToArray());
    }
}
