using System.Numerics;

namespace EdgeAe.Baselines;

/// <summary>
/// Eigenvalues and eigenvectors of a real symmetric matrix in double precision: Householder reduction to
/// tridiagonal form, then the implicit QL algorithm with Wilkinson-style shifts — EISPACK's tred2 and tql2 as
/// published in JAMA (public domain). Exact up to rounding, deterministic, O(n³).
/// </summary>
internal static class SymmetricEigen
{
    /// <summary>QL iterations allowed per eigenvalue before the matrix is declared not symmetric/finite.</summary>
    private const int MaxIterations = 64;

    /// <summary>
    /// Diagonalises the symmetric <paramref name="n"/> × <paramref name="n"/> row-major matrix in
    /// <paramref name="matrix"/>. On return <paramref name="values"/> holds the eigenvalues in ascending
    /// order and row i of <paramref name="matrix"/> the unit eigenvector of <paramref name="values"/>[i].
    /// </summary>
    /// <exception cref="ArithmeticException">The QL iteration did not converge (NaN or ∞ in the matrix).</exception>
    public static void Decompose(double[] matrix, int n, double[] values, CancellationToken cancellationToken = default)
    {
        var off = new double[n];
        Tridiagonalize(matrix, n, values, off, cancellationToken);

        // tql2 rotates pairs of eigenvector columns; rows are contiguous, so work on the transpose.
        Transpose(matrix, n);
        Diagonalize(matrix, n, values, off, cancellationToken);
        SortAscending(matrix, n, values);
    }

    /// <summary>tred2: V (in <paramref name="v"/>, row-major) becomes the orthogonal transformation, d the diagonal, e the sub-diagonal.</summary>
    private static void Tridiagonalize(double[] v, int n, double[] d, double[] e, CancellationToken cancellationToken)
    {
        for (int j = 0; j < n; j++)
        {
            d[j] = v[(n - 1) * n + j];
        }

        for (int i = n - 1; i > 0; i--)
        {
            if ((i & 31) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            // Scale to avoid under- or overflow.
            double scale = 0.0;
            double h = 0.0;
            for (int k = 0; k < i; k++)
            {
                scale += Math.Abs(d[k]);
            }

            if (scale == 0.0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++)
                {
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0.0;
                    v[j * n + i] = 0.0;
                }
            }
            else
            {
                // The Householder vector.
                for (int k = 0; k < i; k++)
                {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }

                double f = d[i - 1];
                double g = Math.Sqrt(h);
                if (f > 0)
                {
                    g = -g;
                }

                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                Array.Clear(e, 0, i);

                // Apply the similarity transformation to the remaining columns.
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    v[j * n + i] = f;
                    g = e[j] + v[j * n + j] * f;
                    for (int k = j + 1; k <= i - 1; k++)
                    {
                        double vkj = v[k * n + j];
                        g += vkj * d[k];
                        e[k] += vkj * f;
                    }

                    e[j] = g;
                }

                f = 0.0;
                for (int j = 0; j < i; j++)
                {
                    e[j] /= h;
                    f += e[j] * d[j];
                }

                double hh = f / (h + h);
                for (int j = 0; j < i; j++)
                {
                    e[j] -= hh * d[j];
                }

                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    for (int k = j; k <= i - 1; k++)
                    {
                        v[k * n + j] -= f * e[k] + g * d[k];
                    }

                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0.0;
                }
            }

            d[i] = h;
        }

        // Accumulate the transformations.
        for (int i = 0; i < n - 1; i++)
        {
            if ((i & 31) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            v[(n - 1) * n + i] = v[i * n + i];
            v[i * n + i] = 1.0;
            double h = d[i + 1];
            if (h != 0.0)
            {
                for (int k = 0; k <= i; k++)
                {
                    d[k] = v[k * n + i + 1] / h;
                }

                for (int j = 0; j <= i; j++)
                {
                    double g = 0.0;
                    for (int k = 0; k <= i; k++)
                    {
                        g += v[k * n + i + 1] * v[k * n + j];
                    }

                    for (int k = 0; k <= i; k++)
                    {
                        v[k * n + j] -= g * d[k];
                    }
                }
            }

            for (int k = 0; k <= i; k++)
            {
                v[k * n + i + 1] = 0.0;
            }
        }

        for (int j = 0; j < n; j++)
        {
            d[j] = v[(n - 1) * n + j];
            v[(n - 1) * n + j] = 0.0;
        }

        v[(n - 1) * n + n - 1] = 1.0;
        e[0] = 0.0;
    }

    /// <summary>tql2 on the transposed V (<paramref name="w"/>: row i is column i of V), so each rotation updates two contiguous rows.</summary>
    private static void Diagonalize(double[] w, int n, double[] d, double[] e, CancellationToken cancellationToken)
    {
        for (int i = 1; i < n; i++)
        {
            e[i - 1] = e[i];
        }

        e[n - 1] = 0.0;
        double f = 0.0;
        double tst1 = 0.0;
        double eps = Math.Pow(2.0, -52.0);
        for (int l = 0; l < n; l++)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Find a small sub-diagonal element.
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n && Math.Abs(e[m]) > eps * tst1)
            {
                m++;
            }

            // m == l: d[l] is an eigenvalue; otherwise iterate.
            if (m > l)
            {
                int iterations = 0;
                do
                {
                    if (++iterations > MaxIterations || m >= n)
                    {
                        throw new ArithmeticException($"The eigenvalue iteration did not converge at index {l} of {n}; the matrix is not finite.");
                    }

                    // The implicit shift.
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2.0 * e[l]);
                    double r = Hypot(p, 1.0);
                    if (p < 0)
                    {
                        r = -r;
                    }

                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++)
                    {
                        d[i] -= h;
                    }

                    f += h;

                    // The implicit QL transformation.
                    p = d[m];
                    double c = 1.0, c2 = c, c3 = c;
                    double el1 = e[l + 1];
                    double s = 0.0, s2 = 0.0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        Rotate(w.AsSpan(i * n, n), w.AsSpan((i + 1) * n, n), c, s);
                    }

                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                }
                while (Math.Abs(e[l]) > eps * tst1);
            }

            d[l] += f;
            e[l] = 0.0;
        }
    }

    /// <summary>(a, b) ← (c·a − s·b, s·a + c·b), element-wise: V[k][i] and V[k][i+1] of tql2.</summary>
    private static void Rotate(Span<double> a, Span<double> b, double c, double s)
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vc = new Vector<double>(c);
            var vs = new Vector<double>(s);
            for (; k <= a.Length - Vector<double>.Count; k += Vector<double>.Count)
            {
                var x = new Vector<double>(a[k..]);
                var y = new Vector<double>(b[k..]);
                (vc * x - vs * y).CopyTo(a[k..]);
                (vs * x + vc * y).CopyTo(b[k..]);
            }
        }

        for (; k < a.Length; k++)
        {
            double x = a[k], y = b[k];
            a[k] = c * x - s * y;
            b[k] = s * x + c * y;
        }
    }

    private static void SortAscending(double[] w, int n, double[] d)
    {
        // Selection sort by value, moving rows (equal values keep a fixed, data-determined order).
        var row = new double[n];
        for (int i = 0; i < n - 1; i++)
        {
            int k = i;
            for (int j = i + 1; j < n; j++)
            {
                if (d[j] < d[k])
                {
                    k = j;
                }
            }

            if (k != i)
            {
                (d[k], d[i]) = (d[i], d[k]);
                w.AsSpan(i * n, n).CopyTo(row);
                w.AsSpan(k * n, n).CopyTo(w.AsSpan(i * n, n));
                row.CopyTo(w.AsSpan(k * n, n));
            }
        }
    }

    private static void Transpose(double[] a, int n)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                (a[i * n + j], a[j * n + i]) = (a[j * n + i], a[i * n + j]);
            }
        }
    }

    /// <summary>sqrt(a² + b²) without under- or overflow.</summary>
    private static double Hypot(double a, double b)
    {
        double x = Math.Abs(a), y = Math.Abs(b);
        if (x < y)
        {
            (x, y) = (y, x);
        }

        if (x == 0)
        {
            return 0;
        }

        double t = y / x;
        return x * Math.Sqrt(1 + t * t);
    }
}
