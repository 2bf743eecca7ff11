using System.ComponentModel;

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
    /// <summary>y = f(b + x·W) for one sample through layer <typeparamref name="L"/>: every z starts at its bias and adds x[i]·W[i, j] for i = 0, 1, …</summary>
    public static void Forward<L, A>(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x, Span<float> y)
        where L : struct, IDenseLayer
        where A : struct
    {
        int n = L.Outputs;
        ReadOnlySpan<float> w = parameters.Slice(L.Weights, L.Inputs * n);
        parameters.Slice(L.Biases, n).CopyTo(y);
        for (int i = 0; i < L.Inputs; i++)
        {
            float xi = x[i];
            ReadOnlySpan<float> row = w.Slice(i * n, n);
            for (int j = 0; j < n; j++)
            {
                y[j] += xi * row[j];
            }
        }

        Activate<A>(y[..n]);
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
