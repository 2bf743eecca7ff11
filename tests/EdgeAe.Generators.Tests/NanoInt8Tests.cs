using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Quantization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// The firmware flavour of int8 weight files: compiled against nanoFramework's mscorlib with zero diagnostics, run on
/// .NET bit-identical to the desktop's int8 reference and <c>Int8</c> companion, its RAM and flash, its IL per
/// multiply-accumulate, and the declarations an int8 file cannot be baked into (EAE0026).
/// </summary>
public sealed class NanoInt8Tests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-nano-int8-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, string> Declarations => new()
    {
        { "Digits", """
            [Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 1{0})]
            [Code(16, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            """ },
        { "Deep", """
            [Autoencoder(Input = 12, Loss = Loss.BinaryCrossEntropy, Seed = 2{0})]
            [Encoder(10, Activation.Relu)]
            [Encoder(9, Activation.Tanh)]
            [Code(3, Activation.Sigmoid)]
            [Decoder(6, Activation.Linear)]
            [Decoder(11, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            """ },
        { "Sensor", """
            [Autoencoder(Input = 21, Loss = Loss.SquaredError, Seed = 3{0})]
            [Encoder(17, Activation.Tanh)]
            [Code(5, Activation.Linear)]
            [Decoder(17, Activation.Relu)]
            [Output(Activation.Linear)]
            """ },
        { "Tied", """
            [Autoencoder(Input = 8, Loss = Loss.BinaryCrossEntropy, Seed = 4, TiedWeights = true{0})]
            [Encoder(6, Activation.Tanh)]
            [Code(4, Activation.Sigmoid)]
            [Decoder(6, Activation.Relu)]
            [Output(Activation.Sigmoid)]
            """ },
    };

    [Theory]
    [MemberData(nameof(Declarations))]
    public void The_firmware_int8_model_computes_the_desktop_int8_model_bit_for_bit(string name, string attributes)
    {
        (string weights, float[][] inputs, Expected expected) = Quantize(name, attributes);

        // Against nanoFramework's mscorlib alone: no error, no warning.
        GeneratorRun device = RunNano(Declaration(name, attributes, weights), NanoHarness.Mscorlib);
        Assert.Empty(NanoHarness.Problems(device));
        string source = device.ModelSource("Device." + name);
        Assert.Contains("public const bool IsInt8 = true;", source);
        Assert.DoesNotContain("float[] p = ", source); // no float parameters

        // The same code on .NET: every output equal to the desktop's int8 model.
        GeneratorRun onDotNet = GeneratorHarness.Run(
            NanoHarness.CreateDriver("NanoFramework", new WeightFileText(weights)),
            GeneratorHarness.CreateCompilation(Declaration(name, attributes, weights)));
        NanoHarness.WithAssembly(onDotNet, assembly =>
        {
            NanoModel model = NanoModel.Create(assembly, "Device." + name);
            int input = inputs[0].Length, codeSize = expected.Codes[0].Length;
            for (int s = 0; s < inputs.Length; s++)
            {
                var code = new float[codeSize];
                var output = new float[input];
                model.Encode(inputs[s], code);
                AssertBits(expected.Codes[s], code, $"{name} Encode {s}");
                model.Decode(code, output);
                AssertBits(expected.Decoded[s], output, $"{name} Decode {s}");
                float loss = model.Reconstruct(inputs[s], output);
                AssertBits(expected.Reconstructions[s], output, $"{name} Reconstruct {s}");
                Assert.Equal(expected.Losses[s], loss, Math.Max(1e-4, Math.Abs(loss) * 1e-5));
            }

            return 0;
        });
    }

    [Theory]
    [InlineData("Digits", 64, 16, 3_500)]
    [InlineData("Fashion", 784, 64, 115_000)]
    public void Int8_firmware_models_state_their_ram_and_flash_within_the_bars(string name, int input, int code, int bar)
    {
        string attributes = $$"""
            [Autoencoder(Input = {{input}}, Loss = Loss.BinaryCrossEntropy, Seed = 1{0})]
            [Code({{code}}, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            """;
        (string weights, _, _) = Quantize(name, attributes, samples: 4);
        GeneratorRun run = RunNano(Declaration(name, attributes, weights), NanoHarness.Mscorlib, OptimizationLevel.Release);
        Assert.Empty(NanoHarness.Problems(run));
        using var image = new MemoryStream();
        EmitResult emitted = run.Output.Emit(image, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(emitted.Success);
        byte[] bytes = image.ToArray();
        using var pe = new PEReader(ImmutableArray.Create(bytes));
        MetadataReader reader = pe.GetMetadataReader();
        int ilBytes = reader.MethodDefinitions.Select(h => reader.GetMethodDefinition(h).RelativeVirtualAddress).Where(rva => rva != 0).Sum(rva => pe.GetMethodBody(rva).Size);

        string source = run.ModelSource("Device." + name);
        int ram = Constant(source, "RamBytes");
        int baked = Constant(source, "BakedDataFlashBytes");
        int weightsCount = (input * code) + (code * input);
        Assert.True(baked >= weightsCount && baked < weightsCount + (8 * (input + code)) + 1024, $"{baked} bytes of baked data");
        Assert.True(bytes.Length > baked && bytes.Length < baked + (64 * 1024), $"assembly {bytes.Length} bytes for {baked} bytes of data");
        Report.Line($"{name} int8 firmware: RAM {ram:N0} bytes (RamBytes; bar {bar:N0}), flash: assembly {bytes.Length:N0} bytes = baked data {baked:N0} + IL {ilBytes:N0} + metadata");
        Assert.True(ram <= bar, $"{name}: RamBytes {ram:N0} above the bar {bar:N0}");
    }

    [Theory]
    [InlineData("Digits", 64, 16)]
    [InlineData("Fashion", 784, 64)]
    public void Int8_encode_costs_few_il_instructions_per_multiply_accumulate(string name, int input, int code)
    {
        string attributes = $$"""
            [Autoencoder(Input = {{input}}, Loss = Loss.BinaryCrossEntropy, Seed = 1{0})]
            [Code({{code}}, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            """;
        (string weights, _, _) = Quantize(name, attributes, samples: 4);
        GeneratorRun run = RunNano(Declaration(name, attributes, weights), NanoHarness.Mscorlib, OptimizationLevel.Release);
        Assert.Empty(NanoHarness.Problems(run));
        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image, cancellationToken: TestContext.Current.CancellationToken).Success);
        var cost = new IlCost(image.ToArray());
        int macs = input * code;
        long encode = cost.Executed(name, "Encode");
        long layers = cost.Executed(name, "EncodeLayers");
        var inner = cost.InnerLoops(name, "EncodeLayers").Where(l => l.Multiplies > 0).ToArray();
        string report = $"{name} int8: {encode:N0} IL per Encode ({(double)encode / macs:F2} per MAC; the dense loops {(double)layers / macs:F2}); inner loops: "
            + string.Join(", ", inner.Select(l => $"{l.Instructions} IL for {l.Multiplies} MAC × {l.Trips}"));
        Report.Line(report);

        // The same blocked loop as float (93 IL per 8 MACs), on sbyte and int: no float in the products. Around it, each
        // input is quantised (a float multiply and rounding, ~35 IL) and each output requantised (a 64-bit multiply and
        // shift, ~35 IL), which a 64 → 16 layer feels. Measured: 18.75 (digits) and 13.13 (784 → 64) IL per MAC, the
        // dense loops 12.73 and 11.71; float: 13.51 and 11.77.
        Assert.True((double)encode / macs < 20, report);
        Assert.True((double)layers / macs < 13.5, report);
        Assert.All(inner, l => Assert.True((double)l.Instructions / l.Multiplies < 12, report));
    }

    [Theory]
    [InlineData("Desktop", "", "baking it is for the firmware flavour")]
    [InlineData("NanoFramework", ", OnDeviceTraining = true", "an int8 model runs inference only (training on the device stays float32)")]
    public void An_int8_file_where_it_cannot_go_is_EAE0026(string target, string extra, string message)
    {
        const string attributes = """
            [Autoencoder(Input = 12, Loss = Loss.BinaryCrossEntropy, Seed = 5{0})]
            [Code(3, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            """;
        (string weights, _, _) = Quantize("Small", attributes, samples: 4);
        string declaration = Declaration("Small", attributes.Replace("{0}", extra + "{0}", StringComparison.Ordinal), weights);
        GeneratorRun run = GeneratorHarness.Run(NanoHarness.CreateDriver(target, new WeightFileText(weights)), GeneratorHarness.CreateCompilation(declaration));
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == "EAE0026");
        Assert.Contains("holds an int8 model: " + message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(run.ModelSources);
    }

    /// <summary>The float model of the declaration (seeded, biases spread), quantised on seeded inputs; the int8 file and the desktop int8 outputs.</summary>
    private (string Weights, float[][] Inputs, Expected Expected) Quantize(string name, string attributes, int samples = 24)
    {
        string path = Path.Combine(_folder, name + ".int8.eaw");
        GeneratorRun desktop = GeneratorHarness.Run(Declaration(name, attributes, null));
        return GeneratorHarness.WithModel(desktop, "Device." + name, model =>
        {
            var random = new Random(name.Length);
            Span<float> p = model.Parameters;
            foreach (LayerInfo layer in model.Topology.Layers)
            {
                for (int j = 0; j < layer.Width; j++)
                {
                    p[layer.BiasOffset + j] += (float)(random.NextDouble() - 0.5);
                }
            }

            int width = model.Topology.InputSize;
            bool bce = model.Topology.Loss == LossKind.BinaryCrossEntropy;
            float[][] inputs = Enumerable.Range(0, samples)
                .Select(_ => Enumerable.Range(0, width).Select(_ => bce ? (float)random.NextDouble() : (float)(random.NextDouble() * 4 - 2)).ToArray())
                .ToArray();
            var data = new Dataset(inputs.SelectMany(x => x).ToArray(), samples, width);
            QuantizedParameters parameters = Quantizer.Quantize(model, data).Parameters;
            WeightFile.Save(path, parameters, Normalization.None);

            // The desktop int8 companion of the same declaration, loaded from the same file.
            var int8 = (IAutoencoder)Activator.CreateInstance(model.GetType().GetNestedType("Int8")!)!;
            WeightFile.Load(path, int8);
            int codeSize = model.Topology.CodeSize;
            var expected = new Expected(new float[samples][], new float[samples][], new float[samples][], new float[samples]);
            for (int s = 0; s < samples; s++)
            {
                expected.Codes[s] = new float[codeSize];
                int8.Encode(inputs[s], expected.Codes[s]);
                AssertBits(Int8Reference.Encode(parameters, inputs[s]), expected.Codes[s], "desktop against the reference");
                expected.Decoded[s] = new float[width];
                int8.Decode(expected.Codes[s], expected.Decoded[s]);
                expected.Reconstructions[s] = new float[width];
                expected.Losses[s] = int8.Reconstruct(inputs[s], expected.Reconstructions[s]);
            }

            return (path, inputs, expected);
        });
    }

    private static string Declaration(string name, string attributes, string? weights)
        => "using EdgeAe;\nnamespace Device;\n" + attributes.Replace("{0}", weights is null ? string.Empty : $", Weights = \"{Path.GetFileName(weights)}\"", StringComparison.Ordinal)
            + $"\npublic partial class {name};\n";

    private GeneratorRun RunNano(string declaration, MetadataReference mscorlib, OptimizationLevel optimization = OptimizationLevel.Debug)
    {
        string weights = Directory.GetFiles(_folder, "*.int8.eaw").Single(f => declaration.Contains(Path.GetFileName(f), StringComparison.Ordinal));
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Firmware",
            [GeneratorHarness.ParseSource(declaration, 0)],
            [mscorlib],
            GeneratorHarness.CompilationOptions.WithOptimizationLevel(optimization));
        return GeneratorHarness.Run(NanoHarness.CreateDriver("NanoFramework", new WeightFileText(weights)), compilation);
    }

    private static int Constant(string source, string name)
    {
        string marker = $"public const int {name} = ";
        int start = source.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return int.Parse(source[start..source.IndexOf(';', start)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}, value {i}: expected {expected[i]}, found {actual[i]}");
        }
    }

    private sealed record Expected(float[][] Codes, float[][] Decoded, float[][] Reconstructions, float[] Losses);
}
