namespace EdgeAe.Kernels;

/// <summary>
/// The scalar math of the portable path: the functions the firmware flavour runs on the device, so that the desktop's
/// portable methods (<c>EncodePortable</c>) compute bit for bit what a device computes. This file is also the source of
/// the firmware flavour's math: the generator embeds the text between the markers below and emits it into every
/// firmware model (nanoFramework code cannot reference this assembly), so keep that part to what nanoFramework's
/// mscorlib offers — no <c>System.Math</c>, no generics, no spans. docs/math.md states each function's error, and how
/// these differ from the SIMD kernels' functions (<see cref="SimdMath{V, TVec}"/>).
/// </summary>
internal static class PortableMath
{
    // <firmware-math>
    /// <summary>
    /// e^x in float (Cephes expf): n = ⌊x·log₂e + ½⌋, r = x − n·ln2 (in two parts), e^r by a degree-6
    /// polynomial, times 2ⁿ built from exponent bits in double. NaN stays NaN; +∞ above 88.72, 0 below −103.97.
    /// </summary>
    public static float Exp(float x)
    {
        if (float.IsNaN(x))
        {
            return x;
        }

        if (x > 88.72283935546875f)
        {
            return float.PositiveInfinity;
        }

        if (x < -103.972084045410156f)
        {
            return 0f;
        }

        float fx = x * 1.44269504088896341f + 0.5f;
        int n = (int)fx;
        if ((float)n > fx)
        {
            n--;
        }

        float r = x - n * 0.693359375f;
        r = r - n * -2.12194440e-4f;
        float r2 = r * r;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r2 + r + 1f;
        return (float)(p * global::System.BitConverter.Int64BitsToDouble((long)(n + 1023) << 52));
    }

    /// <summary>Logistic sigmoid 1 / (1 + e^−z); saturates to 0 or 1 without NaN.</summary>
    public static float Sigmoid(float z) => 1f / (1f + Exp(-z));

    /// <summary>
    /// tanh: an odd polynomial below |z| = 0.625 (Cephes tanhf), 1 − 2/(e^{2|z|} + 1) above, ±1 beyond 9.
    /// </summary>
    public static float Tanh(float z)
    {
        float a = z < 0f ? -z : z;
        if (a < 0.625f)
        {
            if (a == 0f)
            {
                return z; // keeps the sign of −0
            }

            float s = z * z;
            float q = -5.70498872745e-3f;
            q = q * s + 2.06390887954e-2f;
            q = q * s - 5.37397155531e-2f;
            q = q * s + 1.33314422036e-1f;
            q = q * s - 3.33332819422e-1f;
            return z + z * s * q;
        }

        if (a > 9.01f)
        {
            return z > 0f ? 1f : -1f;
        }

        float t = 1f - 2f / (Exp(2f * a) + 1f);
        return z < 0f ? -t : t;
    }

    /// <summary>max(0, z), written so that NaN propagates.</summary>
    public static float Relu(float z) => z < 0f ? 0f : z;

    /// <summary>
    /// softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^−|z|), with log(1 + u) for u in (0, 1] from the
    /// series 2·atanh(u / (2 + u)) in double (12 terms: error below 1e-12).
    /// </summary>
    public static double Softplus(float z)
    {
        float a = z < 0f ? -z : z;
        double u = Exp(-a);
        double s = u / (2.0 + u);
        double s2 = s * s;
        double term = s;
        double sum = 0.0;
        for (int k = 1; k < 25; k += 2)
        {
            sum += term / k;
            term *= s2;
        }

        return (z > 0f ? (double)z : 0.0) + 2.0 * sum;
    }

    /// <summary>The SplitMix64 state initialisation draws start from for <paramref name="seed"/>.</summary>
    public static ulong SeedState(int seed) => (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ 0xD1B54A32D192ED03UL;

    /// <summary>The next SplitMix64 draw mapped to a float uniform in [−1, 1) with 24 random bits.</summary>
    public static float NextSymmetric(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z >> 40) * (1f / 8388608f) - 1f;
    }
    // </firmware-math>
}
