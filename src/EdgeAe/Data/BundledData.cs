using System.Globalization;
using System.IO.Compression;

namespace EdgeAe.Data;

/// <summary>Data sets that ship inside EdgeAe.</summary>
public static class BundledData
{
    /// <summary>Pixels of the digits set are integers 0..16.</summary>
    public const float DigitsPixelMax = 16f;

    /// <summary>
    /// The UCI optical recognition of handwritten digits test set (1797 images of 8×8 pixels,
    /// E. Alpaydin and C. Kaynak, 1998, CC BY 4.0), with pixels scaled to [0, 1] (divided by 16)
    /// and the digit as label.
    /// </summary>
    public static Dataset Digits()
    {
        using Stream resource = typeof(BundledData).Assembly.GetManifestResourceStream("EdgeAe.Data.digits.csv.gz")
            ?? throw new InvalidOperationException("The bundled digits resource is missing from the EdgeAe assembly.");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        const int width = 64;
        var values = new List<float>(1797 * width);
        var labels = new List<int>(1797);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            string[] fields = line.Split(',');
            for (int i = 0; i < width; i++)
            {
                values.Add(float.Parse(fields[i], CultureInfo.InvariantCulture) / DigitsPixelMax);
            }

            labels.Add(int.Parse(fields[width], CultureInfo.InvariantCulture));
        }

        return new Dataset(values.ToArray(), labels.Count, width, labels.ToArray());
    }
}
