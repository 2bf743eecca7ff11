using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.IO.Format;
using EdgeAe.Tests.Models;
using static EdgeAe.Tests.IO.WeightFileTestKit;

namespace EdgeAe.Tests.IO;

/// <summary>Saving and loading reproduce parameters and normalisation bit for bit.</summary>
public sealed class WeightFileRoundTripTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-weights-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void DigitsAe_round_trips_bit_identically() => RoundTrip<DigitsAe>(Normalization.ScaleBy(16, DigitsAe.Topology.InputSize));

    [Fact]
    public void DeepBceAe_round_trips_bit_identically() => RoundTrip<DeepBceAe>(Normalization.None);

    [Fact]
    public void DeepSquaredErrorAe_round_trips_bit_identically() => RoundTrip<DeepSquaredErrorAe>(Standardization(DeepSquaredErrorAe.Topology.InputSize, 3));

    [Fact]
    public void OverCompleteAe_round_trips_bit_identically() => RoundTrip<OverCompleteAe>(Normalization.ScaleBy(255, OverCompleteAe.Topology.InputSize));

    [Fact]
    public void TiedDeepAe_round_trips_bit_identically() => RoundTrip<TiedDeepAe>(Normalization.None);

    [Fact]
    public void TiedSquaredErrorAe_round_trips_bit_identically() => RoundTrip<TiedSquaredErrorAe>(Standardization(TiedSquaredErrorAe.Topology.InputSize, 5));

    [Fact]
    public void A_tied_file_does_not_load_into_the_untied_twin()
    {
        // Same widths and activations, but the file says tied: the fingerprint must tell them apart.
        var tied = new TiedDeepAe();
        string path = Path.Combine(_folder, "tied.eaw");
        WeightFile.Save(path, tied, Normalization.None);
        var untied = new UntiedTwinAe();
        float[] before = untied.Parameters.ToArray();
        var exception = Assert.Throws<WeightFileException>(() => WeightFile.Load(path, untied));
        Assert.Equal(WeightFileErrorReason.TopologyMismatch, exception.Reason);
        Assert.Equal(before, untied.Parameters.ToArray());
    }

    public static TheoryData<string> NormalizationKinds => new(nameof(NormalizationKind.None), nameof(NormalizationKind.Scale), nameof(NormalizationKind.Standardize));

    [Theory]
    [MemberData(nameof(NormalizationKinds))]
    public void Normalization_round_trips(string kind)
    {
        int width = DeepBceAe.Topology.InputSize;
        Normalization normalization = kind switch
        {
            nameof(NormalizationKind.None) => Normalization.None,
            nameof(NormalizationKind.Scale) => Normalization.ScaleBy(16, width),
            _ => Standardization(width, 5),
        };

        string path = Path.Combine(_folder, "n.eaw");
        WeightFile.Save(path, Randomized<DeepBceAe>(1), normalization);
        Normalization loaded = WeightFile.Load(path, new DeepBceAe());
        Assert.Equal(normalization.Kind, loaded.Kind);
        Assert.Equal(Bits(normalization.Offset), Bits(loaded.Offset));
        Assert.Equal(Bits(normalization.Scale), Bits(loaded.Scale));
        Assert.Equal(normalization, loaded);
    }

    [Fact]
    public void Read_describes_the_file_for_inspection()
    {
        string path = Path.Combine(_folder, "deep.eaw");
        Normalization normalization = Standardization(DeepBceAe.Topology.InputSize, 2);
        WeightFile.Save(path, Randomized<DeepBceAe>(2), normalization);
        byte[] bytes = File.ReadAllBytes(path);

        WeightFileInfo info = WeightFile.Read(path);

        Assert.Equal(1, info.FormatVersion);
        Assert.Equal(bytes.Length, info.FileSize);
        Assert.Equal(DeepBceAe.Topology.ParameterCount, info.ParameterCount);
        Assert.Equal(12, info.TensorCount);
        Assert.Equal(1, info.ElementType);
        Assert.Equal(DeepBceAe.Topology.ToString(), info.Topology);
        Assert.Equal(normalization, info.Normalization);
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)), info.Checksum);
        Assert.Equal(
            DeepBceAe.Topology.Layers.Select(l => (l.Role, l.InputWidth, l.Width, l.Activation)),
            info.Layers.Select(l => (l.Role, l.InputWidth, l.Width, l.Activation)));
    }

    [Fact]
    public void Saving_overwrites_an_existing_file_and_leaves_no_temporary_file()
    {
        string path = Path.Combine(_folder, "w.eaw");
        WeightFile.Save(path, Randomized<DigitsAe>(1), Normalization.None);
        WeightFile.Save(path, Randomized<DigitsAe>(2), Normalization.None);
        var model = new DigitsAe();
        WeightFile.Load(path, model);
        Assert.Equal(Bits(Randomized<DigitsAe>(2).Parameters), Bits(model.Parameters));
        Assert.Equal(["w.eaw"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Crc32_matches_System_IO_Hashing()
    {
        var random = new Random(42);
        foreach (int length in new[] { 0, 1, 2, 3, 4, 7, 8, 15, 16, 255, 256, 1000, 4096 })
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(bytes), WeightFileFormat.ComputeCrc32(bytes, 0, length));
        }

        // The classic check value of CRC-32/ISO-HDLC.
        Assert.Equal(0xCBF43926u, WeightFileFormat.ComputeCrc32("123456789"u8.ToArray(), 0, 9));
    }

    [Fact]
    public void The_file_starts_with_the_documented_preamble()
    {
        byte[] bytes = WeightFile.ToBytes(new DigitsAe(), Normalization.None);
        Assert.Equal("EAEW"u8.ToArray(), bytes[..4]);
        Assert.Equal(1, BitConverter.ToUInt16(bytes, 4));
        Assert.Equal(0, BitConverter.ToUInt16(bytes, 6));
        Assert.Equal((uint)bytes.Length, BitConverter.ToUInt32(bytes, 8));
        Assert.Equal("TOPO"u8.ToArray(), bytes[12..16]);

        // preamble 12 + TOPO 8+8+2·12 + NORM 8+8 + PARM 8+12+4·8+4·(64·16+16+16·64+64) + CRC 4
        int parameters = DigitsAe.Topology.ParameterCount;
        Assert.Equal(12 + 40 + 16 + 52 + (4 * parameters) + 4, bytes.Length);
        Assert.Equal(8636, bytes.Length);
        Assert.Equal(1116, DeepBceFile(out _).Length);
    }

    private void RoundTrip<T>(Normalization normalization)
        where T : IAutoencoder, new()
    {
        T saved = Randomized<T>(typeof(T).Name.Length);
        string path = Path.Combine(_folder, typeof(T).Name + WeightFile.Extension);
        WeightFile.Save(path, saved, normalization);

        var loaded = new T();
        loaded.InitializeParameters(12345);
        Assert.NotEqual(Bits(saved.Parameters), Bits(loaded.Parameters));

        Normalization restored = WeightFile.Load(path, loaded);

        // The whole buffer, padding included (zero on both sides), is bit-identical.
        Assert.Equal(Bits(saved.Parameters), Bits(loaded.Parameters));
        Assert.Equal(normalization, restored);
        Assert.Equal(saved.Topology.ParameterCount, WeightFile.Read(path).ParameterCount);
    }
}
