using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using EdgeAe.Data;
using EdgeAe.IO;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;

namespace EdgeAe.Generators.Tests;

/// <summary>
/// RAM and flash of firmware models with baked weights, measured from real firmware assemblies
/// (compiled against nanoFramework's mscorlib, optimised) and checked against the generated constants.
/// The figures are in docs/firmware.md.
/// </summary>
public sealed class NanoFootprintTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgeae-footprint-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("Digits", 64, 16, false)]
    [InlineData("Digits", 64, 16, true)]
    [InlineData("Fashion", 784, 64, false)]
    public void Baked_firmware_models_state_their_ram_and_flash(string name, int input, int code, bool training)
    {
        string declaration(string extra) => $$"""
            using EdgeAe;
            namespace Device;
            [Autoencoder(Input = {{input}}, Loss = Loss.BinaryCrossEntropy, Seed = 1{{extra}})]
            [Code({{code}}, Activation.Sigmoid)]
            [Output(Activation.Sigmoid)]
            public partial class {{name}};
            """;

        // A weight file from the desktop flavour of the same declaration.
        string weights = Path.Combine(_folder, name + ".eaw");
        GeneratorRun desktop = GeneratorHarness.Run(declaration(string.Empty));
        GeneratorHarness.WithModel(desktop, "Device." + name, model =>
        {
            WeightFile.Save(weights, model, Normalization.None);
            return 0;
        });

        string extra = $", Weights = \"{name}.eaw\"" + (training ? ", OnDeviceTraining = true" : string.Empty);
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Firmware" + name,
            [GeneratorHarness.ParseSource(declaration(extra), 0)],
            [NanoHarness.Mscorlib],
            GeneratorHarness.CompilationOptions.WithOptimizationLevel(OptimizationLevel.Release));
        GeneratorRun run = GeneratorHarness.Run(NanoHarness.CreateDriver("NanoFramework", new WeightFileText(weights)), compilation);
        Assert.Empty(NanoHarness.Problems(run));

        using var image = new MemoryStream();
        EmitResult emitted = run.Output.Emit(image, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(emitted.Success);
        byte[] bytes = image.ToArray();
        using var pe = new PEReader(ImmutableArray.Create(bytes));
        MetadataReader reader = pe.GetMetadataReader();
        int ilBytes = reader.MethodDefinitions
            .Select(h => reader.GetMethodDefinition(h).RelativeVirtualAddress)
            .Where(rva => rva != 0)
            .Sum(rva => pe.GetMethodBody(rva).Size);

        string source = run.ModelSource("Device." + name);
        int ram = Constant(source, "RamBytes");
        int bakedData = Constant(source, "BakedDataFlashBytes");
        int parameterBuffer = Constant(source, "ParameterBufferLength");
        Assert.Equal(parameterBuffer * 4, bakedData);

        // The baked parameters are one data blob in the assembly (RuntimeHelpers.InitializeArray), not code.
        Assert.True(bytes.Length > bakedData && bytes.Length < bakedData + 64 * 1024, $"assembly {bytes.Length} bytes for {bakedData} bytes of data");
        Assert.True(ilBytes < 32 * 1024, $"{ilBytes} bytes of IL");

        Report.Line($"{name}{(training ? " + on-device training" : string.Empty)}: RAM {ram:N0} bytes (RamBytes), flash: assembly {bytes.Length:N0} bytes = baked data {bakedData:N0} + IL {ilBytes:N0} + metadata");
    }

    private static int Constant(string source, string name)
    {
        string marker = $"public const int {name} = ";
        int start = source.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return int.Parse(source[start..source.IndexOf(';', start)], System.Globalization.CultureInfo.InvariantCulture);
    }
}
