using EdgeAe.Data;

namespace EdgeAe.Tests.Compression;

/// <summary>The data sets of the rate–distortion figures, normalised as trained, with their raw bytes.</summary>
public static class RdData
{
    /// <summary>
    /// The Wisconsin diagnostic breast-cancer data, shipped with the tests (Assets/breast_cancer.csv.gz, scikit-learn's
    /// copy of the UCI file; attribution in Assets/breast_cancer.README.md).
    /// </summary>
    public static string BreastCancerPath => Path.Combine(AppContext.BaseDirectory, "Assets", "breast_cancer.csv.gz");

    /// <summary>569 samples of 30 real-valued features; the first 455 (80 %) train, the rest test; standardised on the training part.</summary>
    public static (Dataset Train, Dataset Test, byte[] RawTest) BreastCancer()
    {
        // Header row "569,30,malignant,benign", then 30 features and the class per row.
        using var file = File.OpenRead(BreastCancerPath);
        using var text = new StreamReader(new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress));
        string[] lines = text.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("569,30,malignant,benign", lines[0]);
        using var rows = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines.Skip(1))));
        Dataset all = CsvReader.Read(rows, "breast_cancer.csv", new CsvOptions { HasHeader = false, LabelColumn = -1 });
        Assert.Equal((569, 30), (all.Count, all.Width));
        Dataset train = all.Slice(0, 455);
        Dataset test = all.Slice(455, all.Count - 455);
        Normalization n = Normalizer.FitStandardize(train);
        return (Normalizer.Apply(train, n), Normalizer.Apply(test, n), Float32Bytes(test));
    }

    /// <summary>The 1797 bundled digits (pixels 0..16 scaled by 1/16): the first 1500 train, the last 297 test.</summary>
    public static (Dataset Train, Dataset Test, byte[] RawTest) Digits()
    {
        Dataset raw = BundledData.DigitsRaw();
        Dataset all = BundledData.Digits();
        Dataset rawTest = raw.Slice(1500, raw.Count - 1500);
        return (all.Slice(0, 1500), all.Slice(1500, all.Count - 1500), Uint8Bytes(rawTest));
    }

    /// <summary>Fashion-MNIST, pixels scaled by 1/255; raw test bytes are the uint8 pixels.</summary>
    public static (Dataset Train, Dataset Test, byte[] RawTest) Fashion()
    {
        Dataset train = FashionMnist.LoadTrain();
        Dataset test = FashionMnist.LoadTest();
        Normalization n = Normalizer.FitScale(train, FashionMnist.PixelMax);
        return (Normalizer.Apply(train, n), Normalizer.Apply(test, n), Uint8Bytes(test));
    }

    public static byte[] Uint8Bytes(Dataset raw)
    {
        var bytes = new byte[raw.Values.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = checked((byte)raw.Values[i]);
        }

        return bytes;
    }

    public static byte[] Float32Bytes(Dataset raw)
    {
        var bytes = new byte[raw.Values.Length * 4];
        for (int i = 0; i < raw.Values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), raw.Values[i]);
        }

        return bytes;
    }
}
