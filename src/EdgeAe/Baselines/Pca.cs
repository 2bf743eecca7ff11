using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeAe.Data;

namespace EdgeAe.Baselines;

/// <summary>
/// Principal component analysis: the linear baseline of an autoencoder with the same code size. The
/// <see cref="Components"/> directions of largest variance of the training data form an orthonormal basis
/// W (k × d); a sample x is encoded as c = W(x − μ) and reconstructed as x̂ = μ + Wᵀc, the best rank-k linear
/// reconstruction in the squared-error sense. An autoencoder with linear activations and squared error can at
/// best match it; a useful non-linear one beats it.
/// </summary>
/// <remarks>
/// <para><b>Fitting</b> (<see cref="Fit"/>) is exact, not iterative-approximate: the d × d covariance of the
/// centred data is accumulated in double precision (products of blocks of 256 samples summed in float vectors,
/// each block's sums added in double), reduced to tridiagonal form by Householder reflections and diagonalised
/// by the implicit QL algorithm (EISPACK tred2/tql2, as in JAMA). Cost: n·d²/2 multiply-adds for the
/// covariance and about 4·d³ for the eigenvectors; memory 8·d² bytes plus one block of 256 samples. 784
/// features × 60,000 samples take a few seconds on one core (docs/BENCHMARKS.md).</para>
/// <para><b>Determinism.</b> No randomness and no threads: the same data on the same machine (vector width)
/// gives bit-identical components. Each component's sign is fixed so that its entry of largest magnitude is
/// positive; components are ordered by decreasing variance.</para>
/// <para><b>Hot paths.</b> <see cref="Encode"/>, <see cref="Decode"/>, <see cref="Reconstruct"/> and
/// <see cref="Residual"/> allocate nothing (up to 1,024 components; more use a pooled buffer).</para>
/// </remarks>
public sealed class Pca
{
    /// <summary>Samples per covariance block: the products of one block are summed in float, blocks in double.</summary>
    private const int Block = 256;

    /// <summary>Above this many components, the code buffer of <see cref="Reconstruct"/> comes from the pool, not the stack.</summary>
    private const int StackComponents = 1024;

    private readonly float[] _mean;
    private readonly float[] _basis;
    private readonly double[] _variances;

    /// <summary>Creates a PCA from stored numbers (a weight file's baseline section); <see cref="Fit"/> computes them from data.</summary>
    /// <param name="mean">The training mean, one value per feature (d).</param>
    /// <param name="basis">The components, row-major k × d: row c is component c (unit length, orthogonal to the others).</param>
    /// <param name="variances">The variance of the training data along each component (k values, non-increasing).</param>
    /// <param name="totalVariance">The training data's total variance (sum over all d features).</param>
    /// <param name="samples">How many samples the PCA was fitted on.</param>
    /// <exception cref="ArgumentException">The lengths disagree, or a value is not finite (or a variance negative).</exception>
    public Pca(float[] mean, float[] basis, double[] variances, double totalVariance, int samples)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(variances);
        ArgumentOutOfRangeException.ThrowIfZero(mean.Length, nameof(mean));
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        if (variances.Length == 0 || variances.Length > mean.Length)
        {
            throw new ArgumentException($"Expected between 1 and {mean.Length} components for {mean.Length} features but found {variances.Length}.", nameof(variances));
        }

        if ((long)variances.Length * mean.Length != basis.Length)
        {
            throw new ArgumentException($"Expected {(long)variances.Length * mean.Length} basis values ({variances.Length} components × {mean.Length} features) but found {basis.Length}.", nameof(basis));
        }

        CheckFinite(mean, nameof(mean));
        CheckFinite(basis, nameof(basis));
        foreach (double v in variances)
        {
            if (!double.IsFinite(v) || v < 0)
            {
                throw new ArgumentException($"A component variance is {v}; variances must be finite and non-negative.", nameof(variances));
            }
        }

        if (!double.IsFinite(totalVariance) || totalVariance < 0)
        {
            throw new ArgumentException($"The total variance is {totalVariance}; it must be finite and non-negative.", nameof(totalVariance));
        }

        _mean = (float[])mean.Clone();
        _basis = (float[])basis.Clone();
        _variances = (double[])variances.Clone();
        TotalVariance = totalVariance;
        Samples = samples;
    }

    /// <summary>Features per sample (d).</summary>
    public int Width => _mean.Length;

    /// <summary>Components kept (k): the code size.</summary>
    public int Components => _variances.Length;

    /// <summary>Samples the PCA was fitted on.</summary>
    public int Samples { get; }

    /// <summary>The training mean μ (d values).</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The components, row-major k × d; row c is component c.</summary>
    public ReadOnlySpan<float> Basis => _basis;

    /// <summary>Variance of the training data along each component (the covariance's eigenvalues), largest first.</summary>
    public ReadOnlySpan<double> Variances => _variances;

    /// <summary>Total variance of the training data (the covariance's trace); the share a rank-k PCA explains is Σ<see cref="Variances"/> / this.</summary>
    public double TotalVariance { get; }

    /// <summary>
    /// Fits a PCA with <paramref name="components"/> components to <paramref name="data"/> (population covariance, divided by n).
    /// </summary>
    /// <param name="data">The training samples (at least one).</param>
    /// <param name="components">How many components to keep, 1 to the data's width.</param>
    /// <param name="cancellationToken">Checked between covariance blocks and between eigenvector sweeps.</param>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty or holds NaN or ±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="components"/> is not in [1, width].</exception>
    public static Pca Fit(ISampleSource data, int components, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        int d = data.Width;
        if (components < 1 || components > d)
        {
            throw new ArgumentOutOfRangeException(nameof(components), components, $"A PCA of {d} features keeps between 1 and {d} components.");
        }

        if (data.Count == 0)
        {
            throw new ArgumentException("Cannot fit a PCA to a data set with no samples.", nameof(data));
        }

        double[] mean = MeanOf(data);
        double[] covariance = Covariance(data, mean, cancellationToken);
        double total = 0;
        for (int i = 0; i < d; i++)
        {
            total += covariance[i * d + i];
        }

        // covariance becomes the eigenvectors (row i = eigenvector i), values the eigenvalues, ascending.
        var values = new double[d];
        SymmetricEigen.Decompose(covariance, d, values, cancellationToken);

        var basis = new float[components * d];
        var variances = new double[components];
        for (int c = 0; c < components; c++)
        {
            int source = d - 1 - c; // largest first
            ReadOnlySpan<double> vector = covariance.AsSpan(source * d, d);
            int largest = 0;
            for (int i = 1; i < d; i++)
            {
                if (Math.Abs(vector[i]) > Math.Abs(vector[largest]))
                {
                    largest = i;
                }
            }

            double sign = vector[largest] < 0 ? -1 : 1;
            Span<float> row = basis.AsSpan(c * d, d);
            for (int i = 0; i < d; i++)
            {
                row[i] = (float)(sign * vector[i]);
            }

            variances[c] = Math.Max(values[source], 0); // rounding can leave a zero eigenvalue slightly negative
        }

        var meanFloat = new float[d];
        for (int i = 0; i < d; i++)
        {
            meanFloat[i] = (float)mean[i];
        }

        return new Pca(meanFloat, basis, variances, Math.Max(total, 0), data.Count);
    }

    /// <summary>The code of <paramref name="input"/>: c = W(x − μ).</summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Encode(ReadOnlySpan<float> input, Span<float> code)
    {
        CheckLength(input, Width, nameof(input));
        CheckLength(code, Components, nameof(code));
        EncodeCore(input, code);
    }

    /// <summary>The reconstruction from a code: x̂ = μ + Wᵀc.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Decode(ReadOnlySpan<float> code, Span<float> output)
    {
        CheckLength(code, Components, nameof(code));
        CheckLength(output, Width, nameof(output));
        DecodeCore(code, output);
    }

    /// <summary>Encodes and decodes <paramref name="input"/>: its projection onto the principal subspace.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Reconstruct(ReadOnlySpan<float> input, Span<float> output)
    {
        CheckLength(input, Width, nameof(input));
        CheckLength(output, Width, nameof(output));
        float[]? rented = null;
        Span<float> code = Components <= StackComponents ? stackalloc float[StackComponents] : Rent(out rented);
        code = code[..Components];
        EncodeCore(input, code);
        DecodeCore(code, output);
        Return(rented);
    }

    /// <summary>
    /// The reconstruction error of one sample, mean per element: Σ(x̂ᵢ − xᵢ)² / d. With the squared-error
    /// models' MSE it is the same figure (docs: losses are reported per element).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="input"/> has the wrong length.</exception>
    public double Residual(ReadOnlySpan<float> input)
    {
        CheckLength(input, Width, nameof(input));
        float[]? rented = null;
        Span<float> code = Components <= StackComponents ? stackalloc float[StackComponents] : Rent(out rented);
        code = code[..Components];
        EncodeCore(input, code);

        // x̂ᵢ − xᵢ = μᵢ + Σ_c c_c W_ci − xᵢ, one feature at a time (no output buffer).
        double sum = 0;
        for (int i = 0; i < Width; i++)
        {
            double value = _mean[i] - input[i];
            for (int c = 0; c < code.Length; c++)
            {
                value += code[c] * _basis[c * Width + i];
            }

            sum += value * value;
        }

        Return(rented);
        return sum / Width;
    }

    /// <summary>The mean of <see cref="Residual"/> over <paramref name="data"/>: the baseline's MSE per element.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty or not <see cref="Width"/> wide.</exception>
    public double MeanSquaredError(ISampleSource data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Width != Width)
        {
            throw new ArgumentException($"The data has {data.Width} values per sample but the PCA was fitted on {Width}.", nameof(data));
        }

        if (data.Count == 0)
        {
            throw new ArgumentException("The data set is empty.", nameof(data));
        }

        var output = new float[Width];
        double sum = 0;
        for (int s = 0; s < data.Count; s++)
        {
            ReadOnlySpan<float> x = data[s];
            Reconstruct(x, output);
            double squared = 0;
            for (int i = 0; i < Width; i++)
            {
                double e = output[i] - x[i];
                squared += e * e;
            }

            sum += squared / Width;
        }

        return sum / data.Count;
    }

    /// <summary>A code buffer from the pool for more than <see cref="StackComponents"/> components.</summary>
    private float[] Rent(out float[]? rented) => rented = System.Buffers.ArrayPool<float>.Shared.Rent(Components);

    private static void Return(float[]? rented)
    {
        if (rented is not null)
        {
            System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }
    }

    private void EncodeCore(ReadOnlySpan<float> input, Span<float> code)
    {
        int d = Width;
        for (int c = 0; c < code.Length; c++)
        {
            ReadOnlySpan<float> w = _basis.AsSpan(c * d, d);
            float sum = 0;
            for (int i = 0; i < d; i++)
            {
                sum += w[i] * (input[i] - _mean[i]);
            }

            code[c] = sum;
        }
    }

    private void DecodeCore(ReadOnlySpan<float> code, Span<float> output)
    {
        int d = Width;
        _mean.CopyTo(output);
        for (int c = 0; c < code.Length; c++)
        {
            float k = code[c];
            ReadOnlySpan<float> w = _basis.AsSpan(c * d, d);
            for (int i = 0; i < d; i++)
            {
                output[i] += k * w[i];
            }
        }
    }

    private static double[] MeanOf(ISampleSource data)
    {
        int d = data.Width;
        var sum = new double[d];
        for (int s = 0; s < data.Count; s++)
        {
            ReadOnlySpan<float> x = data[s];
            for (int i = 0; i < d; i++)
            {
                sum[i] += x[i];
            }
        }

        for (int i = 0; i < d; i++)
        {
            sum[i] /= data.Count;
            if (!double.IsFinite(sum[i]))
            {
                throw new ArgumentException($"Feature {i + 1} of the data holds NaN or ±∞; every value must be finite.", nameof(data));
            }
        }

        return sum;
    }

    /// <summary>
    /// The d × d covariance (divided by n) of the data centred on <paramref name="mean"/>. Each block of
    /// <see cref="Block"/> samples is transposed into a d × Block float matrix T (features as rows, padded with
    /// zero rows to a multiple of 4); T Tᵀ is accumulated in 4 × 2 tiles of float vectors and added in double.
    /// Only tiles on or above the diagonal are computed; the lower triangle is mirrored at the end.
    /// </summary>
    private static double[] Covariance(ISampleSource data, double[] mean, CancellationToken cancellationToken)
    {
        int d = data.Width;
        int rows = (d + 3) & ~3;
        var centre = new float[d];
        for (int i = 0; i < d; i++)
        {
            centre[i] = (float)mean[i];
        }

        var t = new float[rows * Block];
        var sums = new double[rows * rows];
        for (int start = 0; start < data.Count; start += Block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Block, data.Count - start);
            if (count < Block)
            {
                Array.Clear(t);
            }

            for (int s = 0; s < count; s++)
            {
                ReadOnlySpan<float> x = data[start + s];
                for (int i = 0; i < d; i++)
                {
                    t[i * Block + s] = x[i] - centre[i];
                }
            }

            AccumulateTiles(t, rows, sums);
        }

        var covariance = new double[d * d];
        double n = data.Count;
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                double v = sums[i * rows + j] / n;
                covariance[i * d + j] = v;
                covariance[j * d + i] = v;
            }
        }

        return covariance;
    }

    private static void AccumulateTiles(float[] t, int rows, double[] sums)
    {
        ref float origin = ref MemoryMarshal.GetArrayDataReference(t);
        int lanes = Vector<float>.Count;
        for (int i = 0; i < rows; i += 4)
        {
            ref float a0 = ref Unsafe.Add(ref origin, i * Block);
            ref float a1 = ref Unsafe.Add(ref a0, Block);
            ref float a2 = ref Unsafe.Add(ref a1, Block);
            ref float a3 = ref Unsafe.Add(ref a2, Block);
            for (int j = i; j < rows; j += 2)
            {
                ref float b0 = ref Unsafe.Add(ref origin, j * Block);
                ref float b1 = ref Unsafe.Add(ref b0, Block);
                Vector<float> s00 = default, s01 = default, s10 = default, s11 = default;
                Vector<float> s20 = default, s21 = default, s30 = default, s31 = default;
                for (int k = 0; k < Block; k += lanes)
                {
                    Vector<float> x0 = Vector.LoadUnsafe(ref a0, (nuint)k);
                    Vector<float> x1 = Vector.LoadUnsafe(ref a1, (nuint)k);
                    Vector<float> x2 = Vector.LoadUnsafe(ref a2, (nuint)k);
                    Vector<float> x3 = Vector.LoadUnsafe(ref a3, (nuint)k);
                    Vector<float> y0 = Vector.LoadUnsafe(ref b0, (nuint)k);
                    Vector<float> y1 = Vector.LoadUnsafe(ref b1, (nuint)k);
                    s00 = Vector.FusedMultiplyAdd(x0, y0, s00);
                    s01 = Vector.FusedMultiplyAdd(x0, y1, s01);
                    s10 = Vector.FusedMultiplyAdd(x1, y0, s10);
                    s11 = Vector.FusedMultiplyAdd(x1, y1, s11);
                    s20 = Vector.FusedMultiplyAdd(x2, y0, s20);
                    s21 = Vector.FusedMultiplyAdd(x2, y1, s21);
                    s30 = Vector.FusedMultiplyAdd(x3, y0, s30);
                    s31 = Vector.FusedMultiplyAdd(x3, y1, s31);
                }

                int row = i * rows + j;
                sums[row] += Vector.Sum(s00);
                sums[row + 1] += Vector.Sum(s01);
                sums[row + rows] += Vector.Sum(s10);
                sums[row + rows + 1] += Vector.Sum(s11);
                sums[row + 2 * rows] += Vector.Sum(s20);
                sums[row + 2 * rows + 1] += Vector.Sum(s21);
                sums[row + 3 * rows] += Vector.Sum(s30);
                sums[row + 3 * rows + 1] += Vector.Sum(s31);
            }
        }
    }

    private static void CheckFinite(float[] values, string name)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"Value [{i}] is {values[i]}; every value must be finite.", name);
            }
        }
    }

    private static void CheckLength(ReadOnlySpan<float> span, int expected, string name)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"Expected {expected} floats in '{name}' but found {span.Length}.", name);
        }
    }
}
