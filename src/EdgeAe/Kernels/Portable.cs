using System.ComponentModel;
using System.Numerics;

namespace EdgeAe.Kernels;

/// <summary>
/// The portable path of generated desktop models: scalar loops that multiply and add separately, in the firmware
/// flavour's order, with its math (<see cref="PortableMath"/>), so that <c>EncodePortable</c> gives bit for bit the code
/// a device running the same declaration computes. Slower than <see cref="Dense"/>; packet codecs and device-equal
/// anomaly scores use it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Portable
{
    /// <summary>
    /// y = f(b + x·W) for one sample through layer <typeparamref name="L"/>: every z starts at its bias and adds x[i]·W[i, j]
    /// for i = 0, 1, …, each product rounded before it is added (the firmware has no fused multiply-add).
    /// </summary>
    /// <remarks>
    /// The outputs are independent of each other, so they are computed a vector of outputs at a time: every lane does one
    /// output's sequence of multiplies and adds, in the same order, so the floats are the scalar loop's bit for bit
    /// (.NET never fuses a multiply and an add on its own). Four vectors of outputs stay in registers over all inputs.
    /// </remarks>
    public static void Forward<L, A>(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x, Span<float> y)
        where L : struct, IDenseLayer
        where A : struct
    {
        int n = L.Outputs, m = L.Inputs;
        ReadOnlySpan<float> w = parameters.Slice(L.Weights, m * n);
        ReadOnlySpan<float> b = parameters.Slice(L.Biases, n);
        x = x[..m];
        y = y[..n];
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int v = Vector<float>.Count;
            for (; j + (4 * v) <= n; j += 4 * v)
            {
                var z0 = new Vector<float>(b[j..]);
                var z1 = new Vector<float>(b[(j + v)..]);
                var z2 = new Vector<float>(b[(j + (2 * v))..]);
                var z3 = new Vector<float>(b[(j + (3 * v))..]);
                for (int i = 0; i < m; i++)
                {
                    var xi = new Vector<float>(x[i]);
                    ReadOnlySpan<float> row = w.Slice((i * n) + j, 4 * v);
                    z0 += xi * new Vector<float>(row);
                    z1 += xi * new Vector<float>(row[v..]);
                    z2 += xi * new Vector<float>(row[(2 * v)..]);
                    z3 += xi * new Vector<float>(row[(3 * v)..]);
                }

                z0.CopyTo(y[j..]);
                z1.CopyTo(y[(j + v)..]);
                z2.CopyTo(y[(j + (2 * v))..]);
                z3.CopyTo(y[(j + (3 * v))..]);
            }

            for (; j + v <= n; j += v)
            {
                var z = new Vector<float>(b[j..]);
                for (int i = 0; i < m; i++)
                {
                    z += new Vector<float>(x[i]) * new Vector<float>(w.Slice((i * n) + j, v));
                }

                z.CopyTo(y[j..]);
            }
        }

        for (; j < n; j++)
        {
            float z = b[j];
            for (int i = 0; i < m; i++)
            {
                z += x[i] * w[(i * n) + j];
            }

            y[j] = z;
        }

        Activate<A>(y);
    }

    /// <summary>As <see cref="Forward{L, A}"/> for a tied layer (W output-major for it): z[j] = b[j] + Σᵢ x[i]·W[j, i].</summary>
    public static void ForwardTied<L, A>(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x, Span<float> y)
        where L : struct, IDenseLayer
        where A : struct
    {
        int m = L.Inputs;
        for (int j = 0; j < L.Outputs; j++)
        {
            float z = parameters[L.Biases + j];
            ReadOnlySpan<float> row = parameters.Slice(L.Weights + j * m, m);
            for (int i = 0; i < m; i++)
            {
                z += x[i] * row[i];
            }

            y[j] = z;
        }

        Activate<A>(y[..L.Outputs]);
    }

    /// <summary>
    /// The binary cross-entropy of an output layer from its pre-activations, the firmware's way: Σ softplus(z) − t·z summed
    /// in double term by term. Each term goes to <paramref name="terms"/> when it is not empty (the anomaly score's per-feature
    /// terms). Returns the sum rounded to float.
    /// </summary>
    public static float BinaryCrossEntropy(ReadOnlySpan<float> z, ReadOnlySpan<float> target, Span<float> terms)
    {
        double loss = 0.0;
        for (int j = 0; j < z.Length; j++)
        {
            double term = PortableMath.Softplus(z[j]) - (double)(target[j] * z[j]);
            loss += term;
            if (!terms.IsEmpty)
            {
                terms[j] = (float)term;
            }
        }

        return (float)loss;
    }

    /// <summary>
    /// The squared error of an output layer, the firmware's way: Σ ½(a − t)² summed in double. The per-feature terms are
    /// (a − t)² (twice the objective's terms, so their mean is the mean squared error). Returns the sum rounded to float.
    /// </summary>
    public static float SquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> target, Span<float> terms)
    {
        double loss = 0.0;
        for (int j = 0; j < a.Length; j++)
        {
            float d = a[j] - target[j];
            loss += 0.5 * (double)(d * d);
            if (!terms.IsEmpty)
            {
                terms[j] = d * d;
            }
        }

        return (float)loss;
    }

    /// <summary>
    /// Fills <paramref name="values"/> with <paramref name="limit"/>·u, u uniform in [−1, 1) drawn from the SplitMix64
    /// <paramref name="state"/> (<see cref="PortableMath.NextSymmetric"/>): the same draws on the desktop and on the device.
    /// </summary>
    public static void FillUniform(Span<float> values, float limit, ref ulong state)
    {
        for (int k = 0; k < values.Length; k++)
        {
            values[k] = limit * PortableMath.NextSymmetric(ref state);
        }
    }

    /// <summary>The SplitMix64 state initialisation starts from for <paramref name="seed"/>.</summary>
    public static ulong SeedState(int seed) => PortableMath.SeedState(seed);

    /// <summary>Applies <typeparamref name="A"/> in place with the firmware's functions (both sigmoid forms are its 1 / (1 + e^−z)).</summary>
    private static void Activate<A>(Span<float> values)
        where A : struct
    {
        for (int j = 0; j < values.Length; j++)
        {
            float z = values[j];
            values[j] = typeof(A) == typeof(Sigmoid) || typeof(A) == typeof(StableSigmoid) ? PortableMath.Sigmoid(z)
                : typeof(A) == typeof(Tanh) ? PortableMath.Tanh(z)
                : typeof(A) == typeof(Relu) ? PortableMath.Relu(z)
                : z;
        }
    }
}
