using EdgeAe.Baselines;
using EdgeAe.Data;

namespace EdgeAe.Tests.Baselines;

/// <summary>
/// <see cref="Pca"/> against an independent double-precision reference: the covariance summed naively in
/// double and diagonalised by cyclic Jacobi rotations (a different algorithm from the tred2/tql2 under test).
/// </summary>
public sealed class PcaTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        // features, samples, components: odd widths exercise the padded tiles, 300+ samples several blocks.
        { 1, 40, 1 },
        { 7, 300, 3 },
        { 20, 700, 5 },
        { 64, 1797, 16 },
        { 33, 10, 8 },   // fewer samples than features: rank-deficient covariance
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Variances_subspace_and_errors_match_the_double_precision_reference(int width, int count, int k)
    {
        Dataset data = width == 64 && count == 1797 ? BundledData.Digits() : Planted(width, count, seed: width * 31 + count);
        Pca pca = Fit(data, k);
        (double[] values, double[][] vectors, double total) = Reference(data);

        Assert.Equal(width, pca.Width);
        Assert.Equal(k, pca.Components);
        Assert.Equal(count, pca.Samples);
        double scale = Math.Max(values[0], 1e-12);
        Assert.Equal(total, pca.TotalVariance, total * 1e-6 + 1e-9);
        for (int c = 0; c < k; c++)
        {
            Assert.True(Math.Abs(pca.Variances[c] - values[c]) <= 1e-5 * scale, $"variance {c}: {pca.Variances[c]} vs reference {values[c]}");
        }

        // The kept subspace: compare projectors where the eigen-gap after k separates it clearly.
        if (k < width && values[k - 1] - values[k] > 1e-3 * scale)
        {
            double worst = 0;
            for (int i = 0; i < width; i++)
            {
                for (int j = 0; j < width; j++)
                {
                    double p = 0, q = 0;
                    for (int c = 0; c < k; c++)
                    {
                        p += pca.Basis[c * width + i] * (double)pca.Basis[c * width + j];
                        q += vectors[c][i] * vectors[c][j];
                    }

                    worst = Math.Max(worst, Math.Abs(p - q));
                }
            }

            Assert.True(worst < 2e-4, $"projector differs by {worst}");
        }

        // Its reconstruction error equals the variance left out: Σ_{c ≥ k} λ_c / d.
        double expected = values.Skip(k).Sum() / width;
        double mse = pca.MeanSquaredError(data);
        Assert.True(Math.Abs(mse - expected) <= 1e-5 * Math.Max(total / width, 1e-12) + 1e-9, $"MSE {mse} vs left-out variance {expected}");
    }

    [Fact]
    public void The_basis_is_orthonormal_signed_and_ordered()
    {
        Dataset data = Planted(40, 500, seed: 3);
        Pca pca = Fit(data, 12);
        for (int a = 0; a < 12; a++)
        {
            ReadOnlySpan<float> u = pca.Basis.Slice(a * 40, 40);
            int largest = 0;
            for (int i = 1; i < 40; i++)
            {
                largest = Math.Abs(u[i]) > Math.Abs(u[largest]) ? i : largest;
            }

            Assert.True(u[largest] > 0, $"component {a} is not signed by its largest entry");
            if (a > 0)
            {
                Assert.True(pca.Variances[a] <= pca.Variances[a - 1]);
            }

            for (int b = 0; b < 12; b++)
            {
                ReadOnlySpan<float> v = pca.Basis.Slice(b * 40, 40);
                double dot = 0;
                for (int i = 0; i < 40; i++)
                {
                    dot += u[i] * (double)v[i];
                }

                Assert.Equal(a == b ? 1.0 : 0.0, dot, 1e-5);
            }
        }
    }

    [Fact]
    public void Every_component_reconstructs_exactly_and_encode_decode_agree_with_reconstruct()
    {
        Dataset data = Planted(9, 200, seed: 5);
        Pca full = Fit(data, 9);
        var code = new float[9];
        var decoded = new float[9];
        var output = new float[9];
        for (int s = 0; s < data.Count; s++)
        {
            full.Encode(data[s], code);
            full.Decode(code, decoded);
            full.Reconstruct(data[s], output);
            for (int i = 0; i < 9; i++)
            {
                Assert.Equal(data[s][i], output[i], 2e-4f);
                Assert.Equal(decoded[i], output[i]);
            }

            Assert.True(full.Residual(data[s]) < 1e-7);
        }
    }

    [Fact]
    public void Fitting_is_deterministic_and_the_stored_numbers_rebuild_the_same_pca()
    {
        Dataset data = Planted(30, 600, seed: 8);
        Pca first = Fit(data, 6);
        Pca second = Fit(data, 6);
        Assert.Equal(first.Basis.ToArray(), second.Basis.ToArray());
        Assert.Equal(first.Mean.ToArray(), second.Mean.ToArray());
        Assert.Equal(first.Variances.ToArray(), second.Variances.ToArray());

        var rebuilt = new Pca(first.Mean.ToArray(), first.Basis.ToArray(), first.Variances.ToArray(), first.TotalVariance, first.Samples);
        Assert.Equal(first.MeanSquaredError(data), rebuilt.MeanSquaredError(data));
    }

    [Fact]
    public void Residual_is_the_mean_squared_error_of_the_reconstruction()
    {
        Dataset data = Planted(17, 100, seed: 2);
        Pca pca = Fit(data, 4);
        var output = new float[17];
        for (int s = 0; s < 10; s++)
        {
            pca.Reconstruct(data[s], output);
            double expected = 0;
            for (int i = 0; i < 17; i++)
            {
                expected += (output[i] - data[s][i]) * (double)(output[i] - data[s][i]);
            }

            Assert.Equal(expected / 17, pca.Residual(data[s]), 1e-6);
        }
    }

    [Fact]
    public void Encode_reconstruct_and_residual_allocate_nothing()
    {
        Dataset data = Planted(64, 100, seed: 4);
        Pca pca = Fit(data, 16);
        var code = new float[16];
        var output = new float[64];
        void Run()
        {
            for (int s = 0; s < data.Count; s++)
            {
                pca.Encode(data[s], code);
                pca.Decode(code, output);
                pca.Reconstruct(data[s], output);
                pca.Residual(data[s]);
            }
        }

        Run();
        Allocations.AssertNoneOnThisThread(Run);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        Dataset data = Planted(5, 20, seed: 1);
        Assert.Equal("components", Assert.Throws<ArgumentOutOfRangeException>(() => Fit(data, 0)).ParamName);
        Assert.Equal("components", Assert.Throws<ArgumentOutOfRangeException>(() => Fit(data, 6)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => Fit(new Dataset([], 0, 5), 2)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => Fit(new Dataset([1, 2, float.NaN, 4, 5], 1, 5), 2)).ParamName);
        Pca pca = Fit(data, 2);
        Assert.Equal("code", Assert.Throws<ArgumentException>(() => pca.Encode(new float[5], new float[3])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => pca.Residual(new float[4])).ParamName);
        Assert.Equal("basis", Assert.Throws<ArgumentException>(() => new Pca(new float[5], new float[9], new double[2], 1, 1)).ParamName);
        Assert.Equal("variances", Assert.Throws<ArgumentException>(() => new Pca(new float[5], new float[10], [1, double.NaN], 1, 1)).ParamName);
    }

    private static Pca Fit(Dataset data, int components) => Pca.Fit(data, components, TestContext.Current.CancellationToken);

    /// <summary>Samples with a planted low-rank structure (decaying variances) plus isotropic noise, offset from 0.</summary>
    internal static Dataset Planted(int width, int count, int seed)
    {
        var random = new Random(seed);
        int rank = Math.Max(1, width / 3);
        var directions = new double[rank][];
        for (int r = 0; r < rank; r++)
        {
            directions[r] = Enumerable.Range(0, width).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        }

        var values = new float[width * count];
        for (int s = 0; s < count; s++)
        {
            for (int r = 0; r < rank; r++)
            {
                double weight = Gaussian(random) * 3.0 / (r + 1);
                for (int i = 0; i < width; i++)
                {
                    values[s * width + i] += (float)(weight * directions[r][i]);
                }
            }

            for (int i = 0; i < width; i++)
            {
                values[s * width + i] += (float)(0.05 * Gaussian(random) + 2.0 + 0.1 * i);
            }
        }

        return new Dataset(values, count, width);
    }

    private static double Gaussian(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Eigenvalues (descending), unit eigenvectors and trace of the double covariance, by cyclic Jacobi.</summary>
    private static (double[] Values, double[][] Vectors, double Total) Reference(Dataset data)
    {
        int d = data.Width;
        var mean = new double[d];
        for (int s = 0; s < data.Count; s++)
        {
            for (int i = 0; i < d; i++)
            {
                mean[i] += data[s][i];
            }
        }

        for (int i = 0; i < d; i++)
        {
            mean[i] /= data.Count;
        }

        var a = new double[d, d];
        for (int s = 0; s < data.Count; s++)
        {
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    a[i, j] += (data[s][i] - mean[i]) * (data[s][j] - mean[j]);
                }
            }
        }

        double total = 0;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                a[i, j] /= data.Count;
            }

            total += a[i, i];
        }

        var v = new double[d, d];
        for (int i = 0; i < d; i++)
        {
            v[i, i] = 1;
        }

        for (int sweep = 0; sweep < 100; sweep++)
        {
            double offDiagonal = 0;
            for (int p = 0; p < d; p++)
            {
                for (int q = p + 1; q < d; q++)
                {
                    offDiagonal += a[p, q] * a[p, q];
                }
            }

            if (offDiagonal < 1e-30 * Math.Max(total * total, 1e-300))
            {
                break;
            }

            for (int p = 0; p < d; p++)
            {
                for (int q = p + 1; q < d; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300)
                    {
                        continue;
                    }

                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < d; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }

                    for (int k = 0; k < d; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }

                    for (int k = 0; k < d; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
            }
        }

        int[] order = Enumerable.Range(0, d).OrderByDescending(i => a[i, i]).ToArray();
        double[] values = order.Select(i => a[i, i]).ToArray();
        double[][] vectors = order.Select(i => Enumerable.Range(0, d).Select(k => v[k, i]).ToArray()).ToArray();
        return (values, vectors, total);
    }
}
