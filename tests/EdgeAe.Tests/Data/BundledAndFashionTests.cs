using EdgeAe.Data;

namespace EdgeAe.Tests.Data;

public sealed class BundledAndFashionTests
{
    [Fact]
    public void Digits_are_1797_scaled_8x8_images_with_labels_0_to_9()
    {
        Dataset digits = BundledData.Digits();
        Assert.Equal(1797, digits.Count);
        Assert.Equal(64, digits.Width);
        Assert.All(digits.Values.ToArray(), v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1f, digits.Values.ToArray().Max());
        Assert.Equal(Enumerable.Range(0, 10), digits.Labels!.Distinct().Order());

        // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
        Assert.Equal(5f / 16f, digits[0][2]);
        Assert.Equal(13f / 16f, digits[0][3]);
        Assert.Equal(0, digits.Labels![0]);
    }

    [Fact]
    public void Fashion_mnist_from_a_fixture_directory()
    {
        using var files = new TempFiles();
        byte[] images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 7, 8];
        byte[] labels = [0, 0, 8, 1, 0, 0, 0, 2, 9, 3];
        files.Bytes(FashionMnist.TrainImagesFile, TempFiles.Gzip(images));
        files.Bytes(FashionMnist.TrainLabelsFile, TempFiles.Gzip(labels));
        Assert.False(FashionMnist.IsAvailableIn(files.Directory));
        Dataset train = FashionMnist.LoadTrain(files.Directory);
        Assert.Equal([0f, 255f, 7f, 8f], train.Values.ToArray());
        Assert.Equal([9, 3], train.Labels!);

        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.LoadTest(files.Directory));
        Assert.Contains(FashionMnist.TestImagesFile, e.Message);
        Assert.Contains("apt-get install -y dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void Fashion_mnist_installed_files_load()
    {
        if (!FashionMnist.IsAvailable)
        {
            Assert.Skip("Fashion-MNIST not installed: apt-get install -y dataset-fashion-mnist");
        }

        Dataset train = FashionMnist.LoadTrain();
        Dataset test = FashionMnist.LoadTest();
        Assert.Equal((60000, 784), (train.Count, train.Width));
        Assert.Equal((10000, 784), (test.Count, test.Width));
        Assert.Equal(Enumerable.Range(0, 10), train.Labels!.Distinct().Order());
        Assert.Equal(Enumerable.Range(0, 10), test.Labels!.Distinct().Order());
        Assert.Equal(255f, test.Values.ToArray().Max());
    }
}
