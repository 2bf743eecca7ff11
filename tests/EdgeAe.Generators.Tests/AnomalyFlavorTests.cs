using System.Reflection;
using EdgeAe.Anomaly;
using EdgeAe.IO;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// Anomaly members of both flavours: the firmware's Score, ScoreFeatures, IsAnomaly, AnomalyWindow and AnomalySmoother
/// compile against nanoFramework's mscorlib alone, compute bit for bit what the desktop's portable path computes (and
/// what the runtime's window and smoother decide), allocate nothing, and the threshold is baked from the 'anom' section.
/// </summary>
public sealed class AnomalyFlavorTests : IDisposable
{
    private const string Bce = """
        using EdgeAe;
        namespace Device;
        [Autoencoder(Input = 12, Loss = Loss.BinaryCrossEntropy, Seed = 5{0})]
        [Encoder(8, Activation.Relu)]
        [Code(3, Activation.Sigmoid)]
        [Decoder(8, Activation.Tanh)]
        [Output(Activation.Sigmoid)]
        public partial class Sensor;
        """;

    private const string SquaredError = """
        using EdgeAe;
        namespace Device;
        [Autoencoder(Input = 12, Loss = Loss.SquaredError, Seed = 6{0})]
        [Encoder(9, Activation.Tanh)]
        [Code(4, Activation.Linear)]
        [Decoder(9, Activation.Relu)]
        [Output(Activation.Linear)]
        public partial class Sensor;
        """;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "edgeae-anomaly-" + Guid.NewGuid().ToString("N"));

    public AnomalyFlavorTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Firmware_anomaly_members_compile_against_nanoFrameworks_mscorlib_with_zero_diagnostics(bool bce, bool baked)
    {
        string? weights = baked ? SaveWeights(bce, out _) : null;
        CSharpCompilation compilation = CSharpCompilation.Create(
            "EdgeAe.Firmware", [GeneratorHarness.ParseSource(Declaration(bce, weights), 0)], [NanoHarness.Mscorlib], GeneratorHarness.CompilationOptions);
        GeneratorRun run = GeneratorHarness.Run(Driver("NanoFramework", weights), compilation);
        run.AssertGeneratorDidNotThrow();
        Diagnostic[] problems = NanoHarness.Problems(run);
        Assert.True(problems.Length == 0, GeneratorHarness.DescribeFailure(run, problems));
        string model = run.ModelSource("Device.Sensor");
        Assert.Contains("public float Score(float[] input)", model);
        Assert.Contains("public sealed class AnomalyWindow", model);
        Assert.Equal(baked, model.Contains("public bool IsAnomaly(float[] input)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Firmware_scores_and_decisions_are_bit_identical_to_the_desktop_portable_path(bool bce)
    {
        string weights = SaveWeights(bce, out float threshold);
        GeneratorRun desktopRun = GeneratorHarness.Run(Driver("Desktop", weights), GeneratorHarness.CreateCompilation(Declaration(bce, weights)));
        GeneratorRun nanoRun = GeneratorHarness.Run(Driver("NanoFramework", weights), GeneratorHarness.CreateCompilation(Declaration(bce, weights)));
        float[][] frames = GeneratorHarness.UniformInputs(400, 3, seed: 21); // a stream of 3-feature frames; windows of 4 frames = 12 inputs
        float[][] inputs = GeneratorHarness.UniformInputs(300, 12, seed: 22);

        // Desktop: portable scores of the inputs and of every window of the stream, the fast path's flags, the baked constants.
        (float[] Scores, float[][] Terms, float[] WindowScores, bool[] Flags, bool[] Alarms, float Threshold, int Fast) desktop = GeneratorHarness.WithModel(desktopRun, "Device.Sensor", model =>
        {
            Type type = model.GetType();
            Assert.True((bool)type.GetField("HasAnomalyThreshold")!.GetRawConstantValue()!);
            float baked = (float)type.GetField("AnomalyThreshold")!.GetRawConstantValue()!;
            var isAnomalyPortable = type.GetMethod("IsAnomalyPortable")!.CreateDelegate<IsAnomalyOfSpan>(model);
            float[] scores = inputs.Select(x => model.ScorePortable(x)).ToArray();
            float[][] terms = inputs.Select(x =>
            {
                var t = new float[12];
                Assert.Equal(model.ScorePortable(x), model.ScoreFeatures(x, t));
                return t;
            }).ToArray();
            Assert.All(inputs, x => Assert.Equal(model.ScorePortable(x) > baked, isAnomalyPortable(x)));
            int fastAgrees = inputs.Count(x => model.Score(x) > baked == model.ScorePortable(x) > baked);

            var window = new SlidingWindow(4, 3);
            DecisionSmoother vote = DecisionSmoother.Vote(2, 3, baked);
            var windowScores = new List<float>();
            var flags = new List<bool>();
            var alarms = new List<bool>();
            foreach (float[] frame in frames)
            {
                window.Push(frame);
                if (window.IsFull)
                {
                    float s = model.ScorePortable(window.Current);
                    windowScores.Add(s);
                    flags.Add(s > baked);
                    alarms.Add(vote.Add(s));
                }
            }

            return (scores, terms, windowScores.ToArray(), flags.ToArray(), alarms.ToArray(), baked, fastAgrees);
        });
        Assert.Equal(threshold, desktop.Threshold);
        Assert.Equal(inputs.Length, desktop.Fast); // the fast path decides the same for these inputs (not guaranteed in general)
        Assert.Contains(true, desktop.Flags);
        Assert.Contains(false, desktop.Flags);

        NanoHarness.WithAssembly(nanoRun, assembly =>
        {
            Type type = assembly.GetType("Device.Sensor", throwOnError: true)!;
            object device = Activator.CreateInstance(type)!;
            var score = (Func<float[], float>)type.GetMethod("Score", [typeof(float[])])!.CreateDelegate(typeof(Func<float[], float>), device);
            var scoreFeatures = (Func<float[], float[], float>)type.GetMethod("ScoreFeatures")!.CreateDelegate(typeof(Func<float[], float[], float>), device);
            var isAnomaly = (Func<float[], bool>)type.GetMethod("IsAnomaly", [typeof(float[])])!.CreateDelegate(typeof(Func<float[], bool>), device);
            Assert.Equal(threshold, (float)type.GetField("AnomalyThreshold")!.GetRawConstantValue()!);
            var terms = new float[12];
            for (int i = 0; i < inputs.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(desktop.Scores[i]), BitConverter.SingleToInt32Bits(score(inputs[i])));
                Assert.Equal(BitConverter.SingleToInt32Bits(desktop.Scores[i]), BitConverter.SingleToInt32Bits(scoreFeatures(inputs[i], terms)));
                Assert.Equal(desktop.Terms[i], terms);
                Assert.Equal(desktop.Scores[i] > threshold, isAnomaly(inputs[i]));
            }

            // The generated window and smoother give the runtime's windows, scores and alarms.
            Type windowType = type.GetNestedType("AnomalyWindow")!;
            Type smootherType = type.GetNestedType("AnomalySmoother")!;
            object window = Activator.CreateInstance(windowType, 4)!;
            object vote = smootherType.GetMethod("Vote")!.Invoke(null, [2, 3, threshold])!;
            var push = (Action<float[]>)windowType.GetMethod("Push")!.CreateDelegate(typeof(Action<float[]>), window);
            PropertyInfo isFull = windowType.GetProperty("IsFull")!;
            MethodInfo scoreWindow = type.GetMethod("Score", [windowType])!;
            MethodInfo isAnomalyWindow = type.GetMethod("IsAnomaly", [windowType])!;
            var add = (Func<float, bool>)smootherType.GetMethod("Add")!.CreateDelegate(typeof(Func<float, bool>), vote);
            int k = 0;
            foreach (float[] frame in frames)
            {
                push(frame);
                if ((bool)isFull.GetValue(window)!)
                {
                    float s = (float)scoreWindow.Invoke(device, [window])!;
                    Assert.Equal(BitConverter.SingleToInt32Bits(desktop.WindowScores[k]), BitConverter.SingleToInt32Bits(s));
                    Assert.Equal(desktop.Flags[k], (bool)isAnomalyWindow.Invoke(device, [window])!);
                    Assert.Equal(desktop.Alarms[k], add(s));
                    k++;
                }
            }

            Assert.Equal(desktop.WindowScores.Length, k);

            // The device path allocates nothing.
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                score(inputs[i]);
                scoreFeatures(inputs[i], terms);
                push(frames[i]);
                add(0.5f);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

            // RAM: the window's ring is two copies of the input, counted with the model.
            int ram = (int)type.GetField("RamBytes")!.GetRawConstantValue()!;
            Assert.Equal((2 * 12 * 4) + 12, (int)type.GetField("WindowRamBytes")!.GetRawConstantValue()!);
            Assert.Equal(ram + (2 * 12 * 4) + 12, (int)type.GetField("RamBytesWithWindow")!.GetRawConstantValue()!);
            return 0;
        });
    }

    [Fact]
    public void Without_an_anom_section_nothing_is_baked_and_the_ema_smoother_matches_the_runtime()
    {
        GeneratorRun nanoRun = GeneratorHarness.Run(NanoHarness.CreateDriver("NanoFramework"), GeneratorHarness.CreateCompilation(Declaration(true, null)));
        string source = nanoRun.ModelSource("Device.Sensor");
        Assert.Contains("public const bool HasAnomalyThreshold = false;", source);
        Assert.DoesNotContain("const float AnomalyThreshold", source);
        NanoHarness.WithAssembly(nanoRun, assembly =>
        {
            Type smootherType = assembly.GetType("Device.Sensor", throwOnError: true)!.GetNestedType("AnomalySmoother")!;
            object ema = smootherType.GetMethod("Ema")!.Invoke(null, [0.3f, 0.6f])!;
            var add = (Func<float, bool>)smootherType.GetMethod("Add")!.CreateDelegate(typeof(Func<float, bool>), ema);
            DecisionSmoother reference = DecisionSmoother.Ema(0.3f, 0.6f);
            var random = new Random(4);
            for (int i = 0; i < 500; i++)
            {
                float s = (float)random.NextDouble();
                Assert.Equal(reference.Add(s), add(s));
            }

            Assert.Throws<TargetInvocationException>(() => smootherType.GetMethod("Vote")!.Invoke(null, [3, 33, 0.5f]));
            return 0;
        });
    }

    [Fact]
    public void Firmware_md_states_the_window_ram_the_generator_emits()
    {
        int WindowRamBytes(int input)
        {
            string declaration = $$"""
                using EdgeAe;
                namespace Device;
                [Autoencoder(Input = {{input}})]
                [Code(16, Activation.Sigmoid)]
                [Output(Activation.Sigmoid)]
                public partial class Window{{input}};
                """;
            string source = GeneratorHarness.Run(NanoHarness.CreateDriver("NanoFramework"), GeneratorHarness.CreateCompilation(declaration))
                .ModelSource("Device.Window" + input);
            const string marker = "public const int WindowRamBytes = ";
            int start = source.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
            return int.Parse(source[start..source.IndexOf(';', start)], System.Globalization.CultureInfo.InvariantCulture);
        }

        string firmware = File.ReadAllText(Path.Combine(RepositoryRoot, "docs", "firmware.md")).ReplaceLineEndings(" ");
        string digits = WindowRamBytes(64).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        string fashion = WindowRamBytes(784).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"({digits} for the digits model, {fashion} for 784 inputs)", firmware, StringComparison.Ordinal);
    }

    private static readonly string RepositoryRoot = typeof(AnomalyFlavorTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EdgeAe.RepositoryRoot").Value!;

    private delegate bool IsAnomalyOfSpan(ReadOnlySpan<float> input);

    private static string Declaration(bool bce, string? weights)
        => (bce ? Bce : SquaredError).Replace("{0}", weights is null ? string.Empty : ", Weights = \"" + Path.GetFileName(weights) + "\"");

    /// <summary>Seeded parameters with a threshold at the median portable score of random inputs (so both decisions occur).</summary>
    private string SaveWeights(bool bce, out float threshold)
    {
        string path = Path.Combine(_folder, $"sensor-{(bce ? "bce" : "se")}.eaw");
        GeneratorRun run = GeneratorHarness.Run(Declaration(bce, null));
        threshold = GeneratorHarness.WithModel(run, "Device.Sensor", model =>
        {
            float[] scores = GeneratorHarness.UniformInputs(201, 3, seed: 23).Chunk(4).Where(c => c.Length == 4).Select(c => model.ScorePortable(c.SelectMany(f => f).ToArray())).ToArray();
            var t = Calibration.FromNormalScores(scores, CalibrationMethod.Parse("percentile:50"));
            WeightFile.Save(path, model, EdgeAe.Data.Normalization.None, null, t);
            return t.Threshold;
        });
        return path;
    }

    private static GeneratorDriver Driver(string target, string? weights)
        => NanoHarness.CreateDriver(target, weights is null ? [] : [new WeightFileText(weights)]);
}
