using System.Collections.Immutable;
using EdgeAe.Compression;
using EdgeAe.IO;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// The firmware packet codec (<c>[Autoencoder(CodeBits = …)]</c>): compiles against nanoFramework's mscorlib alone,
/// writes the same bytes as the desktop <see cref="PacketCodec"/>, and allocates nothing.
/// </summary>
public sealed class CodecFlavorTests : IDisposable
{
    private const string LinearCode = """
        using EdgeAe;
        namespace Device;
        [Autoencoder(Input = 12, Loss = Loss.SquaredError, Seed = 7, CodeBits = {0}{1})]
        [Encoder(8, Activation.Relu)]
        [Code(4, Activation.Linear)]
        [Decoder(8, Activation.Relu)]
        [Output(Activation.Linear)]
        public partial class Sensor;
        """;

    private const string SigmoidCode = """
        using EdgeAe;
        namespace Device;
        [Autoencoder(Input = 12, Loss = Loss.BinaryCrossEntropy, Seed = 8, CodeBits = {0}{1})]
        [Code(5, Activation.Sigmoid)]
        [Output(Activation.Sigmoid)]
        public partial class Sensor;
        """;

    /// <summary>The firmware's <c>EncodePacket(input, sequence, packet, out score)</c> (a scored, version-3 packet).</summary>
    public delegate int EncodeScored(float[] input, uint sequence, byte[] packet, out float score);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "edgeae-codec-" + Guid.NewGuid().ToString("N"));

    public CodecFlavorTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(false, 8, false)]
    [InlineData(false, 16, false)]
    [InlineData(true, 8, false)]
    [InlineData(true, 16, true)]
    public void Firmware_codec_compiles_against_nanoFrameworks_mscorlib_with_zero_diagnostics(bool linear, int bits, bool baked)
    {
        string weights = baked ? SaveWeights(linear, bits) : null!;
        string source = Declaration(linear, bits, baked ? weights : null);
        CSharpCompilation compilation = CSharpCompilation.Create(
            "EdgeAe.Firmware", [GeneratorHarness.ParseSource(source, 0)], [NanoHarness.Mscorlib], GeneratorHarness.CompilationOptions);
        GeneratorRun run = GeneratorHarness.Run(Driver("NanoFramework", weights), compilation);
        run.AssertGeneratorDidNotThrow();
        Diagnostic[] problems = NanoHarness.Problems(run);
        Assert.True(problems.Length == 0, GeneratorHarness.DescribeFailure(run, problems));
        string model = run.ModelSource("Device.Sensor");
        Assert.Contains("public int EncodePacket(float[] input, byte[] packet)", model);
        Assert.Contains("public int EncodePacket(float[] input, uint sequence, byte[] packet)", model);
        Assert.Contains("public int EncodePacket(float[] input, uint sequence, byte[] packet, out float score)", model);
        Assert.DoesNotContain("global::System.Math", model);
        ReadabilityTests.AssertLinesWithin120(model);
    }

    [Theory]
    [InlineData(true, 8)]
    [InlineData(true, 16)]
    [InlineData(false, 8)]
    [InlineData(false, 16)]
    public void Firmware_packets_are_bit_identical_to_the_desktop_codec_and_decode_within_the_bound(bool linear, int bits)
    {
        string weights = SaveWeights(linear, bits);
        string source = Declaration(linear, bits, weights);
        GeneratorRun desktopRun = GeneratorHarness.Run(Driver("Desktop", weights), GeneratorHarness.CreateCompilation(source));
        GeneratorRun nanoRun = GeneratorHarness.Run(Driver("NanoFramework", weights), GeneratorHarness.CreateCompilation(source));
        float[][] inputs = GeneratorHarness.UniformInputs(500, 12, seed: 11);

        (byte[][] Packets, byte[][] Sequenced, byte[][] Scored, float[][] Reconstructions, float[][] Decoded, double[] Bounds) desktop = GeneratorHarness.WithModel(desktopRun, "Device.Sensor", model =>
        {
            PacketCodec codec = (PacketCodec)model.GetType().GetMethod("CreatePacketCodec")!.Invoke(model, null)!;
            Assert.Equal(codec.SequencedPacketLength, (int)model.GetType().GetField("SequencedPacketLength")!.GetRawConstantValue()!);
            var packets = new byte[inputs.Length][];
            var sequenced = new byte[inputs.Length][];
            var scored = new byte[inputs.Length][];
            var reconstructions = new float[inputs.Length][];
            var decoded = new float[inputs.Length][];
            for (int i = 0; i < inputs.Length; i++)
            {
                packets[i] = new byte[codec.PacketLength];
                codec.Encode(inputs[i], packets[i]);
                sequenced[i] = new byte[codec.SequencedPacketLength];
                codec.Encode(inputs[i], Sequence(i), sequenced[i]);
                scored[i] = new byte[codec.ScoredPacketLength];
                codec.Encode(inputs[i], Sequence(i), scored[i], out float score);
                Assert.Equal(model.ScorePortable(inputs[i]), codec.Check(scored[i]).DeviceScore);
                Assert.Equal(score, codec.Check(scored[i]).DeviceScore);
                reconstructions[i] = new float[12];
                model.Reconstruct(inputs[i], reconstructions[i]);
                decoded[i] = new float[12];
                codec.Decode(packets[i], decoded[i]);
            }

            Assert.Equal(codec.ScoredPacketLength, (int)model.GetType().GetField("ScoredPacketLength")!.GetRawConstantValue()!);
            return (packets, sequenced, scored, reconstructions, decoded, Enumerable.Range(0, codec.Quantizer.CodeSize).Select(codec.Quantizer.MaxError).ToArray());
        });

        NanoHarness.WithAssembly(nanoRun, assembly =>
        {
            object device = Activator.CreateInstance(assembly.GetType("Device.Sensor", throwOnError: true)!)!;
            var encodePacket = device.GetType().GetMethod("EncodePacket", [typeof(float[]), typeof(byte[])])!.CreateDelegate<Func<float[], byte[], int>>(device);
            var encodeSequenced = device.GetType().GetMethod("EncodePacket", [typeof(float[]), typeof(uint), typeof(byte[])])!.CreateDelegate<Func<float[], uint, byte[], int>>(device);
            var packet = new byte[(int)device.GetType().GetField("PacketLength")!.GetRawConstantValue()!];
            var sequencedPacket = new byte[(int)device.GetType().GetField("SequencedPacketLength")!.GetRawConstantValue()!];
            var encodeScored = device.GetType().GetMethod("EncodePacket", [typeof(float[]), typeof(uint), typeof(byte[]), typeof(float).MakeByRefType()])!.CreateDelegate<EncodeScored>(device);
            var score = device.GetType().GetMethod("Score", [typeof(float[])])!.CreateDelegate<Func<float[], float>>(device);
            var scoredPacket = new byte[(int)device.GetType().GetField("ScoredPacketLength")!.GetRawConstantValue()!];
            int different = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                Assert.Equal(packet.Length, encodePacket(inputs[i], packet));
                different += packet.AsSpan().SequenceEqual(desktop.Packets[i]) ? 0 : 1;
                Assert.Equal(sequencedPacket.Length, encodeSequenced(inputs[i], Sequence(i), sequencedPacket));
                different += sequencedPacket.AsSpan().SequenceEqual(desktop.Sequenced[i]) ? 0 : 1;
                Assert.Equal(scoredPacket.Length, encodeScored(inputs[i], Sequence(i), scoredPacket, out float deviceScore));
                different += scoredPacket.AsSpan().SequenceEqual(desktop.Scored[i]) ? 0 : 1;
                Assert.Equal(BitConverter.SingleToInt32Bits(score(inputs[i])), BitConverter.SingleToInt32Bits(deviceScore));
            }

            // Linear/ReLU layers compute the same floats on both flavours, so every packet is the same bytes. A sigmoid code
            // differs by ~1e-7 between the flavours' exp (docs/math.md); a value within that of a rounding boundary could
            // differ by one step — none does for these inputs.
            Assert.Equal(0, different);

            // No allocation on the device path (after the first call sets the range up).
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++)
            {
                encodePacket(inputs[i], packet);
                encodeSequenced(inputs[i], Sequence(i), sequencedPacket);
                encodeScored(inputs[i], Sequence(i), scoredPacket, out _);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

            // A non-finite score (a NaN input) is refused, as the desktop codec refuses it, and nothing is written.
            float[] broken = (float[])inputs[0].Clone();
            broken[3] = float.NaN;
            Array.Clear(scoredPacket);
            Assert.Throws<ArgumentException>(() => encodeScored(broken, 1, scoredPacket, out _));
            Assert.All(scoredPacket, b => Assert.Equal(0, b));
            return 0;
        });
    }

    [Fact]
    public void The_firmwares_float_bits_are_BitConverters_for_every_kind_of_finite_float()
    {
        // The firmware writes a float's bits through its double (nanoFramework has no allocation-free float-to-bits).
        GeneratorRun run = GeneratorHarness.Run(Driver("NanoFramework", null), GeneratorHarness.CreateCompilation(Declaration(false, 8, null)));
        NanoHarness.WithAssembly(run, assembly =>
        {
            var write = assembly.GetType("Device.Sensor", throwOnError: true)!.GetMethod("WritePacketScore", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .CreateDelegate<Action<byte[], float>>();
            var random = new Random(5);
            float[] special = [0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, 1.1754942e-38f, 1.17549435e-38f, float.MaxValue, float.MinValue, 1f, 0.1f, 3.4e-5f, 123456.79f];
            IEnumerable<float> randomBits = Enumerable.Range(0, 20000).Select(_ => BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31))).Where(float.IsFinite);
            var packet = new byte[11];
            foreach (float value in special.Concat(randomBits))
            {
                write(packet, value);
                Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.ToInt32(packet, 7));
            }

            return 0;
        });
    }

    [Fact]
    public void EAE0024_and_EAE0025_a_baked_file_must_store_the_declared_bits_and_a_learned_range()
    {
        string eightBits = SaveWeights(linear: true, bits: 8);
        GeneratorRun run = GeneratorHarness.Run(Driver("Desktop", eightBits), GeneratorHarness.CreateCompilation(Declaration(true, 16, eightBits)));
        Diagnostic mismatch = Assert.Single(run.GeneratorDiagnostics.Where(d => d.Id.StartsWith("EAE", StringComparison.Ordinal)));
        Assert.Equal("EAE0024", mismatch.Id);
        Assert.Contains("CodeBits = 16 but the weight file \"sensor-linear-8.eaw\" stores a code quantisation of 8 bits", mismatch.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

        string noRange = Path.Combine(_folder, "sensor-plain.eaw");
        GeneratorHarness.WithModel(GeneratorHarness.Run(Declaration(true, 8, null)), "Device.Sensor", model =>
        {
            WeightFile.Save(noRange, model, EdgeAe.Data.Normalization.None);
            return 0;
        });
        run = GeneratorHarness.Run(Driver("Desktop", noRange), GeneratorHarness.CreateCompilation(Declaration(true, 8, noRange)));
        Diagnostic missing = Assert.Single(run.GeneratorDiagnostics.Where(d => d.Id.StartsWith("EAE", StringComparison.Ordinal)));
        Assert.Equal("EAE0025", missing.Id);
        Assert.Empty(run.ModelSources);
    }

    /// <summary>Sequence numbers that exercise every byte of the field.</summary>
    private static uint Sequence(int i) => (uint)i * 0x9E3779B1u;

    private string Declaration(bool linear, int bits, string? weights)
        => (linear ? LinearCode : SigmoidCode).Replace("{0}", bits.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Replace("{1}", weights is null ? string.Empty : ", Weights = \"" + Path.GetFileName(weights) + "\"");

    /// <summary>Seeded parameters saved with a code range measured on random inputs (a 'qant' section).</summary>
    private string SaveWeights(bool linear, int bits)
    {
        string path = Path.Combine(_folder, $"sensor-{(linear ? "linear" : "sigmoid")}-{bits}.eaw");
        GeneratorRun run = GeneratorHarness.Run(Declaration(linear, bits, null));
        GeneratorHarness.WithModel(run, "Device.Sensor", model =>
        {
            var data = new EdgeAe.Data.Dataset(GeneratorHarness.UniformInputs(300, 12, seed: 3).SelectMany(x => x).ToArray(), 300, 12);
            WeightFile.Save(path, model, EdgeAe.Data.Normalization.None, CodeQuantizer.Measure(model, data, bits));
            return 0;
        });
        return path;
    }

    private static GeneratorDriver Driver(string target, string? weights)
        => NanoHarness.CreateDriver(target, weights is null ? [] : [new WeightFileText(weights)]);
}
