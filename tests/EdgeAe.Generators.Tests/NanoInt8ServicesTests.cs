using System.Reflection;
using EdgeAe.Anomaly;
using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Quantization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// What a device does with an int8 model besides Encode and Decode: the packet codec (<c>CodeBits</c>) and the anomaly
/// members (Score, ScoreFeatures, IsAnomaly, AnomalyWindow, AnomalySmoother) of the firmware int8 flavour compile
/// against nanoFramework's mscorlib alone and compute, on .NET, the desktop int8 companion's packets
/// (<see cref="PacketCodec"/>) and portable scores bit for bit, with the runtime's windows and votes; nothing allocates.
/// </summary>
public sealed class NanoInt8ServicesTests : IDisposable
{
    /// <summary>A learned (linear) code range stored in the file's 'qant' section, 16-bit codes, squared error.</summary>
    private const string Sensor = """
        using EdgeAe;
        namespace Device;
        [Autoencoder(Input = 12, Loss = Loss.SquaredError, Seed = 6, CodeBits = 16{0})]
        [Encoder(9, Activation.Tanh)]
        [Code(4, Activation.Linear)]
        [Decoder(9, Activation.Relu)]
        [Output(Activation.Linear)]
        public partial class Model;
        """;

    /// <summary>A sigmoid code (its range is known, no 'qant' section), 8-bit codes, binary cross-entropy.</summary>
    private const string Pixels = """
        using EdgeAe;
        namespace Device;
        [Autoencoder(Input = 16, Loss = Loss.BinaryCrossEntropy, Seed = 9, CodeBits = 8{0})]
        [Code(5, Activation.Sigmoid)]
        [Output(Activation.Sigmoid)]
        public partial class Model;
        """;

    private const int Frames = 4;

    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-nano-int8-services-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_firmware_int8_codec_and_anomaly_members_compile_against_nanoFrameworks_mscorlib(bool sensor)
    {
        string weights = SaveInt8(sensor, out _, out _);
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Firmware", [GeneratorHarness.ParseSource(Declaration(sensor, weights), 0)], [NanoHarness.Mscorlib], GeneratorHarness.CompilationOptions);
        GeneratorRun run = GeneratorHarness.Run(Driver(weights), compilation);
        run.AssertGeneratorDidNotThrow();
        Diagnostic[] problems = NanoHarness.Problems(run);
        Assert.True(problems.Length == 0, GeneratorHarness.DescribeFailure(run, problems));
        string model = run.ModelSource("Device.Model");
        Assert.Contains("public const bool IsInt8 = true;", model);
        Assert.Contains("public int EncodePacket(float[] input, uint sequence, byte[] packet)", model);
        Assert.Contains("public int EncodePacket(float[] input, uint sequence, byte[] packet, out float score)", model);
        Assert.Contains("public bool IsAnomaly(AnomalyWindow window)", model);
        Assert.DoesNotContain("float[] p = ", model); // no float parameters
        ReadabilityTests.AssertLinesWithin120(model);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Firmware_int8_packets_scores_and_decisions_are_the_desktop_int8_models_bit_for_bit(bool sensor)
    {
        string weights = SaveInt8(sensor, out float threshold, out int bits);
        int width = sensor ? 12 : 16;
        float[][] inputs = GeneratorHarness.UniformInputs(300, width, seed: 31);
        float[][] frames = GeneratorHarness.UniformInputs(400, width / Frames, seed: 32);

        // The desktop int8 companion loaded from the same file: the runtime's codec, portable scores, windows and votes.
        GeneratorRun desktopRun = GeneratorHarness.Run(Declaration(sensor, null));
        Reference expected = GeneratorHarness.WithModel(desktopRun, "Device.Model", model =>
        {
            var int8 = (QuantizedAutoencoder)Activator.CreateInstance(model.GetType().GetNestedType("Int8")!)!;
            PacketCodec codec = PacketCodec.Load(weights, int8, bits);
            var reference = new Reference(codec.PacketLength, codec.SequencedPacketLength, codec.ScoredPacketLength);
            foreach (float[] input in inputs)
            {
                var packet = new byte[codec.PacketLength];
                codec.Encode(input, packet);
                var sequenced = new byte[codec.SequencedPacketLength];
                codec.Encode(input, Sequence(reference.Packets.Count), sequenced);
                reference.Packets.Add(packet);
                reference.Sequenced.Add(sequenced);
                var scored = new byte[codec.ScoredPacketLength];
                codec.Encode(input, Sequence(reference.Scored.Count), scored, out _);
                reference.Scored.Add(scored);
                var terms = new float[width];
                float score = int8.ScorePortable(input);
                Assert.Equal(score, int8.ScoreFeatures(input, terms));
                reference.Scores.Add(score);
                reference.Terms.Add(terms);
            }

            var window = new SlidingWindow(Frames, width / Frames);
            DecisionSmoother vote = DecisionSmoother.Vote(2, 3, threshold);
            foreach (float[] frame in frames)
            {
                window.Push(frame);
                if (window.IsFull)
                {
                    float s = int8.ScorePortable(window.Current);
                    reference.WindowScores.Add(s);
                    reference.Alarms.Add(vote.Add(s));
                }
            }

            return reference;
        });
        Assert.Contains(true, expected.WindowScores.Select(s => s > threshold));
        Assert.Contains(false, expected.WindowScores.Select(s => s > threshold));

        GeneratorRun nanoRun = GeneratorHarness.Run(Driver(weights), GeneratorHarness.CreateCompilation(Declaration(sensor, weights)));
        NanoHarness.WithAssembly(nanoRun, assembly =>
        {
            Type type = assembly.GetType("Device.Model", throwOnError: true)!;
            object device = Activator.CreateInstance(type)!;
            Assert.Equal(threshold, (float)type.GetField("AnomalyThreshold")!.GetRawConstantValue()!);
            Assert.Equal(expected.PacketLength, (int)type.GetField("PacketLength")!.GetRawConstantValue()!);
            Assert.Equal(expected.SequencedPacketLength, (int)type.GetField("SequencedPacketLength")!.GetRawConstantValue()!);
            var encodePacket = type.GetMethod("EncodePacket", [typeof(float[]), typeof(byte[])])!.CreateDelegate<Func<float[], byte[], int>>(device);
            var encodeSequenced = type.GetMethod("EncodePacket", [typeof(float[]), typeof(uint), typeof(byte[])])!.CreateDelegate<Func<float[], uint, byte[], int>>(device);
            Assert.Equal(expected.ScoredPacketLength, (int)type.GetField("ScoredPacketLength")!.GetRawConstantValue()!);
            var encodeScored = type.GetMethod("EncodePacket", [typeof(float[]), typeof(uint), typeof(byte[]), typeof(float).MakeByRefType()])!.CreateDelegate<CodecFlavorTests.EncodeScored>(device);
            var scored = new byte[expected.ScoredPacketLength];
            var score = type.GetMethod("Score", [typeof(float[])])!.CreateDelegate<Func<float[], float>>(device);
            var scoreFeatures = type.GetMethod("ScoreFeatures")!.CreateDelegate<Func<float[], float[], float>>(device);
            var isAnomaly = type.GetMethod("IsAnomaly", [typeof(float[])])!.CreateDelegate<Func<float[], bool>>(device);
            var packet = new byte[expected.PacketLength];
            var sequenced = new byte[expected.SequencedPacketLength];
            var terms = new float[width];
            for (int i = 0; i < inputs.Length; i++)
            {
                Assert.Equal(packet.Length, encodePacket(inputs[i], packet));
                Assert.Equal(expected.Packets[i], packet);
                Assert.Equal(sequenced.Length, encodeSequenced(inputs[i], Sequence(i), sequenced));
                Assert.Equal(expected.Sequenced[i], sequenced);
                Assert.Equal(scored.Length, encodeScored(inputs[i], Sequence(i), scored, out float deviceScore));
                Assert.Equal(expected.Scored[i], scored);
                Assert.Equal(BitConverter.SingleToInt32Bits(expected.Scores[i]), BitConverter.SingleToInt32Bits(deviceScore));
                Assert.Equal(BitConverter.SingleToInt32Bits(expected.Scores[i]), BitConverter.SingleToInt32Bits(score(inputs[i])));
                Assert.Equal(BitConverter.SingleToInt32Bits(expected.Scores[i]), BitConverter.SingleToInt32Bits(scoreFeatures(inputs[i], terms)));
                Assert.Equal(expected.Terms[i], terms);
                Assert.Equal(expected.Scores[i] > threshold, isAnomaly(inputs[i]));
            }

            // The generated window and vote give the runtime's window scores and alarms.
            Type windowType = type.GetNestedType("AnomalyWindow")!;
            object window = Activator.CreateInstance(windowType, Frames)!;
            object vote = type.GetNestedType("AnomalySmoother")!.GetMethod("Vote")!.Invoke(null, [2, 3, threshold])!;
            var push = windowType.GetMethod("Push")!.CreateDelegate<Action<float[]>>(window);
            var add = vote.GetType().GetMethod("Add")!.CreateDelegate<Func<float, bool>>(vote);
            PropertyInfo isFull = windowType.GetProperty("IsFull")!;
            MethodInfo scoreWindow = type.GetMethod("Score", [windowType])!;
            MethodInfo isAnomalyWindow = type.GetMethod("IsAnomaly", [windowType])!;
            int k = 0;
            foreach (float[] frame in frames)
            {
                push(frame);
                if ((bool)isFull.GetValue(window)!)
                {
                    float s = (float)scoreWindow.Invoke(device, [window])!;
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected.WindowScores[k]), BitConverter.SingleToInt32Bits(s));
                    Assert.Equal(s > threshold, (bool)isAnomalyWindow.Invoke(device, [window])!);
                    Assert.Equal(expected.Alarms[k], add(s));
                    k++;
                }
            }

            Assert.Equal(expected.WindowScores.Count, k);

            // The device paths allocate nothing.
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                encodePacket(inputs[i], packet);
                encodeSequenced(inputs[i], Sequence(i), sequenced);
                score(inputs[i]);
                scoreFeatures(inputs[i], terms);
                isAnomaly(inputs[i]);
                push(frames[i]);
                add(0.5f);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

            // RAM: the codec's arrays are counted (two per-value arrays, two more for the static range it starts from),
            // and the window's ring is two copies of the input.
            int ram = (int)type.GetField("RamBytes")!.GetRawConstantValue()!;
            int workspace = (int)type.GetField("WorkspaceBytes")!.GetRawConstantValue()!;
            int baked = (int)type.GetField("BakedDataFlashBytes")!.GetRawConstantValue()!;
            int codeSize = sensor ? 4 : 5;
            Assert.Equal(baked + workspace + (3 * 12) + (4 * ((codeSize * 4) + 12)), ram);
            Assert.Equal(ram + (2 * width * 4) + 12, (int)type.GetField("RamBytesWithWindow")!.GetRawConstantValue()!);
            return 0;
        });
    }

    [Fact]
    public void A_CodeBits_declaration_needs_the_int8_files_learned_range_or_bits_EAE0025_EAE0024()
    {
        // The int8 file of a linear code saved without its 'qant' section: the range is unknown.
        string path = Path.Combine(_folder, "sensor-no-range.int8.eaw");
        QuantizedParameters parameters = Quantize(sensor: true);
        WeightFile.Save(path, parameters, Normalization.None);
        GeneratorRun run = GeneratorHarness.Run(Driver(path), GeneratorHarness.CreateCompilation(Declaration(true, path)));
        Assert.Equal("EAE0025", Assert.Single(run.GeneratorDiagnostics, d => d.Id.StartsWith("EAE", StringComparison.Ordinal)).Id);
        Assert.Empty(run.ModelSources);

        // A file whose code quantisation has other bits than the declaration.
        string eight = SaveInt8(sensor: true, out _, out _, overrideBits: 8);
        run = GeneratorHarness.Run(Driver(eight), GeneratorHarness.CreateCompilation(Declaration(true, eight)));
        Diagnostic mismatch = Assert.Single(run.GeneratorDiagnostics, d => d.Id.StartsWith("EAE", StringComparison.Ordinal));
        Assert.Equal("EAE0024", mismatch.Id);
        Assert.Empty(run.ModelSources);
    }

    /// <summary>Sequence numbers that exercise every byte of the field.</summary>
    private static uint Sequence(int i) => (uint)i * 0x9E3779B1u;

    private static string Declaration(bool sensor, string? weights)
        => (sensor ? Sensor : Pixels).Replace("{0}", weights is null ? string.Empty : ", Weights = \"" + Path.GetFileName(weights) + "\"", StringComparison.Ordinal);

    /// <summary>The float model of the declaration (seeded, biases spread) quantised on seeded inputs.</summary>
    private static QuantizedParameters Quantize(bool sensor)
    {
        GeneratorRun run = GeneratorHarness.Run(Declaration(sensor, null));
        return GeneratorHarness.WithModel(run, "Device.Model", model =>
        {
            var random = new Random(sensor ? 1 : 2);
            Span<float> p = model.Parameters;
            foreach (LayerInfo layer in model.Topology.Layers)
            {
                for (int j = 0; j < layer.Width; j++)
                {
                    p[layer.BiasOffset + j] += (float)(random.NextDouble() - 0.5);
                }
            }

            int width = model.Topology.InputSize;
            return Quantizer.Quantize(model, new Dataset(GeneratorHarness.UniformInputs(200, width, seed: 33).SelectMany(x => x).ToArray(), 200, width)).Parameters;
        });
    }

    /// <summary>
    /// The int8 file the device bakes: the quantised model, for the sensor its code range measured on the int8 model
    /// (a 'qant' section of <paramref name="overrideBits"/>, else 16 bits), and a threshold at the median portable score of random windows.
    /// </summary>
    private string SaveInt8(bool sensor, out float threshold, out int bits, int? overrideBits = null)
    {
        bits = overrideBits ?? (sensor ? 16 : 8);
        string name = (sensor ? "sensor" : "pixels") + "-" + bits.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string plain = Path.Combine(_folder, name + ".plain.int8.eaw");
        string path = Path.Combine(_folder, name + ".int8.eaw");
        QuantizedParameters parameters = Quantize(sensor);
        int width = parameters.InputSize;
        WeightFile.Save(plain, parameters, Normalization.None);
        int codeBits = bits;
        GeneratorRun run = GeneratorHarness.Run(Declaration(sensor, null));
        threshold = GeneratorHarness.WithModel(run, "Device.Model", model =>
        {
            var int8 = (QuantizedAutoencoder)Activator.CreateInstance(model.GetType().GetNestedType("Int8")!)!;
            WeightFile.Load(plain, int8);
            var data = new Dataset(GeneratorHarness.UniformInputs(200, width, seed: 34).SelectMany(x => x).ToArray(), 200, width);
            string withCodec = Path.Combine(_folder, name + ".codec.int8.eaw");
            WeightFile.Save(withCodec, parameters, Normalization.None, sensor ? CodeQuantizer.Measure(int8, data, codeBits) : null);
            float[] scores = GeneratorHarness.UniformInputs(201, width / Frames, seed: 35).Chunk(Frames).Where(c => c.Length == Frames)
                .Select(c => int8.ScorePortable(c.SelectMany(f => f).ToArray())).ToArray();
            AnomalyThreshold t = Calibration.FromNormalScores(scores, EdgeAe.Anomaly.CalibrationMethod.Parse("percentile:50"));
            WeightFile.SaveWithThreshold(withCodec, path, t);
            return t.Threshold;
        });
        return path;
    }

    private static GeneratorDriver Driver(string weights) => NanoHarness.CreateDriver("NanoFramework", [new WeightFileText(weights)]);

    private sealed record Reference(int PacketLength, int SequencedPacketLength, int ScoredPacketLength)
    {
        public List<byte[]> Packets { get; } = [];

        public List<byte[]> Sequenced { get; } = [];

        public List<byte[]> Scored { get; } = [];

        public List<float> Scores { get; } = [];

        public List<float[]> Terms { get; } = [];

        public List<float> WindowScores { get; } = [];

        public List<bool> Alarms { get; } = [];
    }
}
