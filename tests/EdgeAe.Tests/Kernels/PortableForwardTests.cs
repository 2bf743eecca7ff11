using EdgeAe.Kernels;

namespace EdgeAe.Tests.Kernels;

/// <summary>
/// <see cref="Portable.Forward{L, A}"/> computes a vector of outputs at a time; each output must still be the firmware's
/// sequence — the bias, then x[i]·W[i, j] rounded and added for i = 0, 1, … — bit for bit, for every split of the outputs
/// into blocks of four vectors, single vectors and a scalar tail.
/// </summary>
public sealed class PortableForwardTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(17, 8)]
    [InlineData(17, 9)]
    [InlineData(5, 31)]
    [InlineData(5, 32)]
    [InlineData(29, 33)]
    [InlineData(13, 47)]
    [InlineData(2, 64)]
    [InlineData(37, 100)]
    public void Every_output_is_the_scalar_sequence_bit_for_bit(int inputs, int outputs)
    {
        var random = new Random((inputs * 1000) + outputs);
        float[] parameters = Enumerable.Range(0, (inputs * outputs) + outputs).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        float[] x = Enumerable.Range(0, inputs).Select(_ => (float)((random.NextDouble() * 6) - 3)).ToArray();
        var y = new float[outputs];
        Layers.Forward(inputs, outputs, parameters, x, y);

        for (int j = 0; j < outputs; j++)
        {
            float z = parameters[(inputs * outputs) + j];
            for (int i = 0; i < inputs; i++)
            {
                float product = x[i] * parameters[(i * outputs) + j];
                z += product;
            }

            Assert.True(BitConverter.SingleToInt32Bits(z) == BitConverter.SingleToInt32Bits(y[j]), $"{inputs}→{outputs}, output {j}: {y[j]:R}, expected {z:R}");
        }
    }

    /// <summary>Linear layers of the sizes above (W first, then b), dispatched from run-time sizes.</summary>
    private static class Layers
    {
        public static void Forward(int inputs, int outputs, float[] parameters, float[] x, float[] y)
        {
            switch ((inputs, outputs))
            {
                case (1, 1): Portable.Forward<L<W1, W1>, Linear>(parameters, x, y); break;
                case (3, 7): Portable.Forward<L<W3, W7>, Linear>(parameters, x, y); break;
                case (17, 8): Portable.Forward<L<W17, W8>, Linear>(parameters, x, y); break;
                case (17, 9): Portable.Forward<L<W17, W9>, Linear>(parameters, x, y); break;
                case (5, 31): Portable.Forward<L<W5, W31>, Linear>(parameters, x, y); break;
                case (5, 32): Portable.Forward<L<W5, W32>, Linear>(parameters, x, y); break;
                case (29, 33): Portable.Forward<L<W29, W33>, Linear>(parameters, x, y); break;
                case (13, 47): Portable.Forward<L<W13, W47>, Linear>(parameters, x, y); break;
                case (2, 64): Portable.Forward<L<W2, W64>, Linear>(parameters, x, y); break;
                case (37, 100): Portable.Forward<L<W37, W100>, Linear>(parameters, x, y); break;
                default: throw new ArgumentException($"no layer {inputs}→{outputs} here");
            }
        }
    }

    private interface IWidth
    {
        static abstract int Value { get; }
    }

    private readonly struct L<TIn, TOut> : IDenseLayer
        where TIn : IWidth
        where TOut : IWidth
    {
        public static int Inputs => TIn.Value;

        public static int Outputs => TOut.Value;

        public static int Weights => 0;

        public static int Biases => TIn.Value * TOut.Value;
    }

    private readonly struct W1 : IWidth { public static int Value => 1; }
    private readonly struct W2 : IWidth { public static int Value => 2; }
    private readonly struct W3 : IWidth { public static int Value => 3; }
    private readonly struct W5 : IWidth { public static int Value => 5; }
    private readonly struct W7 : IWidth { public static int Value => 7; }
    private readonly struct W8 : IWidth { public static int Value => 8; }
    private readonly struct W9 : IWidth { public static int Value => 9; }
    private readonly struct W13 : IWidth { public static int Value => 13; }
    private readonly struct W17 : IWidth { public static int Value => 17; }
    private readonly struct W29 : IWidth { public static int Value => 29; }
    private readonly struct W31 : IWidth { public static int Value => 31; }
    private readonly struct W32 : IWidth { public static int Value => 32; }
    private readonly struct W33 : IWidth { public static int Value => 33; }
    private readonly struct W37 : IWidth { public static int Value => 37; }
    private readonly struct W47 : IWidth { public static int Value => 47; }
    private readonly struct W64 : IWidth { public static int Value => 64; }
    private readonly struct W100 : IWidth { public static int Value => 100; }
}
