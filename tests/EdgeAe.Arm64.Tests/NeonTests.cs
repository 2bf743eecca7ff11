using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeAe.Kernels;
using EdgeAe.Tests;
using S = EdgeAe.Kernels.SimdMath<EdgeAe.Kernels.Simd1, float>;
using S128 = EdgeAe.Kernels.SimdMath<EdgeAe.Kernels.Simd128, System.Runtime.Intrinsics.Vector128<float>>;

namespace EdgeAe.Arm64.Tests;

/// <summary>Widths 1–7, 9, 13 and 20: every remainder of a 4-lane vector, as outputs, inputs and batch rows.</summary>
[Autoencoder(Input = 13, Loss = Loss.SquaredError, Seed = 40, MaxBatch = 7)]
[Encoder(9, Activation.Tanh)]
[Encoder(7, Activation.Relu)]
[Encoder(5, Activation.Sigmoid)]
[Code(3, Activation.Linear)]
[Decoder(6, Activation.Tanh)]
[Decoder(20, Activation.Relu)]
[Output(Activation.Linear)]
public partial class NeonTailsAe;

/// <summary>The default digits model's shape: 64 → 16 → 64, sigmoid, binary cross-entropy.</summary>
[Autoencoder(Input = 64, Loss = Loss.BinaryCrossEntropy, Seed = 41)]
[Code(16, Activation.Sigmoid)]
[Output(Activation.Sigmoid)]
public partial class NeonDigitsAe;

/// <summary>Tied weights, so the transposed-copy products run too.</summary>
[Autoencoder(Input = 10, Loss = Loss.BinaryCrossEntropy, Seed = 42, TiedWeights = true, MaxBatch = 5)]
[Encoder(6, Activation.Tanh)]
[Code(5, Activation.Sigmoid)]
[Decoder(6, Activation.Relu)]
[Output(Activation.Sigmoid)]
public partial class NeonTiedAe;

public sealed class NeonTests
{
    public const string Packages = "qemu-user qemu-user-static binfmt-support libssl3:arm64 libicu72:arm64";

    public static TheoryData<string> Models => new() { nameof(NeonTailsAe), nameof(NeonDigitsAe), nameof(NeonTiedAe) };

    private static IAutoencoder Create(string name) => name switch
    {
        nameof(NeonTailsAe) => new NeonTailsAe(),
        nameof(NeonDigitsAe) => new NeonDigitsAe(),
        _ => new NeonTiedAe(),
    };

    [Fact]
    public void Runs_on_arm64_with_advsimd()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.Arm64)
        {
            Assert.Skip($"Not on ARM64 ({RuntimeInformation.ProcessArchitecture}). Run this suite under emulation: apt-get install {Packages}; "
                + "dotnet publish tests/EdgeAe.Arm64.Tests -c Release -r linux-arm64 --self-contained -o out-arm64; ./out-arm64/EdgeAe.Arm64.Tests (.ci/run does this).");
        }

        Assert.Equal(Architecture.Arm64, RuntimeInformation.ProcessArchitecture);
        Assert.True(AdvSimd.IsSupported);
        Assert.True(Vector128.IsHardwareAccelerated);
        Assert.False(Vector256.IsHardwareAccelerated);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_matches_the_double_precision_reference(string name)
    {
        IAutoencoder model = Create(name);
        Perturb(model);
        double[] parameters = ToDouble(model.Parameters);
        for (int sample = 0; sample < 3; sample++)
        {
            float[] input = Input(model, sample);
            (double[][] expected, _) = ReferenceModel.Forward(model.Topology, parameters, ToDouble(input));
            var output = new float[model.Topology.InputSize];
            float loss = model.Reconstruct(input, output);
            AssertClose(expected[^1], output, 1e-5, name);
            double expectedLoss = ReferenceModel.Loss(model.Topology, parameters, ToDouble(input), ToDouble(input));
            Assert.True(Math.Abs(loss - expectedLoss) <= 1e-5 * Math.Max(1, Math.Abs(expectedLoss)), $"{name} loss {loss} vs {expectedLoss}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Batch_decode_and_scores_equal_the_single_sample_ones_bit_for_bit(string name)
    {
        IAutoencoder model = Create(name);
        Perturb(model);
        int width = model.Topology.InputSize, codeSize = model.Topology.CodeSize;
        int count = model.Topology.MaxBatchSize;
        var inputs = new float[count * width];
        var codes = new float[count * codeSize];
        for (int s = 0; s < count; s++)
        {
            Input(model, s).CopyTo(inputs.AsSpan(s * width, width));
            model.Encode(inputs.AsSpan(s * width, width), codes.AsSpan(s * codeSize, codeSize));
        }

        var outputs = new float[count * width];
        var scores = new float[count];
        model.DecodeBatch(codes, outputs);
        model.ScoreBatch(inputs, scores);
        var one = new float[width];
        for (int s = 0; s < count; s++)
        {
            model.Decode(codes.AsSpan(s * codeSize, codeSize), one);
            Assert.True(one.AsSpan().SequenceEqual(outputs.AsSpan(s * width, width)), $"{name} batch decode, sample {s}");
            Assert.Equal(BitConverter.SingleToInt32Bits(model.Score(inputs.AsSpan(s * width, width))), BitConverter.SingleToInt32Bits(scores[s]));
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Batch_gradients_match_finite_differences_of_the_reference(string name)
    {
        IAutoencoder model = Create(name);
        Perturb(model);
        double[] parameters = ToDouble(model.Parameters);
        int count = Math.Min(3, model.Topology.MaxBatchSize);
        int width = model.Topology.InputSize;
        var inputs = new float[count * width];
        var targets = new float[count * width];
        var expected = new double[parameters.Length];
        for (int s = 0; s < count; s++)
        {
            Input(model, 10 + s).CopyTo(inputs, s * width);
            Input(model, 20 + s).CopyTo(targets, s * width);
            double[] one = ReferenceModel.FiniteDifferenceGradient(model.Topology, parameters, ToDouble(inputs.AsSpan(s * width, width)), ToDouble(targets.AsSpan(s * width, width)));
            for (int k = 0; k < one.Length; k++)
            {
                expected[k] += one[k];
            }
        }

        model.ZeroGradients();
        model.AccumulateBatchGradients(inputs, targets);
        float[] actual = model.Gradients.ToArray();
        for (int k = 0; k < actual.Length; k++)
        {
            Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-4 * Math.Max(1, Math.Abs(expected[k])) + 1e-3 * Math.Abs(expected[k]), $"{name} gradient [{k}]: {actual[k]:R} vs {expected[k]:R}");
        }
    }

    [Fact]
    public void Vector128_math_agrees_with_the_scalar_form_bit_for_bit()
    {
        var random = new Random(3);
        for (int k = 0; k < 20_000; k++)
        {
            float x = (float)(random.NextDouble() * 220 - 110);
            Vector128<float> v = Vector128.Create(x);
            Assert.Equal(S.Exp(x), S128.Exp(v).GetElement(1));
            Assert.Equal(S.Sigmoid(x), S128.Sigmoid(v).GetElement(1));
            Assert.Equal(S.Tanh(x), S128.Tanh(v).GetElement(1));
            Assert.Equal(S.Softplus(x), S128.Softplus(v).GetElement(1));
            Assert.Equal(S.SigmoidStable(x, out _), S128.SigmoidStable(v, out _).GetElement(1));
            Assert.Equal(S.SigmoidWithSoftplus(x, out float softplus), S128.SigmoidWithSoftplus(v, out Vector128<float> vectorSoftplus).GetElement(1));
            Assert.Equal(softplus, vectorSoftplus.GetElement(1));
        }
    }

    private static void Perturb(IAutoencoder model)
    {
        var random = new Random(5);
        Span<float> p = model.Parameters;
        foreach (LayerInfo layer in model.Topology.Layers)
        {
            for (int j = 0; j < layer.Width; j++)
            {
                p[layer.BiasOffset + j] = (float)(random.NextDouble() - 0.5) * 0.4f;
            }
        }
    }

    private static float[] Input(IAutoencoder model, int seed)
    {
        var random = new Random(seed);
        var input = new float[model.Topology.InputSize];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = model.Topology.Loss == LossKind.BinaryCrossEntropy ? (float)random.NextDouble() : (float)(random.NextDouble() * 3 - 1.5);
        }

        return input;
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double tolerance, string name)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"{name} [{i}]: {actual[i]:R} vs {expected[i]:R}");
        }
    }

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }
}
