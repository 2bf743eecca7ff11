namespace EdgeAe.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, MIT licence): 28×28 grey-scale images of clothing in
/// 10 classes, 60000 for training and 10000 for testing, as installed by the Debian package
/// <see cref="DebianPackage"/> into <see cref="DefaultDirectory"/>. Pixels are raw values 0..255
/// (callers scale by <see cref="PixelMax"/>), labels the class 0..9.
/// </summary>
public static class FashionMnist
{
    /// <summary>The Debian package that installs the files: <c>apt-get install -y dataset-fashion-mnist</c>.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Where <see cref="DebianPackage"/> installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist/";

    /// <summary>File name of the training images.</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte.gz";

    /// <summary>File name of the training labels.</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte.gz";

    /// <summary>File name of the test images.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte.gz";

    /// <summary>File name of the test labels.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The largest pixel value.</summary>
    public const float PixelMax = 255f;

    /// <summary>Whether all four files are in <see cref="DefaultDirectory"/>.</summary>
    public static bool IsAvailable => IsAvailableIn(DefaultDirectory);

    /// <summary>Whether all four files are in <paramref name="directory"/>.</summary>
    public static bool IsAvailableIn(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return File.Exists(Path.Combine(directory, TrainImagesFile)) && File.Exists(Path.Combine(directory, TrainLabelsFile))
            && File.Exists(Path.Combine(directory, TestImagesFile)) && File.Exists(Path.Combine(directory, TestLabelsFile));
    }

    /// <summary>The 60000 training images with labels, from <paramref name="directory"/> (default <see cref="DefaultDirectory"/>).</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says which package installs it.</exception>
    /// <exception cref="DataFormatException">A file is malformed.</exception>
    public static Dataset LoadTrain(string? directory = null) => Load(directory, TrainImagesFile, TrainLabelsFile);

    /// <summary>The 10000 test images with labels, from <paramref name="directory"/> (default <see cref="DefaultDirectory"/>).</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says which package installs it.</exception>
    /// <exception cref="DataFormatException">A file is malformed.</exception>
    public static Dataset LoadTest(string? directory = null) => Load(directory, TestImagesFile, TestLabelsFile);

    private static Dataset Load(string? directory, string imagesFile, string labelsFile)
    {
        directory ??= DefaultDirectory;
        string images = Path.Combine(directory, imagesFile);
        string labels = Path.Combine(directory, labelsFile);
        foreach (string path in new[] { images, labels })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException(
                    $"Fashion-MNIST file '{path}' not found; on Debian or Ubuntu install it with 'apt-get install -y {DebianPackage}'.", path);
            }
        }

        return IdxReader.ReadImages(images, labels);
    }
}
