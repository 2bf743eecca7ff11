namespace EdgeAe.Data;

/// <summary>The data set that ships with EdgeAe's tools and samples (in EdgeAe.SampleData, not in the runtime package).</summary>
public static class BundledData
{
    /// <summary>Pixels of the digits set are integers 0..16.</summary>
    public const float DigitsPixelMax = 16f;

    private const string DigitsResource = "EdgeAe.Data.digits.csv.gz";

    /// <summary>
    /// The UCI optical recognition of handwritten digits test set (1797 images of 8×8 pixels,
    /// E. Alpaydin and C. Kaynak, 1998, CC BY 4.0), with pixels scaled to [0, 1] (divided by 16)
    /// and the digit as label.
    /// </summary>
    public static Dataset Digits()
    {
        Dataset raw = DigitsRaw();
        return Normalizer.Apply(raw, Normalizer.FitScale(raw, DigitsPixelMax));
    }

    /// <summary>The digits set of <see cref="Digits"/> with raw pixel values 0..16.</summary>
    public static Dataset DigitsRaw()
    {
        using Stream resource = typeof(BundledData).Assembly.GetManifestResourceStream(DigitsResource)
            ?? throw new InvalidOperationException("The bundled digits resource is missing from the EdgeAe.SampleData assembly.");

        // 64 pixel columns then the digit, no header.
        return CsvReader.Read(resource, "digits.csv.gz (bundled)", new CsvOptions { HasHeader = false, LabelColumn = -1 });
    }
}
