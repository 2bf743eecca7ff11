using System.IO.Compression;
using EdgeAe.Compression;
using EdgeAe.Data;

namespace EdgeAe.Tests.Compression;

/// <summary>One row of a rate–distortion table.</summary>
public sealed record RdRow(string Method, int CodeSize, string Precision, double BytesPerSample, double Ratio, double Mse, double Psnr);

/// <summary>
/// Rate–distortion measurement shared by the quality tests and the opt-in benchmark: an autoencoder through the real
/// packet codec (float code, 8 and 16 bits), PCA with the same code size (float and quantised like the codec), and the
/// lossless compressors of the base library on the raw bytes.
/// </summary>
public static class RateDistortion
{
    /// <summary>MSE per element and PSNR (peak: the test data's value range) of reconstructions made by <paramref name="reconstruct"/>.</summary>
    public static (double Mse, double Psnr) Measure(Dataset test, Action<ReadOnlySpan<float>, Span<float>> reconstruct)
    {
        var output = new float[test.Width];
        double squared = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int i = 0; i < test.Count; i++)
        {
            ReadOnlySpan<float> x = test[i];
            reconstruct(x, output);
            squared += Metrics.MeanSquaredError(output, x);
            foreach (float v in x)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        double mse = squared / test.Count;
        double range = max - min;
        return (mse, 10 * Math.Log10(range * range / mse));
    }

    /// <summary>Rows for an autoencoder: float32 code (no packet) and packets at 8 and 16 bits.</summary>
    public static IEnumerable<RdRow> Autoencoder(string name, IAutoencoder model, Dataset train, Dataset test, int rawBytesPerValue)
    {
        int k = model.Topology.CodeSize;
        double raw = (double)test.Width * rawBytesPerValue;
        var code = new float[k];
        (double mse, double psnr) = Measure(test, (x, y) =>
        {
            model.Encode(x, code);
            model.Decode(code, y);
        });
        yield return new RdRow(name, k, "float32", 4.0 * k, raw / (4.0 * k), mse, psnr);
        foreach (int bits in new[] { 16, 8 })
        {
            var codec = new PacketCodec(model, CodeQuantizer.For(model, train, bits), 0x1234);
            var packet = new byte[codec.PacketLength];
            (mse, psnr) = Measure(test, (x, y) =>
            {
                codec.Encode(x, packet);
                codec.Decode(packet, y);
            });
            yield return new RdRow(name, k, $"{bits}-bit packet", codec.PacketLength, raw / codec.PacketLength, mse, psnr);
        }
    }

    /// <summary>Rows for PCA with <paramref name="k"/> components fitted on <paramref name="train"/>: float32 coefficients and packets of the same layout as the codec's.</summary>
    public static IEnumerable<RdRow> PcaRows(Pca pca, Dataset train, Dataset test, int rawBytesPerValue)
    {
        int k = pca.Components;
        double raw = (double)test.Width * rawBytesPerValue;
        var c = new float[k];
        (double mse, double psnr) = Measure(test, (x, y) =>
        {
            pca.Encode(x, c);
            pca.Decode(c, y);
        });
        yield return new RdRow("PCA", k, "float32", 4.0 * k, raw / (4.0 * k), mse, psnr);

        // Coefficient ranges from the training set, like a linear code's.
        var min = Enumerable.Repeat(float.PositiveInfinity, k).ToArray();
        var max = Enumerable.Repeat(float.NegativeInfinity, k).ToArray();
        for (int i = 0; i < train.Count; i++)
        {
            pca.Encode(train[i], c);
            for (int j = 0; j < k; j++)
            {
                min[j] = Math.Min(min[j], c[j]);
                max[j] = Math.Max(max[j], c[j]);
            }
        }

        foreach (int bits in new[] { 16, 8 })
        {
            var q = new CodeQuantizer(bits, min, max);
            int bytes = PacketFormat.PacketLength(k, bits);
            (mse, psnr) = Measure(test, (x, y) =>
            {
                pca.Encode(x, c);
                q.RoundTrip(c);
                pca.Decode(c, y);
            });
            yield return new RdRow("PCA", k, $"{bits}-bit packet", bytes, raw / bytes, mse, psnr);
        }
    }

    /// <summary>Lossless compression ratios (Deflate at SmallestSize, Brotli at quality 11) of the raw bytes.</summary>
    public static IEnumerable<RdRow> Lossless(byte[] raw, int samples)
    {
        foreach ((string name, Func<Stream, Stream> open) in new (string, Func<Stream, Stream>)[]
                 {
                     ("Deflate (lossless)", s => new DeflateStream(s, CompressionLevel.SmallestSize, leaveOpen: true)),
                     ("Brotli q11 (lossless)", s => new BrotliStream(s, new BrotliCompressionOptions { Quality = 11 }, leaveOpen: true)),
                 })
        {
            using var memory = new MemoryStream();
            using (Stream z = open(memory))
            {
                z.Write(raw);
            }

            yield return new RdRow(name, 0, "raw bytes", (double)memory.Length / samples, (double)raw.Length / memory.Length, 0, double.PositiveInfinity);
        }
    }

    /// <summary>The table as markdown.</summary>
    public static string Markdown(string title, int rawBytesPerSample, IEnumerable<RdRow> rows)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(FormattableString.Invariant($"{title} (raw: {rawBytesPerSample:N0} bytes per sample)"));
        text.AppendLine();
        text.AppendLine("| method | code | precision | bytes/sample | ratio | MSE | PSNR dB |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (RdRow r in rows)
        {
            string psnr = double.IsPositiveInfinity(r.Psnr) ? "∞ (exact)" : r.Psnr.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
            string mse = r.Mse == 0 ? "0" : r.Mse.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
            text.AppendLine(FormattableString.Invariant($"| {r.Method} | {(r.CodeSize == 0 ? "–" : r.CodeSize.ToString(System.Globalization.CultureInfo.InvariantCulture))} | {r.Precision} | {r.BytesPerSample:F1} | {r.Ratio:F1}× | {mse} | {psnr} |"));
        }

        return text.ToString();
    }
}

/// <summary>
/// Principal component analysis by orthogonal (subspace) iteration on the covariance matrix: Q ← orth(C·Q), with
/// modified Gram–Schmidt, until the subspace stops moving. Reconstruction x̂ = μ + Q·Qᵀ(x − μ) depends only on the
/// subspace, which is what the iteration converges to (the top-k eigenvectors of C).
/// </summary>
public sealed class Pca
{
    private readonly float[] _mean;
    private readonly float[] _basis; // k rows of d

    private Pca(float[] mean, float[] basis, int components)
    {
        _mean = mean;
        _basis = basis;
        Components = components;
    }

    public int Components { get; }

    public int Width => _mean.Length;

    public static Pca Fit(Dataset train, int k, int iterations = 100)
    {
        int d = train.Width;
        var mean = new double[d];
        for (int i = 0; i < train.Count; i++)
        {
            ReadOnlySpan<float> x = train[i];
            for (int a = 0; a < d; a++)
            {
                mean[a] += x[a];
            }
        }

        for (int a = 0; a < d; a++)
        {
            mean[a] /= train.Count;
        }

        // Covariance, upper triangle accumulated then mirrored.
        var cov = new double[d * d];
        var centred = new double[d];
        for (int i = 0; i < train.Count; i++)
        {
            ReadOnlySpan<float> x = train[i];
            for (int a = 0; a < d; a++)
            {
                centred[a] = x[a] - mean[a];
            }

            for (int a = 0; a < d; a++)
            {
                double ca = centred[a];
                if (ca == 0)
                {
                    continue;
                }

                int row = a * d;
                for (int b = a; b < d; b++)
                {
                    cov[row + b] += ca * centred[b];
                }
            }
        }

        for (int a = 0; a < d; a++)
        {
            for (int b = a; b < d; b++)
            {
                cov[(a * d) + b] /= train.Count;
                cov[(b * d) + a] = cov[(a * d) + b];
            }
        }

        // Subspace iteration from a seeded start.
        var q = new double[k * d];
        ulong state = 12345;
        for (int t = 0; t < q.Length; t++)
        {
            state = (state * 6364136223846793005UL) + 1442695040888963407UL;
            q[t] = ((state >> 11) * (1.0 / (1UL << 53))) - 0.5;
        }

        Orthonormalize(q, k, d);
        var next = new double[k * d];
        for (int it = 0; it < iterations; it++)
        {
            for (int c = 0; c < k; c++)
            {
                for (int a = 0; a < d; a++)
                {
                    double s = 0;
                    int row = a * d;
                    int col = c * d;
                    for (int b = 0; b < d; b++)
                    {
                        s += cov[row + b] * q[col + b];
                    }

                    next[col + a] = s;
                }
            }

            Orthonormalize(next, k, d);
            (q, next) = (next, q);
        }

        return new Pca(mean.Select(m => (float)m).ToArray(), q.Select(v => (float)v).ToArray(), k);
    }

    public void Encode(ReadOnlySpan<float> x, Span<float> code)
    {
        int d = Width;
        for (int c = 0; c < Components; c++)
        {
            double s = 0;
            for (int a = 0; a < d; a++)
            {
                s += _basis[(c * d) + a] * (x[a] - _mean[a]);
            }

            code[c] = (float)s;
        }
    }

    public void Decode(ReadOnlySpan<float> code, Span<float> x)
    {
        int d = Width;
        for (int a = 0; a < d; a++)
        {
            double s = _mean[a];
            for (int c = 0; c < Components; c++)
            {
                s += _basis[(c * d) + a] * code[c];
            }

            x[a] = (float)s;
        }
    }

    private static void Orthonormalize(double[] q, int k, int d)
    {
        for (int c = 0; c < k; c++)
        {
            Span<double> v = q.AsSpan(c * d, d);
            for (int p = 0; p < c; p++)
            {
                ReadOnlySpan<double> u = q.AsSpan(p * d, d);
                double dot = 0;
                for (int a = 0; a < d; a++)
                {
                    dot += u[a] * v[a];
                }

                for (int a = 0; a < d; a++)
                {
                    v[a] -= dot * u[a];
                }
            }

            double norm = 0;
            for (int a = 0; a < d; a++)
            {
                norm += v[a] * v[a];
            }

            norm = Math.Sqrt(norm);
            for (int a = 0; a < d; a++)
            {
                v[a] = norm > 1e-300 ? v[a] / norm : 0;
            }
        }
    }
}
