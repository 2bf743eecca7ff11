using EdgeAe.Baselines;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.IO.Format;
using EdgeAe.Tests.Models;
using static EdgeAe.Tests.IO.WeightFileTestKit;

namespace EdgeAe.Tests.IO;

/// <summary>The optional <c>pcab</c> section: the PCA baseline stored at training time for <c>edgeae eval</c>.</summary>
public sealed class WeightFileBaselineTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-pcab-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_baseline_and_the_code_quantisation_round_trip_beside_the_parameters()
    {
        var model = Randomized<DigitsAe>(3);
        Dataset digits = BundledData.Digits();
        Pca pca = Pca.Fit(digits, DigitsAe.CodeSize, TestContext.Current.CancellationToken);
        var codec = global::EdgeAe.Compression.CodeQuantizer.For(model, digits, 8);
        string path = Path.Combine(_folder, "m.eaw");
        WeightFile.Save(path, model, Normalization.ScaleBy(16, 64), new WeightFileExtras { Codec = codec, Baseline = pca });

        WeightFileInfo info = WeightFile.Read(path);
        Assert.Equal(8, info.CodeBits);
        Pca stored = info.Baseline!;
        Assert.Equal(pca.Mean.ToArray(), stored.Mean.ToArray());
        Assert.Equal(pca.Basis.ToArray(), stored.Basis.ToArray());
        Assert.Equal(pca.Variances.ToArray().Select(v => (float)v), stored.Variances.ToArray().Select(v => (float)v));
        Assert.Equal(1797, stored.Samples);
        Assert.Equal(pca.MeanSquaredError(digits), stored.MeanSquaredError(digits), 1e-9);

        var loaded = new DigitsAe();
        WeightFile.Load(path, loaded);
        Assert.Equal(model.Parameters.ToArray(), loaded.Parameters.ToArray());

        // Without the section nothing is reported.
        WeightFile.Save(path, model, Normalization.None);
        Assert.Null(WeightFile.Read(path).Baseline);
        Assert.Null(WeightFile.Read(path).CodeBits);
    }

    [Fact]
    public void A_malformed_baseline_section_is_rejected_like_any_section()
    {
        var model = Randomized<DeepBceAe>(1);
        Pca pca = Pca.Fit(new Dataset(Enumerable.Range(0, 70).Select(i => (float)Math.Sin(i)).ToArray(), 10, 7), 3, TestContext.Current.CancellationToken);
        byte[] bytes = WeightFile.ToBytes(model, Normalization.None, new WeightFileExtras { Baseline = pca });
        int section = bytes.AsSpan().IndexOf("pcab"u8);
        Assert.True(section > 0);

        byte[] wrongWidth = (byte[])bytes.Clone();
        wrongWidth[section + 8] = 6; // width 6 for a 7-input model
        FixChecksum(wrongWidth);
        Assert.False(WeightFileFormat.TryParse(wrongWidth, out _, out string error));
        Assert.Contains("section 'pcab' describes 6 inputs but the input width is 7", error);

        byte[] nan = (byte[])bytes.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(nan, section + 8 + 16);
        FixChecksum(nan);
        Assert.False(WeightFileFormat.TryParse(nan, out _, out WeightFileFormatErrorKind kind, out error));
        Assert.Equal(WeightFileFormatErrorKind.NonFiniteValue, kind);
        Assert.Contains("section 'pcab' holds NaN", error);

        Assert.Throws<ArgumentException>(() => WeightFile.ToBytes(model, Normalization.None, new WeightFileExtras { Baseline = Pca.Fit(BundledData.Digits(), 4, TestContext.Current.CancellationToken) }));
    }
}
