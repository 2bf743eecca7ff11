using System.Globalization;

namespace EdgeAe.Anomaly;

/// <summary>
/// Reads anomaly labels: a text file with one label per line, <c>0</c> (normal) or <c>1</c> (anomalous) — also in float
/// notation (<c>1.0</c>, <c>1.000000000000000000e+00</c>) as numpy and pandas write them —, in the order of the data's samples. A first line that is not a number (such as <c>label</c>) is a header; blank lines at
/// the end are ignored; a comma-separated line uses its last field.
/// </summary>
public static class LabelFile
{
    /// <summary>The labels in <paramref name="path"/>.</summary>
    /// <exception cref="AnomalyException">A label is not 0 or 1 (the row is named) or there are none.</exception>
    public static int[] Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] lines = File.ReadAllLines(path);
        int end = lines.Length;
        while (end > 0 && lines[end - 1].Trim().Length == 0)
        {
            end--;
        }

        var labels = new List<int>(end);
        for (int i = 0; i < end; i++)
        {
            string line = lines[i];
            int comma = line.LastIndexOf(',');
            string field = (comma < 0 ? line : line[(comma + 1)..]).Trim().Trim('"');
            if (i == 0 && !double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                continue; // header
            }

            // numpy's savetxt and pandas write the labels 0 and 1 as floats: "0.0", "1.000000000000000000e+00".
            double value = double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) ? parsed : double.NaN;
            labels.Add(value switch
            {
                0 => 0,
                1 => 1,
                _ => throw new AnomalyException($"{Path.GetFileName(path)} row {i + 1}: label '{field}' is not 0 (normal) or 1 (anomalous)."),
            });
        }

        if (labels.Count == 0)
        {
            throw new AnomalyException($"{Path.GetFileName(path)} holds no labels.");
        }

        return labels.ToArray();
    }
}
