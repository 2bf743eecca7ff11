using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using EdgeAe.Data;
using EdgeAe.IO;
using EdgeAe.Quantization;

namespace EdgeAe.Tests.Quantization;

/// <summary>A deep int8 model for the cross-machine check: every activation, widths that leave tails on every rung.</summary>
[Autoencoder(Input = 20, Loss = Loss.BinaryCrossEntropy, Seed = 50, MaxBatch = 9)]
[Encoder(13, Activation.Relu)]
[Encoder(9, Activation.Tanh)]
[Code(6, Activation.Sigmoid)]
[Decoder(11, Activation.Linear)]
[Output(Activation.Sigmoid)]
public partial class GoldenInt8Ae;

/// <summary>
/// Laptop equals device equals server: the committed int8 file <see cref="File"/> run on seeded inputs gives codes and
/// reconstructions whose SHA-256 is <see cref="Digest"/> — on x64 at every ISA rung (CI's legs) and on ARM64 under
/// qemu (this file is linked into tests/EdgeAe.Arm64.Tests). The firmware flavour is held to the same numbers by
/// tests/EdgeAe.Generators.Tests/NanoInt8Tests.cs.
/// </summary>
public sealed class Int8GoldenTests
{
    public const string File = "golden.int8.eaw";

    /// <summary>SHA-256 of every code and reconstruction (float bits, little-endian) for <see cref="Inputs"/>, measured on x64.</summary>
    public const string Digest = "dac632226a40b395cd5963640fd9ebe7d1b4e89cd94f59da35312572b0a40021";

    [Fact]
    public void Codes_and_reconstructions_are_the_same_bits_on_every_machine()
    {
        var model = new GoldenInt8Ae.Int8();
        WeightFile.Load(Path.Combine(AppContext.BaseDirectory, "Assets", File), model);
        float[] inputs = Inputs();
        var code = new float[GoldenInt8Ae.CodeSize];
        var output = new float[GoldenInt8Ae.InputSize];
        var codes = new float[9 * GoldenInt8Ae.CodeSize];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int s = 0; s < inputs.Length / GoldenInt8Ae.InputSize; s++)
        {
            ReadOnlySpan<float> x = inputs.AsSpan(s * GoldenInt8Ae.InputSize, GoldenInt8Ae.InputSize);
            model.Encode(x, code);
            model.Reconstruct(x, output);
            Assert.Equal(Int8Reference.Encode(model.Quantization!, x), code);
            Assert.Equal(Int8Reference.Reconstruct(model.Quantization!, x), output);
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(code.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(output.AsSpan()));
        }

        model.EncodeBatch(inputs.AsSpan(0, 9 * GoldenInt8Ae.InputSize), codes);
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(codes.AsSpan()));
        string digest = Convert.ToHexStringLower(hash.GetHashAndReset());
        TestContext.Current.SendDiagnosticMessage($"int8 golden digest on {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}: {digest}");
        Assert.Equal(Digest, digest);
    }

    /// <summary>Seeded inputs in [0, 1], some at the ends and halfway between two input codes.</summary>
    public static float[] Inputs()
    {
        var values = new float[40 * GoldenInt8Ae.InputSize];
        ulong state = 0x5EED;
        for (int i = 0; i < values.Length; i++)
        {
            state = (state * 6364136223846793005UL) + 1442695040888963407UL;
            values[i] = i % 17 == 0 ? 0f : i % 19 == 0 ? 1f : i % 23 == 0 ? 127.5f / 255 : (float)((state >> 40) / (double)(1UL << 24));
        }

        return values;
    }

    /// <summary>
    /// Writes the committed asset (only after a deliberate format change): EDGEAE_REGENERATE_INT8_GOLDEN=1 runs this
    /// once; the file goes to tests/EdgeAe.Tests/Assets. The recipe: the declaration's seeded weights with spread
    /// biases, calibrated on <see cref="Inputs"/>.
    /// </summary>
    [Fact]
    public void Regenerate_the_asset_when_asked()
    {
        if (Environment.GetEnvironmentVariable("EDGEAE_REGENERATE_INT8_GOLDEN") != "1")
        {
            Assert.Skip("Only to rewrite the committed golden.int8.eaw: set EDGEAE_REGENERATE_INT8_GOLDEN=1.");
        }

        var model = new GoldenInt8Ae();
        Span<float> p = model.Parameters;
        for (int k = 0; k < p.Length; k++)
        {
            p[k] += 0.01f * ((k % 7) - 3);
        }

        float[] inputs = Inputs();
        QuantizedParameters parameters = Quantizer.Quantize(model, new Dataset(inputs, inputs.Length / GoldenInt8Ae.InputSize, GoldenInt8Ae.InputSize)).Parameters;
        WeightFile.Save(SourceAsset(), parameters, Normalization.None);
    }

    private static string SourceAsset([CallerFilePath] string source = "")
        => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(source)!)!, "Assets", File);
}
