using EdgeAe.Anomaly;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.IO.Format;
using EdgeAe.Tests.IO;
using EdgeAe.Tests.Models;

namespace EdgeAe.Tests.Anomaly;

/// <summary>The weight file's optional, checksummed 'anom' section.</summary>
public sealed class ThresholdFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "edgeae-anom-" + Guid.NewGuid().ToString("N"));

    public ThresholdFileTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_threshold_round_trips_and_files_without_one_have_none()
    {
        DigitsAe model = WeightFileTestKit.Randomized<DigitsAe>(1);
        string plain = Path.Combine(_folder, "plain.eaw"), calibrated = Path.Combine(_folder, "calibrated.eaw");
        WeightFile.Save(plain, model, Normalization.ScaleBy(16f, 64), global::EdgeAe.Compression.CodeQuantizer.ForActivation(ActivationKind.Sigmoid, 16, 8));
        Assert.Null(WeightFile.ReadThreshold(plain));

        var threshold = new AnomalyThreshold(0.1234567f, CalibrationMethod.Parse("percentile:99.5"), 600);
        WeightFile.SaveWithThreshold(plain, calibrated, threshold);
        Assert.Equal(threshold, WeightFile.ReadThreshold(calibrated));
        Assert.Equal(threshold, WeightFile.Read(calibrated).AnomalyThreshold);

        // Everything else is kept: parameters, normalisation and the codec section.
        byte[] before = File.ReadAllBytes(plain), after = File.ReadAllBytes(calibrated);
        Assert.True(WeightFileFormat.TryParse(before, out WeightFileData? a, out _));
        Assert.True(WeightFileFormat.TryParse(after, out WeightFileData? b, out _));
        Assert.Equal(a!.Parameters, b!.Parameters);
        Assert.Equal(a.NormalizationScale, b.NormalizationScale);
        Assert.Equal(a.CodecBits, b.CodecBits);
        Assert.Equal(a.CodecMax, b.CodecMax);
        Assert.Equal(before.Length + 28, after.Length);
        var loaded = new DigitsAe(99);
        WeightFile.Load(calibrated, loaded);
        Assert.Equal(model.Parameters.ToArray(), loaded.Parameters.ToArray());

        // Re-calibrating replaces the section.
        string again = Path.Combine(_folder, "again.eaw");
        var other = new AnomalyThreshold(2.5f, CalibrationMethod.Parse("gamma:0.9"), 50);
        WeightFile.SaveWithThreshold(calibrated, again, other);
        Assert.Equal(other, WeightFile.ReadThreshold(again));
        Assert.Equal(after.Length, new FileInfo(again).Length);
    }

    [Fact]
    public void The_source_is_never_overwritten()
    {
        DigitsAe model = WeightFileTestKit.Randomized<DigitsAe>(2);
        string path = Path.Combine(_folder, "m.eaw");
        WeightFile.Save(path, model, Normalization.None);
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => WeightFile.SaveWithThreshold(path, Path.Combine(_folder, ".", "m.eaw"), new AnomalyThreshold(1f, CalibrationMethod.Parse("meanstd:3"), 10)));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_damaged_section_is_rejected_with_its_reason()
    {
        DigitsAe model = WeightFileTestKit.Randomized<DigitsAe>(3);
        byte[] good = WeightFile.ToBytes(model, Normalization.None, null, new AnomalyThreshold(0.5f, CalibrationMethod.Parse("meanstd:3"), 20));
        int section = IndexOf(good, "anom"u8.ToArray());
        Assert.True(section > 0);

        byte[] badMethod = Repair(good, bytes => bytes[section + 8] = 9);
        Assert.False(WeightFileFormat.TryParse(badMethod, out _, out string error));
        Assert.Contains("calibration method 9", error);

        byte[] nanThreshold = Repair(good, bytes => BitConverter.TryWriteBytes(bytes.AsSpan(section + 12), float.NaN));
        Assert.False(WeightFileFormat.TryParse(nanThreshold, out _, out WeightFileFormatErrorKind kind, out error));
        Assert.Equal(WeightFileFormatErrorKind.NonFiniteValue, kind);

        byte[] flipped = (byte[])good.Clone();
        flipped[section + 12] ^= 1;
        Assert.False(WeightFileFormat.TryParse(flipped, out _, out kind, out _));
        Assert.Equal(WeightFileFormatErrorKind.ChecksumMismatch, kind);
    }

    private static byte[] Repair(byte[] good, Action<byte[]> change)
    {
        byte[] bytes = (byte[])good.Clone();
        change(bytes);
        uint crc = WeightFileFormat.ComputeCrc32(bytes, 0, bytes.Length - 4);
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), crc);
        return bytes;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }
}
