using System.Runtime.CompilerServices;

namespace EdgeAe.Kernels;

/// <summary>
/// One sample through one dense layer, z = b + x·W, for one vector width: the matrix-vector product of Encode,
/// Decode, Reconstruct and Evaluate. Written once; <see cref="Dense"/> picks the width.
/// </summary>
/// <remarks>
/// <para>The outputs are cut into segments of one vector; up to <see cref="MaxSegments"/> segments form a block, whose
/// accumulators start at the biases and take one broadcast FMA per input (W input-major: each input's row of the
/// block is contiguous). A row whose width is not a multiple of the vector width ends with a vector that overlaps
/// the one before it (its lanes are recomputed identically); epilogues mask the lanes already done, so nothing is
/// applied or counted twice and no load or store leaves the row.</para>
/// <para>The weights stream from L2 and leave the vector units idle, so the element-wise epilogue of one block
/// (activation, or output and loss terms) runs inside the next block's input loop, one vector after each group of
/// inputs; the last block's epilogue runs after it.</para>
/// </remarks>
internal static class SingleSample<V, TVec>
    where V : struct, ISimd<TVec>
    where TVec : struct
{
    /// <summary>Most vector accumulators of a block: enough to hide FMA latency, few enough to stay in registers.</summary>
    public const int MaxSegments = 8;

    /// <summary>
    /// z = b + x·W for the input-major layer <typeparamref name="L"/> (L.Outputs ≥ the vector width), then the epilogue
    /// <typeparamref name="E"/>: a = f(z) over <paramref name="z"/>, or a into <paramref name="output"/> with the loss
    /// terms against <paramref name="target"/>. Returns the summed loss terms (0 for <see cref="ActivateInPlace"/>).
    /// </summary>
    public static double Forward<L, A, E>(ref float p, ref float x, ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
    {
        int segments = (L.Outputs + V.Count - 1) / V.Count;
        int perBlock = RowBlocks.SegmentsPerBlock(segments, MaxSegments);
        return perBlock switch
        {
            1 => Blocks<L, A, E, N1>(ref p, ref x, ref z, ref target, ref output),
            2 => Blocks<L, A, E, N2>(ref p, ref x, ref z, ref target, ref output),
            3 => Blocks<L, A, E, N3>(ref p, ref x, ref z, ref target, ref output),
            4 => Blocks<L, A, E, N4>(ref p, ref x, ref z, ref target, ref output),
            5 => Blocks<L, A, E, N5>(ref p, ref x, ref z, ref target, ref output),
            6 => Blocks<L, A, E, N6>(ref p, ref x, ref z, ref target, ref output),
            7 => Blocks<L, A, E, N7>(ref p, ref x, ref z, ref target, ref output),
            _ => Blocks<L, A, E, N8>(ref p, ref x, ref z, ref target, ref output),
        };
    }

    /// <summary>
    /// z = b + Σᵢ x[i]·W[j, i] for a tied layer (W output-major: each output's weights contiguous), by dot products
    /// four outputs at a time, then the epilogue over z.
    /// </summary>
    public static double ForwardTied<L, A, E>(ref float p, ref float x, ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
    {
        int n = L.Outputs, m = L.Inputs, lanes = V.Count;
        int vectorEnd = m / lanes * lanes;
        ref float w = ref Unsafe.Add(ref p, L.Weights);
        ref float bias = ref Unsafe.Add(ref p, L.Biases);
        int j = 0;
        for (; j + 4 <= n; j += 4)
        {
            ref float w0 = ref Unsafe.Add(ref w, j * m);
            ref float w1 = ref Unsafe.Add(ref w0, m);
            ref float w2 = ref Unsafe.Add(ref w1, m);
            ref float w3 = ref Unsafe.Add(ref w2, m);
            TVec a0 = V.Zero, a1 = V.Zero, a2 = V.Zero, a3 = V.Zero;
            for (int i = 0; i < vectorEnd; i += lanes)
            {
                TVec xi = V.Load(ref x, (nuint)i);
                a0 = V.MultiplyAdd(xi, V.Load(ref w0, (nuint)i), a0);
                a1 = V.MultiplyAdd(xi, V.Load(ref w1, (nuint)i), a1);
                a2 = V.MultiplyAdd(xi, V.Load(ref w2, (nuint)i), a2);
                a3 = V.MultiplyAdd(xi, V.Load(ref w3, (nuint)i), a3);
            }

            float s0 = Unsafe.Add(ref bias, j) + V.Sum(a0), s1 = Unsafe.Add(ref bias, j + 1) + V.Sum(a1);
            float s2 = Unsafe.Add(ref bias, j + 2) + V.Sum(a2), s3 = Unsafe.Add(ref bias, j + 3) + V.Sum(a3);
            for (int i = vectorEnd; i < m; i++)
            {
                float xi = Unsafe.Add(ref x, i);
                s0 += xi * Unsafe.Add(ref w0, i);
                s1 += xi * Unsafe.Add(ref w1, i);
                s2 += xi * Unsafe.Add(ref w2, i);
                s3 += xi * Unsafe.Add(ref w3, i);
            }

            Unsafe.Add(ref z, j) = s0;
            Unsafe.Add(ref z, j + 1) = s1;
            Unsafe.Add(ref z, j + 2) = s2;
            Unsafe.Add(ref z, j + 3) = s3;
        }

        for (; j < n; j++)
        {
            ref float wj = ref Unsafe.Add(ref w, j * m);
            TVec a = V.Zero;
            for (int i = 0; i < vectorEnd; i += lanes)
            {
                a = V.MultiplyAdd(V.Load(ref x, (nuint)i), V.Load(ref wj, (nuint)i), a);
            }

            float s = Unsafe.Add(ref bias, j) + V.Sum(a);
            for (int i = vectorEnd; i < m; i++)
            {
                s += Unsafe.Add(ref x, i) * Unsafe.Add(ref wj, i);
            }

            Unsafe.Add(ref z, j) = s;
        }

        return Epilogue<L, A, E>(ref z, ref target, ref output);
    }

    /// <summary>
    /// The epilogue <typeparamref name="E"/> over a row of z already computed, segment by segment in the order the
    /// products above apply it: the same floats and the same loss as they return for that z. A batch product's row of z
    /// is bit for bit the single-sample one (the same FMA chain from the bias), so batch inference ends with this.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Epilogue<L, A, E>(ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
    {
        var sums = new LossSums(V.Zero);
        int segments = (L.Outputs + V.Count - 1) / V.Count;
        for (int s = 0; s < segments; s++)
        {
            Apply<L, A, E>(ref z, ref target, ref output, s, ref sums);
        }

        return sums.Total<E>();
    }

    /// <summary>The blocks of <typeparamref name="K"/> segments, the last block (fewer segments) and the epilogues.</summary>
    private static double Blocks<L, A, E, K>(ref float p, ref float x, ref float z, ref float target, ref float output)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
        where K : struct, IConstant
    {
        int lanes = V.Count;
        int segments = (L.Outputs + lanes - 1) / lanes;
        int full = segments / K.Value;
        int rest = segments - full * K.Value;
        bool pipelined = typeof(E) != typeof(ActivateInPlace) || (typeof(A) != typeof(Relu) && typeof(A) != typeof(Linear));
        if (full == 1 && rest == 0)
        {
            // A row of one block: its epilogue runs after it, here, on sums whose address is never taken, so that they
            // stay in registers. Passed by reference to the block (not inlined) they live on the stack, where they made
            // the digits model's output layer up to a third slower depending on where the thread's stack began.
            LossSums none = default;
            Block<L, A, E, K, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref none);
            var own = new LossSums(V.Zero);
            if (pipelined)
            {
                for (int s = 0; s < segments; s++)
                {
                    Apply<L, A, E>(ref z, ref target, ref output, s, ref own);
                }
            }

            return own.Total<E>();
        }

        var sums = new LossSums(V.Zero);

        // Every block but the first applies the previous block's epilogue while its own weights stream in. The row's
        // final block is instantiated apart (Final), so that every block's column offsets are constants.
        int inner = rest > 0 ? full : full - 1;
        for (int b = 0; b < inner; b++)
        {
            Block<L, A, E, K, Inner>(ref p, ref x, ref z, ref target, ref output, b * K.Value, b == 0 || !pipelined ? 0 : K.Value, ref sums);
        }

        int applied;
        if (rest > 0)
        {
            applied = full == 0 ? 0 : (full - 1) * K.Value;
            switch (rest)
            {
                case 1: Block<L, A, E, N1, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref sums); break;
                case 2: Block<L, A, E, N2, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref sums); break;
                case 3: Block<L, A, E, N3, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref sums); break;
                case 4: Block<L, A, E, N4, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref sums); break;
                case 5: Block<L, A, E, N5, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref sums); break;
                case 6: Block<L, A, E, N6, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref sums); break;
                default: Block<L, A, E, N7, Final>(ref p, ref x, ref z, ref target, ref output, 0, 0, ref sums); break;
            }
        }
        else
        {
            applied = (full - 1) * K.Value;
            Block<L, A, E, K, Final>(ref p, ref x, ref z, ref target, ref output, 0, full == 1 || !pipelined ? 0 : K.Value, ref sums);
        }

        if (pipelined)
        {
            for (int s = applied; s < segments; s++)
            {
                Apply<L, A, E>(ref z, ref target, ref output, s, ref sums);
            }
        }

        return sums.Total<E>();
    }

    /// <summary>
    /// One block of <typeparamref name="K"/> segments starting at segment <paramref name="segment"/>: z for its columns, and
    /// the epilogue of <paramref name="pending"/> segments of the block before it, one after each group of inputs.
    /// </summary>
    /// <remarks>
    /// <typeparamref name="F"/> is <see cref="Final"/> for the row's last block, which starts where its segments end at the
    /// row's end (<paramref name="segment"/> is ignored) and whose last segment may be pulled back to overlap the one
    /// before it; <see cref="Inner"/> blocks are whole. Either way every column offset is a JIT-time constant, so the
    /// loads and stores address [w + constant] and no offset takes a register in the input loop.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<L, A, E, K, F>(ref float p, ref float x, ref float z, ref float target, ref float output, int segment, int pending, ref LossSums sums)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
        where K : struct, IConstant
        where F : struct
    {
        int n = L.Outputs, m = L.Inputs, lanes = V.Count, k = K.Value;
        if (typeof(F) == typeof(Final))
        {
            segment = ((n + lanes - 1) / lanes) - k;
        }

        int c = segment * lanes;

        // Segment offsets from column c; only the final block's last segment can be pulled back to overlap its neighbour.
        int last = typeof(F) == typeof(Final) ? n - lanes - c : int.MaxValue;
        nuint o0 = (nuint)Math.Min(0, last), o1 = (nuint)Math.Min(lanes, last), o2 = (nuint)Math.Min(2 * lanes, last), o3 = (nuint)Math.Min(3 * lanes, last);
        nuint o4 = (nuint)Math.Min(4 * lanes, last), o5 = (nuint)Math.Min(5 * lanes, last), o6 = (nuint)Math.Min(6 * lanes, last), o7 = (nuint)Math.Min(7 * lanes, last);

        ref float bias = ref Unsafe.Add(ref p, L.Biases + c);
        TVec a0 = V.Load(ref bias, o0);
        TVec a1 = Unsafe.SizeOf<K>() > 1 ? V.Load(ref bias, o1) : V.Zero;
        TVec a2 = Unsafe.SizeOf<K>() > 2 ? V.Load(ref bias, o2) : V.Zero;
        TVec a3 = Unsafe.SizeOf<K>() > 3 ? V.Load(ref bias, o3) : V.Zero;
        TVec a4 = Unsafe.SizeOf<K>() > 4 ? V.Load(ref bias, o4) : V.Zero;
        TVec a5 = Unsafe.SizeOf<K>() > 5 ? V.Load(ref bias, o5) : V.Zero;
        TVec a6 = Unsafe.SizeOf<K>() > 6 ? V.Load(ref bias, o6) : V.Zero;
        TVec a7 = Unsafe.SizeOf<K>() > 7 ? V.Load(ref bias, o7) : V.Zero;

        ref float w = ref Unsafe.Add(ref p, L.Weights + c);
        ref float xi = ref x;
        int group = Math.Clamp(m / k, 1, 8);
        int groupsEnd = m / group * group;
        int done = 0;
        int previous = segment - k;
        for (int i = 0; i < groupsEnd; i += group)
        {
            for (int g = 0; g < group; g++)
            {
                TVec xv = V.Create(xi);
                a0 = V.MultiplyAdd(xv, V.Load(ref w, o0), a0);
                if (Unsafe.SizeOf<K>() > 1) a1 = V.MultiplyAdd(xv, V.Load(ref w, o1), a1);
                if (Unsafe.SizeOf<K>() > 2) a2 = V.MultiplyAdd(xv, V.Load(ref w, o2), a2);
                if (Unsafe.SizeOf<K>() > 3) a3 = V.MultiplyAdd(xv, V.Load(ref w, o3), a3);
                if (Unsafe.SizeOf<K>() > 4) a4 = V.MultiplyAdd(xv, V.Load(ref w, o4), a4);
                if (Unsafe.SizeOf<K>() > 5) a5 = V.MultiplyAdd(xv, V.Load(ref w, o5), a5);
                if (Unsafe.SizeOf<K>() > 6) a6 = V.MultiplyAdd(xv, V.Load(ref w, o6), a6);
                if (Unsafe.SizeOf<K>() > 7) a7 = V.MultiplyAdd(xv, V.Load(ref w, o7), a7);
                xi = ref Unsafe.Add(ref xi, 1);
                w = ref Unsafe.Add(ref w, n);
            }

            if (done < pending)
            {
                Apply<L, A, E>(ref z, ref target, ref output, previous + done, ref sums);
                done++;
            }
        }

        for (int i = groupsEnd; i < m; i++)
        {
            TVec xv = V.Create(xi);
            a0 = V.MultiplyAdd(xv, V.Load(ref w, o0), a0);
            if (Unsafe.SizeOf<K>() > 1) a1 = V.MultiplyAdd(xv, V.Load(ref w, o1), a1);
            if (Unsafe.SizeOf<K>() > 2) a2 = V.MultiplyAdd(xv, V.Load(ref w, o2), a2);
            if (Unsafe.SizeOf<K>() > 3) a3 = V.MultiplyAdd(xv, V.Load(ref w, o3), a3);
            if (Unsafe.SizeOf<K>() > 4) a4 = V.MultiplyAdd(xv, V.Load(ref w, o4), a4);
            if (Unsafe.SizeOf<K>() > 5) a5 = V.MultiplyAdd(xv, V.Load(ref w, o5), a5);
            if (Unsafe.SizeOf<K>() > 6) a6 = V.MultiplyAdd(xv, V.Load(ref w, o6), a6);
            if (Unsafe.SizeOf<K>() > 7) a7 = V.MultiplyAdd(xv, V.Load(ref w, o7), a7);
            xi = ref Unsafe.Add(ref xi, 1);
            w = ref Unsafe.Add(ref w, n);
        }

        for (; done < pending; done++)
        {
            Apply<L, A, E>(ref z, ref target, ref output, previous + done, ref sums);
        }

        if (!(typeof(E) != typeof(ActivateInPlace) || (typeof(A) != typeof(Relu) && typeof(A) != typeof(Linear))))
        {
            // ReLU or linear: activated as stored (an overlapping last segment stores its old lanes' values again).
            a0 = SimdMath<V, TVec>.Activate<A>(a0);
            a1 = SimdMath<V, TVec>.Activate<A>(a1);
            a2 = SimdMath<V, TVec>.Activate<A>(a2);
            a3 = SimdMath<V, TVec>.Activate<A>(a3);
            a4 = SimdMath<V, TVec>.Activate<A>(a4);
            a5 = SimdMath<V, TVec>.Activate<A>(a5);
            a6 = SimdMath<V, TVec>.Activate<A>(a6);
            a7 = SimdMath<V, TVec>.Activate<A>(a7);
        }

        ref float zc = ref Unsafe.Add(ref z, c);
        V.Store(a0, ref zc, o0);
        if (Unsafe.SizeOf<K>() > 1) V.Store(a1, ref zc, o1);
        if (Unsafe.SizeOf<K>() > 2) V.Store(a2, ref zc, o2);
        if (Unsafe.SizeOf<K>() > 3) V.Store(a3, ref zc, o3);
        if (Unsafe.SizeOf<K>() > 4) V.Store(a4, ref zc, o4);
        if (Unsafe.SizeOf<K>() > 5) V.Store(a5, ref zc, o5);
        if (Unsafe.SizeOf<K>() > 6) V.Store(a6, ref zc, o6);
        if (Unsafe.SizeOf<K>() > 7) V.Store(a7, ref zc, o7);
    }

    /// <summary>The epilogue of segment <paramref name="segment"/> of z (the row's last segment overlaps: its old lanes are masked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply<L, A, E>(ref float z, ref float target, ref float output, int segment, ref LossSums sums)
        where L : struct, IDenseLayer
        where A : struct
        where E : struct
    {
        int lanes = V.Count;
        int start = segment * lanes;
        int column = Math.Min(start, L.Outputs - lanes);
        int fresh = start - column; // lanes below this one were done by the previous segment
        nuint at = (nuint)column;
        TVec zv = V.Load(ref z, at);
        if (typeof(E) == typeof(ActivateInPlace))
        {
                TVec a = SimdMath<V, TVec>.Activate<A>(zv);
                if (fresh > 0)
                {
                    a = V.Select(V.LanesFrom(fresh), a, zv);
                }

                V.Store(a, ref z, at);
        }
        else if (typeof(E) == typeof(BinaryCrossEntropyTerms))
        {
                TVec t = V.Load(ref target, at);
                TVec a = SimdMath<V, TVec>.SigmoidStable(zv, out TVec w);
                TVec terms = V.Subtract(V.MaxNative(zv, V.Zero), V.Multiply(t, zv));
                if (fresh > 0)
                {
                    TVec mask = V.LanesFrom(fresh);
                    terms = V.And(terms, mask);
                    w = V.Select(mask, w, V.Create(1f));
                }

                sums.Row = V.Add(sums.Row, terms);
                SimdMath<V, TVec>.MultiplyIntoProduct(ref sums.Mantissa, ref sums.Exponent, w);
                StoreFresh(a, ref output, at, fresh);
        }
        else
        {
                TVec t = V.Load(ref target, at);
                TVec a = SimdMath<V, TVec>.Activate<A>(zv);
                StoreFresh(a, ref output, at, fresh);
                TVec d = V.Subtract(a, t);
                TVec squares = V.Multiply(d, d);
                if (fresh > 0)
                {
                    squares = V.And(squares, V.LanesFrom(fresh));
                }

                sums.Row = V.Add(sums.Row, squares);
        }
    }

    /// <summary>
    /// Stores a segment's outputs; an overlapping last segment stores only its new lanes, so the output may alias z
    /// (Evaluate keeps both in the workspace) without recomputing lanes already written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFresh(TVec value, ref float destination, nuint at, int fresh)
        => V.Store(fresh > 0 ? V.Select(V.LanesFrom(fresh), value, V.Load(ref destination, at)) : value, ref destination, at);

    /// <summary>Marks a block that is not the row's last (<see cref="Block{L, A, E, K, F}"/>).</summary>
    private readonly struct Inner;

    /// <summary>Marks the row's last block (<see cref="Block{L, A, E, K, F}"/>).</summary>
    private readonly struct Final;

    /// <summary>The running loss of one sample: a vector of terms and, for binary cross-entropy, the product whose log is Σ log(1 + e^−|z|).</summary>
    private struct LossSums(TVec zero)
    {
        public TVec Row = zero;
        public TVec Mantissa = V.Create(1f);
        public TVec Exponent = zero;

        /// <summary>The loss in double: the lanes of <see cref="Row"/> plus the log of the product (binary cross-entropy), or half the squares.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly double Total<E>()
            where E : struct
        {
            if (typeof(E) == typeof(BinaryCrossEntropyTerms))
            {
                return (double)V.Sum(Row) + SimdMath<V, TVec>.LogOfProduct(Mantissa, Exponent);
            }

            return typeof(E) == typeof(SquaredErrorTerms) ? 0.5 * V.Sum(Row) : 0;
        }
    }
}
