using System;
using System.Collections.Generic;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// Writes the desktop flavour's SIMD kernels (System.Runtime.Intrinsics): one register-blocked
/// matrix-product writer, specialised at generation time for every product of the model and every
/// ISA rung (Vector512, Vector256, Vector128; the JIT folds the <c>IsHardwareAccelerated</c> checks to
/// constants). Every size is a constant: a row of width N is cut into full vectors, then one narrower
/// vector of each smaller width that fits, then scalars, so no load or store ever leaves its row and no
/// tail code is written when there is no tail. The scalar path (<see cref="ScalarKernelWriter"/>) stays
/// the fallback when no vector ISA is accelerated (<c>DOTNET_EnableHWIntrinsic=0</c>).
/// </summary>
/// <remarks>
/// Batch workspace layout (SIMD path): layer-major, <c>[region][sample][unit]</c> with every sample row
/// padded to 16 floats: all layers' activations, then the output pre-activations (binary cross-entropy),
/// then all deltas; the same total length as <c>WorkspaceLength × MaxBatchSize</c>. Per-sample inference
/// keeps the plan's single-sample offsets. The data product of the backward pass reads a transposed
/// copy of W (made at the start of each batch); a tied layer's forward reads its mirror's W transposed.
/// </remarks>
internal static class SimdKernelWriter
{
    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
    private const string Math = "global::EdgeAe.Kernels.VectorMath";
    private const string Marshal = "global::System.Runtime.InteropServices.MemoryMarshal";

    /// <summary>The condition that selects the SIMD path at all (false only when no vector ISA is accelerated).</summary>
    public const string Accelerated = "global::System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated";

    /// <summary>One ISA rung: vector width, and the batch micro-kernel tile (rows × vectors).</summary>
    private sealed class Rung
    {
        public Rung(int lanes, int tileRows, int tileVectors, string? condition)
        {
            Lanes = lanes;
            TileRows = tileRows;
            TileVectors = tileVectors;
            Condition = condition;
        }

        public int Lanes { get; }

        public int TileRows { get; }

        public int TileVectors { get; }

        public string? Condition { get; }

        public string Suffix => Invariant.Int(Lanes * 32);
    }

    // 512: 4 × 64 tile, 16 accumulators of 32 zmm (4 loads + 4 broadcasts per 16 FMAs); 256: 6 × 16, 12 of 16 ymm;
    // 128: 6 × 8, 12 of 16 xmm (32 on ARM64).
    private static readonly Rung[] Rungs =
    {
        new(16, 4, 4, "global::System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated"),
        new(8, 6, 2, "global::System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated"),
        new(4, 6, 2, null),
    };

    /// <summary>Accumulators per row for the single-sample (matrix-vector) forward: enough to hide FMA latency.</summary>
    private const int SingleSampleVectors = 8;

    private static int Pad(int width) => (width + ModelPlan.AlignmentFloats - 1) / ModelPlan.AlignmentFloats * ModelPlan.AlignmentFloats;

    // ---------------------------------------------------------------- batch layout

    /// <summary>Where the SIMD batch code keeps each layer's rows: layer-major, rows padded to 16 floats.</summary>
    private sealed class BatchLayout
    {
        public BatchLayout(ModelPlan plan)
        {
            int batch = plan.Topology.MaxBatchSize;
            int n = plan.Layers.Count;
            Activation = new int[n];
            Delta = new int[n];
            Transposed = new int[n];
            int offset = 0;
            for (int l = 0; l < n; l++)
            {
                Activation[l] = offset;
                offset += Pad(plan.Layers[l].Layer.Width) * batch;
            }

            PreActivation = -1;
            if (plan.OutputLayer.PreActivationOffset >= 0)
            {
                PreActivation = offset;
                offset += Pad(plan.Topology.InputSize) * batch;
            }

            for (int l = 0; l < n; l++)
            {
                Delta[l] = offset;
                offset += Pad(plan.Layers[l].Layer.Width) * batch;
            }

            int transposed = 0;
            for (int l = 0; l < n; l++)
            {
                LayerPlan layer = plan.Layers[l];
                Transposed[l] = -1;
                if (layer.IsTied || l > 0)
                {
                    Transposed[l] = transposed;
                    transposed += Pad(layer.WeightCount);
                }
            }

            TransposedLength = System.Math.Max(transposed, ModelPlan.AlignmentFloats);
        }

        public int[] Activation { get; }

        public int PreActivation { get; }

        public int[] Delta { get; }

        /// <summary>Start of the layer's transposed weights in the transposed buffer, or −1.</summary>
        public int[] Transposed { get; }

        public int TransposedLength { get; }
    }

    // ---------------------------------------------------------------- vector expressions

    private static string VectorClass(int lanes) => lanes switch
    {
        16 => "global::System.Runtime.Intrinsics.Vector512",
        8 => "global::System.Runtime.Intrinsics.Vector256",
        4 => "global::System.Runtime.Intrinsics.Vector128",
        _ => throw new ArgumentOutOfRangeException(nameof(lanes)),
    };

    private static string Offset(string offset) => offset == "0" ? string.Empty : offset;

    private static string Load(int lanes, string reference, string offset)
        => lanes == 1
            ? (offset == "0" ? reference : $"{Unsafe}.Add(ref {reference}, {offset})")
            : offset == "0" ? $"{VectorClass(lanes)}.LoadUnsafe(ref {reference})" : $"{VectorClass(lanes)}.LoadUnsafe(ref {reference}, (nuint)({offset}))";

    private static string Store(int lanes, string value, string reference, string offset)
        => lanes == 1
            ? (offset == "0" ? $"{reference} = {value};" : $"{Unsafe}.Add(ref {reference}, {offset}) = {value};")
            : offset == "0" ? $"{VectorClass(lanes)}.StoreUnsafe({value}, ref {reference});" : $"{VectorClass(lanes)}.StoreUnsafe({value}, ref {reference}, (nuint)({offset}));";

    private static string Broadcast(int lanes, string scalar) => lanes == 1 ? scalar : $"{VectorClass(lanes)}.Create({scalar})";

    private static string Zero(int lanes) => lanes == 1 ? "0f" : VectorClass(lanes) + "<float>.Zero";

    private static string One(int lanes) => lanes == 1 ? "1f" : VectorClass(lanes) + "<float>.One";

    private static string Sum(int lanes, string value) => lanes == 1 ? value : $"{VectorClass(lanes)}.Sum({value})";

    /// <summary>f(z); <paramref name="stableSigmoid"/>: a binary cross-entropy model's output layer, whose σ comes from e^−|z| (VectorMath.SigmoidStable) wherever it is computed.</summary>
    private static string Activate(ActivationKind activation, string z, bool stableSigmoid = false) => activation switch
    {
        ActivationKind.Sigmoid when stableSigmoid => $"{Math}.SigmoidStable({z})",
        ActivationKind.Sigmoid => $"{Math}.Sigmoid({z})",
        ActivationKind.Tanh => $"{Math}.Tanh({z})",
        ActivationKind.Relu => $"{Math}.Relu({z})",
        ActivationKind.Linear => z,
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary><paramref name="upstream"/>·f'(z) from a = f(z), in the scalar kernels' operation order.</summary>
    private static string Derivative(int lanes, ActivationKind activation, string a, string upstream) => activation switch
    {
        ActivationKind.Sigmoid => $"{upstream} * {a} * ({One(lanes)} - {a})",
        ActivationKind.Tanh => $"{upstream} * ({One(lanes)} - {a} * {a})",
        ActivationKind.Relu => lanes == 1
            ? $"({a} > 0f ? {upstream} : 0f)"
            : $"{VectorClass(lanes)}.ConditionalSelect({VectorClass(lanes)}.GreaterThan({a}, {Zero(lanes)}), {upstream}, {Zero(lanes)})",
        ActivationKind.Linear => upstream,
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    private static string Plus(string a, string b) => a == "0" ? b : b == "0" ? a : a + " + " + b;

    private static string Times(string a, int b) => b == 0 || a == "0" ? "0" : b == 1 ? a : a + " * " + Invariant.Int(b);

    // ---------------------------------------------------------------- segments

    /// <summary>A run of columns: <c>Lanes</c> wide (1 = scalar), at <c>Base + Offset</c>.</summary>
    private readonly struct Segment
    {
        public Segment(int lanes, int offset)
        {
            Lanes = lanes;
            Offset = offset;
        }

        public int Lanes { get; }

        public int Offset { get; }
    }

    /// <summary>Columns [start, start + count) as full vectors, then one of each narrower vector width that fits, then scalars.</summary>
    private static List<Segment> Cascade(int start, int count, int lanes)
    {
        var segments = new List<Segment>();
        while (count >= lanes)
        {
            segments.Add(new Segment(lanes, start));
            start += lanes;
            count -= lanes;
        }

        for (int width = lanes / 2; width >= 4; width /= 2)
        {
            if (count >= width)
            {
                segments.Add(new Segment(width, start));
                start += width;
                count -= width;
            }
        }

        while (count > 0)
        {
            segments.Add(new Segment(1, start));
            start++;
            count--;
        }

        return segments;
    }

    /// <summary>A column block of a product: segments relative to <c>Base</c> (a loop variable or "0").</summary>
    private sealed class Block
    {
        public Block(string @base, List<Segment> segments)
        {
            Base = @base;
            Segments = segments;
        }

        public string Base { get; }

        public List<Segment> Segments { get; }
    }

    // ---------------------------------------------------------------- the product writer

    private enum Epilogue
    {
        /// <summary>out = f(acc) (acc starts at the bias).</summary>
        Forward,

        /// <summary>out += acc (gradients).</summary>
        Accumulate,

        /// <summary>out = acc·f'(a) with a read from the previous layer's activations (deltas).</summary>
        BackData,
    }

    /// <summary>C[r, c] (epilogue) Σₜ A(r, t)·B[t, c], A(r, t) = A[AOffset + r·ARow + t·ACol], B[t, c] = B[BOffset + t·BStride + c].</summary>
    private sealed class Product
    {
        public string Comment = string.Empty;
        public string Rows = "1";
        public int RowsConstant = 1;
        public string Inner = "1";
        public int Columns;
        public string A = "rw";
        public string AOffset = "0";
        public int ARow;
        public int ACol = 1;
        public string B = "rp";
        public int BOffset;
        public int BStride;
        public int BiasOffset = -1;
        public Epilogue Kind;
        public ActivationKind Activation;

        /// <summary>
        /// Single-sample products only: an element-wise epilogue for one full vector of outputs (arguments: a
        /// <c>ref float</c> variable holding z, overwritten with the result, and the column expression). With it,
        /// the column-block loop applies it to the previous block's outputs a vector at a time between groups of
        /// the current block's inner iterations, so the math runs while the weights stream in from L2.
        /// </summary>
        public Action<string, string>? Pipelined;
        public string Out = "rw";
        public int OutOffset;
        public int OutStride;
        public int PreviousOffset;
    }

    /// <summary>Writes the product; returns the first column whose <see cref="Product.Pipelined"/> epilogue is still to be applied (0 when none was).</summary>
    private static int WriteProduct(SourceWriter w, Product product, int lanes, int tileRows, int tileVectors)
    {
        int pipelinedUpTo = 0;
        w.WriteLine("// " + product.Comment);
        w.OpenBlock("unchecked");

        int vectors = product.Columns / lanes;
        int perBlock = 0;
        int fullBlocks = 0;
        if (vectors > 0)
        {
            int blocks = (vectors + tileVectors - 1) / tileVectors;
            perBlock = (vectors + blocks - 1) / blocks;
            fullBlocks = vectors / perBlock;
        }

        int fullEnd = fullBlocks * perBlock * lanes;
        var blocksToWrite = new List<(Block Block, bool Loop)>();
        if (fullBlocks > 0)
        {
            var segments = new List<Segment>();
            for (int m = 0; m < perBlock; m++)
            {
                segments.Add(new Segment(lanes, m * lanes));
            }

            blocksToWrite.Add((new Block(fullBlocks == 1 ? "0" : "c", segments), fullBlocks > 1));
        }

        List<Segment> tail = Cascade(fullEnd, product.Columns - fullEnd, lanes);
        for (int start = 0; start < tail.Count; start += tileVectors)
        {
            var group = tail.GetRange(start, System.Math.Min(tileVectors, tail.Count - start));
            blocksToWrite.Add((new Block("0", group), false));
        }

        foreach ((Block block, bool loop) in blocksToWrite)
        {
            if (loop)
            {
                w.OpenBlock($"for (int c = 0; c < {Invariant.Int(fullEnd)}; c += {Invariant.Int(perBlock * lanes)})");
            }
            else
            {
                w.OpenBlock("unchecked");
            }

            if (loop && product.Pipelined is not null && product.RowsConstant == 1)
            {
                WritePipelinedTile(w, product, block, lanes);
                pipelinedUpTo = fullEnd - perBlock * lanes;
            }
            else
            {
                WriteRows(w, product, block, tileRows, tileVectors);
            }

            w.CloseBlock();
        }

        w.CloseBlock();
        return pipelinedUpTo;
    }

    /// <summary>
    /// One sample, one column block of the block loop: the inner loop runs in groups of G iterations, and after each
    /// group one vector of the previous block's outputs gets <see cref="Product.Pipelined"/> (the products stream
    /// their weights from L2 and leave the vector units idle; the element-wise math fills them).
    /// </summary>
    private static void WritePipelinedTile(SourceWriter w, Product product, Block block, int lanes)
    {
        List<Segment> segments = block.Segments;
        int perBlock = segments.Count;
        int blockWidth = perBlock * lanes;
        int inner = int.Parse(product.Inner, System.Globalization.CultureInfo.InvariantCulture);
        int group = System.Math.Max(1, System.Math.Min(8, inner / perBlock));
        int groupsEnd = inner / group * group;
        w.WriteLine($"ref float ap = ref {Unsafe}.Add(ref {product.A}, {product.AOffset});");
        w.WriteLine($"ref float bp = ref {Unsafe}.Add(ref {product.B}, {Plus(Invariant.Int(product.BOffset), "c")});");
        for (int m = 0; m < perBlock; m++)
        {
            w.WriteLine($"var acc0_{m} = {Load(lanes, "rp", Plus(Invariant.Int(product.BiasOffset), Plus("c", Invariant.Int(m * lanes))))};");
        }

        w.WriteLine($"// The previous block's {Invariant.Int(perBlock)} output vectors, one after each group of {Invariant.Int(group)} inputs.");
        w.WriteLine($"int pending = c == 0 ? 0 : {Invariant.Int(perBlock)};");
        w.WriteLine("int k = 0;");
        void Iteration()
        {
            w.WriteLine($"var x = {Broadcast(lanes, "ap")};");
            for (int m = 0; m < perBlock; m++)
            {
                w.WriteLine($"acc0_{m} = {Math}.MultiplyAdd(x, {Load(lanes, "bp", Invariant.Int(m * lanes))}, acc0_{m});");
            }

            w.WriteLine($"ap = ref {Unsafe}.Add(ref ap, {Invariant.Int(product.ACol)});");
            w.WriteLine($"bp = ref {Unsafe}.Add(ref bp, {Invariant.Int(product.BStride)});");
        }

        void Previous()
        {
            w.WriteLine($"int column = c - {Invariant.Int(blockWidth)} + k * {Invariant.Int(lanes)};");
            w.WriteLine($"ref float o = ref {Unsafe}.Add(ref {product.Out}, {Plus(Invariant.Int(product.OutOffset), "column")});");
            product.Pipelined!("o", "column");
        }

        w.OpenBlock($"for (int i = 0; i < {Invariant.Int(groupsEnd)}; i += {Invariant.Int(group)})");
        for (int g = 0; g < group; g++)
        {
            w.OpenBlock("unchecked");
            Iteration();
            w.CloseBlock();
        }

        w.OpenBlock("if (k < pending)");
        Previous();
        w.WriteLine("k++;");
        w.CloseBlock();
        w.CloseBlock();
        if (groupsEnd < inner)
        {
            w.OpenBlock($"for (int i = {Invariant.Int(groupsEnd)}; i < {Invariant.Int(inner)}; i++)");
            Iteration();
            w.CloseBlock();
        }

        if (inner / group < perBlock)
        {
            w.OpenBlock("for (; k < pending; k++)");
            Previous();
            w.CloseBlock();
        }

        for (int m = 0; m < perBlock; m++)
        {
            w.WriteLine(Store(lanes, $"acc0_{m}", product.Out, Plus(Invariant.Int(product.OutOffset), Plus("c", Invariant.Int(m * lanes)))));
        }
    }

    /// <summary>
    /// The rows of one column block: tiles of as many rows as keep the rung's accumulator budget
    /// (<paramref name="tileRows"/> × <paramref name="tileVectors"/>) busy — a block narrower than
    /// <paramref name="tileVectors"/> segments gets more rows (a 16-float block on Vector512 runs 16 rows,
    /// 16 independent FMA chains) — then <paramref name="tileRows"/>-row tiles, 4-row tiles, then single rows.
    /// </summary>
    private static void WriteRows(SourceWriter w, Product product, Block block, int tileRows, int tileVectors)
    {
        bool runtimeRows = product.RowsConstant < 0;
        if (!runtimeRows && product.RowsConstant == 1)
        {
            w.WriteLine("const int r0 = 0;");
            WriteTile(w, product, block, 1);
            return;
        }

        var heights = new List<int>();
        if (tileRows > 1)
        {
            int wide = System.Math.Max(tileRows, tileRows * tileVectors / block.Segments.Count);
            heights.Add(wide);
            if (wide != tileRows)
            {
                heights.Add(tileRows);
            }

            if (tileRows > 4)
            {
                heights.Add(4);
            }
        }

        heights.Add(1);
        w.WriteLine("int r0 = 0;");
        int left = product.RowsConstant;
        foreach (int height in heights)
        {
            if (!runtimeRows && left < height)
            {
                continue;
            }

            if (height == 1)
            {
                w.OpenBlock($"for (; r0 < {product.Rows}; r0++)");
            }
            else
            {
                w.OpenBlock($"for (; r0 + {Invariant.Int(height)} <= {product.Rows}; r0 += {Invariant.Int(height)})");
            }

            WriteTile(w, product, block, height);
            w.CloseBlock();
            if (!runtimeRows)
            {
                left %= height;
                if (left == 0)
                {
                    break;
                }
            }
        }
    }

    private static void WriteTile(SourceWriter w, Product product, Block block, int rows)
    {
        List<Segment> segments = block.Segments;
        string column0 = Plus(block.Base, Invariant.Int(segments[0].Offset));
        w.WriteLine($"ref float ap = ref {Unsafe}.Add(ref {product.A}, {Plus(product.AOffset, Times("r0", product.ARow))});");
        w.WriteLine($"ref float bp = ref {Unsafe}.Add(ref {product.B}, {Plus(Invariant.Int(product.BOffset), column0)});");
        for (int m = 0; m < segments.Count; m++)
        {
            Segment s = segments[m];
            string init;
            if (product.BiasOffset >= 0)
            {
                w.WriteLine($"var bias{m} = {Load(s.Lanes, "rp", Plus(Invariant.Int(product.BiasOffset), Plus(block.Base, Invariant.Int(s.Offset))))};");
                init = "bias" + Invariant.Int(m);
            }
            else
            {
                init = Zero(s.Lanes);
            }

            for (int r = 0; r < rows; r++)
            {
                w.WriteLine($"var acc{r}_{m} = {init};");
            }
        }

        var laneWidths = new SortedSet<int>();
        foreach (Segment s in segments)
        {
            laneWidths.Add(s.Lanes);
        }

        w.OpenBlock($"for (int t = 0; t < {product.Inner}; t++)");
        for (int m = 0; m < segments.Count; m++)
        {
            Segment s = segments[m];
            w.WriteLine($"var b{m} = {Load(s.Lanes, "bp", Invariant.Int(s.Offset - segments[0].Offset))};");
        }

        for (int r = 0; r < rows; r++)
        {
            string scalar = Load(1, "ap", Times(Invariant.Int(r), product.ARow));
            foreach (int lanes in laneWidths)
            {
                w.WriteLine($"var x{r}_{Invariant.Int(lanes)} = {Broadcast(lanes, scalar)};");
            }

            for (int m = 0; m < segments.Count; m++)
            {
                w.WriteLine($"acc{r}_{m} = {Math}.MultiplyAdd(x{r}_{Invariant.Int(segments[m].Lanes)}, b{m}, acc{r}_{m});");
            }
        }

        w.WriteLine($"ap = ref {Unsafe}.Add(ref ap, {Invariant.Int(product.ACol)});");
        w.WriteLine($"bp = ref {Unsafe}.Add(ref bp, {Invariant.Int(product.BStride)});");
        w.CloseBlock();

        // A multi-row tile stores z first and applies sigmoid or tanh in a second, row-by-row loop: activating
        // all accumulators in place keeps them live through the activation's temporaries, and the JIT spills.
        // ReLU (one compare and select) stays in place. (Single-sample products apply these after the product,
        // pipelined into the block loop: Product.Pipelined.)
        bool deferActivation = product.Kind == Epilogue.Forward && product.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh && rows > 1;
        for (int r = 0; r < rows; r++)
        {
            string row = Plus("r0", Invariant.Int(r));
            string rowStart = Plus(Invariant.Int(product.OutOffset), "(" + row + ") * " + Invariant.Int(product.OutStride));
            for (int m = 0; m < segments.Count; m++)
            {
                Segment s = segments[m];
                string column = Plus(block.Base, Invariant.Int(s.Offset));
                string at = Plus(rowStart, column);
                string acc = $"acc{r}_{m}";
                switch (product.Kind)
                {
                    case Epilogue.Forward:
                        w.WriteLine(Store(s.Lanes, deferActivation ? acc : Activate(product.Activation, acc), product.Out, at));
                        break;
                    case Epilogue.Accumulate:
                        w.WriteLine(Store(s.Lanes, $"{Load(s.Lanes, product.Out, at)} + {acc}", product.Out, at));
                        break;
                    default:
                        string previous = Plus(Invariant.Int(product.PreviousOffset), Plus("(" + row + ") * " + Invariant.Int(product.OutStride), column));
                        w.WriteLine($"var a{r}_{m} = {Load(s.Lanes, "rw", previous)};");
                        w.WriteLine(Store(s.Lanes, Derivative(s.Lanes, product.Activation, $"a{r}_{m}", acc), product.Out, at));
                        break;
                }
            }
        }

        if (deferActivation)
        {
            w.OpenBlock($"for (int r = r0; r < r0 + {Invariant.Int(rows)}; r++)");
            w.WriteLine($"ref float o = ref {Unsafe}.Add(ref {product.Out}, {Plus(Invariant.Int(product.OutOffset), Plus("r * " + Invariant.Int(product.OutStride), Plus(block.Base, Invariant.Int(segments[0].Offset))))});");
            for (int m = 0; m < segments.Count; m++)
            {
                Segment s = segments[m];
                string offset = Invariant.Int(s.Offset - segments[0].Offset);
                w.WriteLine(Store(s.Lanes, Activate(product.Activation, Load(s.Lanes, "o", offset)), "o", offset));
            }

            w.CloseBlock();
        }
    }

    // ---------------------------------------------------------------- elementwise loops

    /// <summary>Writes <paramref name="body"/> (lanes, column expression) over columns [0, count): a loop of full vectors, then the tail.</summary>
    private static void WriteElementwise(SourceWriter w, int count, int lanes, Action<int, string> body)
        => WriteElementwise(w, 0, count, lanes, body);

    /// <summary>Writes <paramref name="body"/> over columns [<paramref name="start"/>, <paramref name="count"/>).</summary>
    private static void WriteElementwise(SourceWriter w, int start, int count, int lanes, Action<int, string> body)
    {
        int full = start + (count - start) / lanes * lanes;
        if (full == start + lanes)
        {
            w.OpenBlock("unchecked");
            w.WriteLine($"const int j = {Invariant.Int(start)};");
            body(lanes, "j");
            w.CloseBlock();
        }
        else if (full > start)
        {
            w.OpenBlock($"for (int j = {Invariant.Int(start)}; j < {Invariant.Int(full)}; j += {Invariant.Int(lanes)})");
            body(lanes, "j");
            w.CloseBlock();
        }

        foreach (Segment s in Cascade(full, count - full, lanes))
        {
            w.OpenBlock("unchecked");
            body(s.Lanes, Invariant.Int(s.Offset));
            w.CloseBlock();
        }
    }

    // ---------------------------------------------------------------- members

    /// <summary>The fields the SIMD path needs (a transposed copy of the weights for the batch products).</summary>
    public static void WriteFields(SourceWriter w, ModelPlan plan)
    {
        var layout = new BatchLayout(plan);
        w.WriteLine("// Pinned with 16 floats of slack: the SIMD batch code starts its layer-major layout on a 64-byte boundary.");
        w.WriteLine("private readonly float[] _workspace = global::System.GC.AllocateArray<float>(WorkspaceLength * MaxBatchSize + 16, pinned: true);");
        w.WriteLine($"private readonly global::EdgeAe.AlignedBuffer _transposed = new global::EdgeAe.AlignedBuffer({Invariant.Int(layout.TransposedLength)});");
    }

    /// <summary>A statement that hands the whole call to the SIMD path when a vector ISA is accelerated.</summary>
    public static void WriteDispatch(SourceWriter w, params string[] statements)
    {
        w.OpenBlock($"if ({Accelerated})");
        foreach (string statement in statements)
        {
            w.WriteLine(statement);
        }

        w.CloseBlock();
        w.WriteLine();
    }

    /// <summary>Every SIMD member: batch encode, the per-sample forward and loss, the batch forward/backward, per rung.</summary>
    public static void WriteMembers(SourceWriter w, ModelPlan plan)
    {
        var layout = new BatchLayout(plan);
        WriteEncodeBatch(w, plan, layout);
        WriteForwardLayersSimd(w, plan);
        WriteForwardAndLossSimd(w, plan);
        if (plan.OutputLayer.IsTied)
        {
            WriteLossAgainstSimd(w, plan);
        }

        WriteAccumulateBatchSimd(w, plan, layout);
        foreach (Rung rung in Rungs)
        {
            for (int l = 0; l < plan.Layers.Count; l++)
            {
                WriteSingleForward(w, plan, l, rung, withLoss: false);
                if (l == plan.Layers.Count - 1)
                {
                    WriteSingleForward(w, plan, l, rung, withLoss: true);
                }

                WriteBatchForward(w, plan, layout, l, rung);
                WriteBatchBackward(w, plan, layout, l, rung);
            }

            WriteBatchLossAndDelta(w, plan, layout, rung);
        }
    }

    private static void WriteRungDispatch(SourceWriter w, Action<Rung> body)
    {
        for (int k = 0; k < Rungs.Length; k++)
        {
            Rung rung = Rungs[k];
            if (rung.Condition is not null)
            {
                w.OpenBlock((k == 0 ? "if (" : "else if (") + rung.Condition + ")");
            }
            else
            {
                w.OpenBlock("else");
            }

            body(rung);
            w.CloseBlock();
        }
    }

    private static void WriteEncodeBatch(SourceWriter w, ModelPlan plan, BatchLayout layout)
    {
        int code = plan.CodeLayer.Layer.Index;
        int codeWidth = plan.CodeLayer.Layer.Width;
        w.WriteLine("/// <summary>");
        w.WriteLine("/// Encodes a batch: <paramref name=\"inputs\"/> holds count × <see cref=\"InputSize\"/> floats sample after sample");
        w.WriteLine("/// (1 ≤ count ≤ <see cref=\"MaxBatchSize\"/>), <paramref name=\"codes\"/> receives count × <see cref=\"CodeSize\"/> floats. Allocates nothing.");
        w.WriteLine("/// </summary>");
        w.OpenBlock("public void EncodeBatch(global::System.ReadOnlySpan<float> inputs, global::System.Span<float> codes)");
        w.WriteLine("int count = BatchCount(inputs.Length);");
        w.OpenBlock("if (codes.Length != count * CodeSize)");
        w.WriteLine("ThrowLengthMismatch(nameof(codes), count * CodeSize, codes.Length);");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock($"if (!{Accelerated})");
        w.OpenBlock("for (int s = 0; s < count; s++)");
        w.WriteLine("Encode(inputs.Slice(s * InputSize, InputSize), codes.Slice(s * CodeSize, CodeSize));");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("return;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine($"ref float rx = ref {Marshal}.GetReference(inputs);");
        WriteRungDispatch(w, rung =>
        {
            for (int l = 0; l <= code; l++)
            {
                w.WriteLine($"Forward{Invariant.Int(l)}Batch{rung.Suffix}(ref rx, count);");
            }
        });
        w.WriteLine();
        w.WriteLine("ref float rw = ref global::EdgeAe.Kernels.Matrix.Aligned(_workspace);");
        w.OpenBlock("for (int s = 0; s < count; s++)");
        w.WriteLine($"{Marshal}.CreateReadOnlySpan(ref {Unsafe}.Add(ref rw, {Invariant.Int(layout.Activation[code])} + s * {Invariant.Int(Pad(codeWidth))}), CodeSize).CopyTo(codes.Slice(s * CodeSize, CodeSize));");
        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteForwardLayersSimd(SourceWriter w, ModelPlan plan)
    {
        bool anyTied = false;
        foreach (LayerPlan layer in plan.Layers)
        {
            anyTied |= layer.IsTied;
        }

        w.WriteLine("/// <summary>The SIMD path of <see cref=\"ForwardLayers\"/>; tied layers run the scalar kernel.</summary>");
        w.OpenBlock("private void ForwardLayersSimd(global::System.ReadOnlySpan<float> source, int first, int last)");
        w.WriteLine($"ref float rs = ref {Marshal}.GetReference(source);");
        w.WriteLine($"ref float rw = ref {Marshal}.GetArrayDataReference(_workspace);");
        if (anyTied)
        {
            w.WriteLine("global::System.Span<float> p = _parameters.Span;");
            w.WriteLine("float[] ws = _workspace;");
        }

        foreach (LayerPlan layer in plan.Layers)
        {
            int l = layer.Layer.Index;
            w.WriteLine();
            w.OpenBlock($"if (first <= {Invariant.Int(l)} && {Invariant.Int(l)} <= last)");
            string previous = l == 0 ? "0" : Invariant.Int(plan.Layers[l - 1].ActivationOffset);
            if (layer.IsTied)
            {
                LayerPlan prev = plan.Layers[l - 1];
                w.WriteLine($"global::System.ReadOnlySpan<float> x = first == {Invariant.Int(l)} ? source : new global::System.ReadOnlySpan<float>(ws, {Invariant.Int(prev.ActivationOffset)}, {Invariant.Int(prev.Layer.Width)});");
                ScalarKernelWriter.WriteDenseForward(w, layer, new Operand("x", 0));
            }
            else
            {
                string x = l == 0 ? "ref rs" : $"ref first == {Invariant.Int(l)} ? ref rs : ref {Unsafe}.Add(ref rw, {previous})";
                WriteRungDispatch(w, rung => w.WriteLine($"Forward{Invariant.Int(l)}Single{rung.Suffix}({x});"));
            }

            w.CloseBlock();
        }

        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteForwardAndLossSimd(SourceWriter w, ModelPlan plan)
    {
        LayerPlan output = plan.OutputLayer;
        int last = output.Layer.Index;
        w.WriteLine("/// <summary>The SIMD path of <see cref=\"ForwardAndLoss\"/>: the output layer's element-wise pass adds the loss terms as it writes the outputs.</summary>");
        w.OpenBlock("private float ForwardAndLossSimd(global::System.ReadOnlySpan<float> source, global::System.ReadOnlySpan<float> target, global::System.Span<float> output)");
        if (output.IsTied)
        {
            w.WriteLine($"ForwardLayersSimd(source, 0, {Invariant.Int(last)});");
            w.WriteLine("float loss = LossAgainstSimd(target);");
            w.OpenBlock("if (!output.IsEmpty)");
            w.WriteLine(Dialect.Desktop.CopyFromWorkspace(output.ActivationOffset, output.Layer.Width, "output"));
            w.CloseBlock();
            w.WriteLine();
            w.WriteLine("return loss;");
            w.CloseBlock();
            w.WriteLine();
            return;
        }

        if (last > 0)
        {
            w.WriteLine($"ForwardLayersSimd(source, 0, {Invariant.Int(last - 1)});");
        }

        w.WriteLine($"ref float ry = ref {Marshal}.GetReference(target);");
        w.WriteLine($"ref float rw = ref {Marshal}.GetArrayDataReference(_workspace);");
        w.WriteLine($"ref float ro = ref output.IsEmpty ? ref {Unsafe}.Add(ref rw, {Invariant.Int(output.ActivationOffset)}) : ref {Marshal}.GetReference(output);");
        string x;
        if (last == 0)
        {
            w.WriteLine($"ref float rx = ref {Marshal}.GetReference(source);");
            x = "ref rx";
        }
        else
        {
            x = $"ref {Unsafe}.Add(ref rw, {Invariant.Int(plan.Layers[last - 1].ActivationOffset)})";
        }

        WriteRungDispatch(w, rung => w.WriteLine($"return Forward{Invariant.Int(last)}SingleLoss{rung.Suffix}({x}, ref ry, ref ro);"));
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteSingleForward(SourceWriter w, ModelPlan plan, int l, Rung rung, bool withLoss)
    {
        LayerPlan layer = plan.Layers[l];
        if (layer.IsTied)
        {
            return;
        }

        LayerSpec spec = layer.Layer;
        if (withLoss)
        {
            string terms = plan.Topology.Loss == LossKind.BinaryCrossEntropy
                ? "softplus(z) − t·z, with σ(z) from the same exp"
                : "½(a − t)²";
            w.WriteLine($"/// <summary>Layer {Invariant.Int(l)} (output) forward for one sample, {Invariant.Int(rung.Lanes)}-lane vectors; the element-wise pass writes a = f(z) to <paramref name=\"ro\"/> and adds the loss terms ({terms}) against <paramref name=\"ry\"/>. Returns the loss.</summary>");
            w.OpenBlock($"private float Forward{Invariant.Int(l)}SingleLoss{rung.Suffix}(ref float rx, ref float ry, ref float ro)");
        }
        else
        {
            w.WriteLine($"/// <summary>Layer {Invariant.Int(l)} forward for one sample, {Invariant.Int(rung.Lanes)}-lane vectors: each input is one broadcast FMA'd into accumulators covering the outputs.</summary>");
            w.OpenBlock($"private void Forward{Invariant.Int(l)}Single{rung.Suffix}(ref float rx)");
        }

        w.WriteLine("ref float rp = ref _parameters.Reference;");
        w.WriteLine($"ref float rw = ref {Marshal}.GetArrayDataReference(_workspace);");
        bool logProduct = withLoss && plan.Topology.Loss == LossKind.BinaryCrossEntropy && spec.Width >= rung.Lanes;
        if (withLoss)
        {
            w.WriteLine("double loss = 0.0;");
            w.WriteLine(RowLoss(rung.Lanes));
        }

        if (logProduct)
        {
            WriteLogProductStart(w, rung.Lanes);
        }

        bool stable = l == plan.Layers.Count - 1 && plan.Topology.Loss == LossKind.BinaryCrossEntropy;
        bool elementwise = withLoss || spec.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh;

        // The element-wise part for one stretch of outputs: z at rw[ActivationOffset + j] becomes a = f(z), in place or,
        // with the loss, into ro[j] while the terms against ry[j] are added. Vector-wide, it runs inside the block
        // loop (pipelined).
        void Element(int lanes, string z, string column)
        {
            w.WriteLine($"var z = {Load(lanes, z, "0")};");
            if (!withLoss)
            {
                w.WriteLine(Store(lanes, Activate(spec.Activation, "z", stable), z, "0"));
                return;
            }

            w.WriteLine($"var t = {Load(lanes, "ry", column)};");
            if (plan.Topology.Loss == LossKind.BinaryCrossEntropy)
            {
                WriteBceTerms(w, rung.Lanes, lanes);
                w.WriteLine(Store(lanes, "a", "ro", column));
            }
            else
            {
                w.WriteLine($"var a = {Activate(spec.Activation, "z")};");
                w.WriteLine(Store(lanes, "a", "ro", column));
                w.WriteLine("var d = a - t;");
                w.WriteLine(AddLoss(rung.Lanes, lanes, "d * d", true));
            }
        }

        var product = new Product
        {
            Comment = $"z = b + x·W, {spec.InputWidth} → {spec.Width}, {spec.Activation}",
            Rows = "1",
            RowsConstant = 1,
            Inner = Invariant.Int(spec.InputWidth),
            Columns = spec.Width,
            A = "rx",
            ARow = 0,
            ACol = 1,
            B = "rp",
            BOffset = layer.WeightOffset,
            BStride = spec.Width,
            BiasOffset = layer.BiasOffset,
            Kind = Epilogue.Forward,
            Activation = elementwise ? ActivationKind.Linear : spec.Activation,
            Pipelined = elementwise ? (o, column) => Element(rung.Lanes, o, column) : null,
            Out = "rw",
            OutOffset = layer.ActivationOffset,
            OutStride = 0,
        };
        int done = WriteProduct(w, product, rung.Lanes, 1, SingleSampleVectors);
        if (elementwise)
        {
            // What the block loop left: the last block and the tail columns.
            w.WriteLine(withLoss ? "// a = f(z) in place and the loss terms, for the columns the block loop left" : "// a = f(z) in place, for the columns the block loop left");
            WriteElementwise(w, done, spec.Width, rung.Lanes, (lanes, j) =>
            {
                w.OpenBlock("unchecked");
                w.WriteLine($"ref float o = ref {Unsafe}.Add(ref rw, {Plus(Invariant.Int(layer.ActivationOffset), j)});");
                Element(lanes, "o", j);
                w.CloseBlock();
            });
        }

        if (withLoss)
        {
            w.WriteLine(ReduceLoss(plan, rung.Lanes));
            if (logProduct)
            {
                w.WriteLine(LogProductEnd());
            }

            w.WriteLine("return (float)loss;");
        }

        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteBatchForward(SourceWriter w, ModelPlan plan, BatchLayout layout, int l, Rung rung)
    {
        LayerPlan layer = plan.Layers[l];
        LayerSpec spec = layer.Layer;
        bool isOutput = l == plan.Layers.Count - 1;

        // A sigmoid output trained with binary cross-entropy stores only z: the loss pass takes σ(z) and the loss
        // term from one exp (WriteBceTerms). Only training runs the output layer's batch forward.
        bool zOnly = isOutput && layout.PreActivation >= 0;
        w.WriteLine(zOnly
            ? $"/// <summary>Layer {Invariant.Int(l)} (output) forward over a batch ({Invariant.Int(rung.TileRows)} × {Invariant.Int(rung.TileVectors * rung.Lanes)} register tiles): Z = X·W + b, stored as z; the loss pass applies the sigmoid.</summary>"
            : $"/// <summary>Layer {Invariant.Int(l)} forward over a batch ({Invariant.Int(rung.TileRows)} × {Invariant.Int(rung.TileVectors * rung.Lanes)} register tiles): Z = X·W + b, then the activation.</summary>");
        w.OpenBlock($"private void Forward{Invariant.Int(l)}Batch{rung.Suffix}(ref float rx, int count)");
        w.WriteLine("ref float rp = ref _parameters.Reference;");
        w.WriteLine("ref float rt = ref _transposed.Reference;");
        w.WriteLine("ref float rw = ref global::EdgeAe.Kernels.Matrix.Aligned(_workspace);");
        var product = new Product
        {
            Comment = $"Z = X·W{(layer.IsTied ? $" (W = layer {spec.TiedTo}'s W transposed, from the transposed copy)" : string.Empty)} + b, {spec.InputWidth} → {spec.Width}, {spec.Activation}",
            Rows = "count",
            RowsConstant = -1,
            Inner = Invariant.Int(spec.InputWidth),
            Columns = spec.Width,
            A = l == 0 ? "rx" : "rw",
            AOffset = l == 0 ? "0" : Invariant.Int(layout.Activation[l - 1]),
            ARow = l == 0 ? plan.Topology.InputSize : Pad(spec.InputWidth),
            ACol = 1,
            B = layer.IsTied ? "rt" : "rp",
            BOffset = layer.IsTied ? layout.Transposed[l] : layer.WeightOffset,
            BStride = spec.Width,
            BiasOffset = layer.BiasOffset,
            Kind = Epilogue.Forward,
            Activation = zOnly ? ActivationKind.Linear : spec.Activation,
            Out = "rw",
            OutOffset = zOnly ? layout.PreActivation : layout.Activation[l],
            OutStride = Pad(spec.Width),
        };
        WriteProduct(w, product, rung.Lanes, rung.TileRows, rung.TileVectors);
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteBatchBackward(SourceWriter w, ModelPlan plan, BatchLayout layout, int l, Rung rung)
    {
        LayerPlan layer = plan.Layers[l];
        LayerSpec spec = layer.Layer;
        int n = spec.Width;
        int m = spec.InputWidth;
        int deltaStride = Pad(n);
        w.WriteLine($"/// <summary>Layer {Invariant.Int(l)} backward over a batch: g_b += Σₛ δ, g_W += Xᵀ·Δ{(l > 0 ? ", Δ_prev = (Δ·Wᵀ)∘f'(X)" : string.Empty)}.</summary>");
        w.OpenBlock($"private void Backward{Invariant.Int(l)}Batch{rung.Suffix}(ref float rx, int count)");
        w.WriteLine("ref float rp = ref _parameters.Reference;");
        w.WriteLine("ref float rg = ref _gradients.Reference;");
        w.WriteLine("ref float rt = ref _transposed.Reference;");
        w.WriteLine("ref float rw = ref global::EdgeAe.Kernels.Matrix.Aligned(_workspace);");

        // Bias gradient.
        w.WriteLine("// g_b += Σₛ δ[s, ·]");
        WriteElementwise(w, n, rung.Lanes, (lanes, j) =>
        {
            string at = Plus(Invariant.Int(layer.BiasOffset), j);
            w.WriteLine($"var sum = {Load(lanes, "rg", at)};");
            w.WriteLine($"ref float d = ref {Unsafe}.Add(ref rw, {Plus(Invariant.Int(layout.Delta[l]), j)});");
            w.OpenBlock("for (int s = 0; s < count; s++)");
            w.WriteLine($"sum += {Load(lanes, "d", "0")};");
            w.WriteLine($"d = ref {Unsafe}.Add(ref d, {Invariant.Int(deltaStride)});");
            w.CloseBlock();
            w.WriteLine(Store(lanes, "sum", "rg", at));
        });

        string xRef = l == 0 ? "rx" : "rw";
        string xOffset = l == 0 ? "0" : Invariant.Int(layout.Activation[l - 1]);
        int xStride = l == 0 ? plan.Topology.InputSize : Pad(m);
        Product gradient = layer.IsTied
            ? new Product
            {
                Comment = $"g_W{spec.TiedTo}[j, i] += Σₛ δ[s, j]·x[s, i] (tied: the mirror's gradient, {n} × {m})",
                Rows = Invariant.Int(n),
                RowsConstant = n,
                Inner = "count",
                Columns = m,
                A = "rw",
                AOffset = Invariant.Int(layout.Delta[l]),
                ARow = 1,
                ACol = deltaStride,
                B = xRef,
                BOffset = l == 0 ? 0 : layout.Activation[l - 1],
                BStride = xStride,
                Kind = Epilogue.Accumulate,
                Out = "rg",
                OutOffset = layer.WeightOffset,
                OutStride = m,
            }
            : new Product
            {
                Comment = $"g_W[i, j] += Σₛ x[s, i]·δ[s, j] ({m} × {n})",
                Rows = Invariant.Int(m),
                RowsConstant = m,
                Inner = "count",
                Columns = n,
                A = xRef,
                AOffset = xOffset,
                ARow = 1,
                ACol = xStride,
                B = "rw",
                BOffset = layout.Delta[l],
                BStride = deltaStride,
                Kind = Epilogue.Accumulate,
                Out = "rg",
                OutOffset = layer.WeightOffset,
                OutStride = n,
            };
        WriteProduct(w, gradient, rung.Lanes, rung.TileRows, rung.TileVectors);

        if (l > 0)
        {
            LayerPlan previous = plan.Layers[l - 1];
            var data = new Product
            {
                Comment = $"δ_prev[s, i] = f'(x[s, i])·Σⱼ δ[s, j]·W[i, j], W read {(layer.IsTied ? "as the mirror's W (already transposed)" : "from the transposed copy")}, f = {previous.Layer.Activation}",
                Rows = "count",
                RowsConstant = -1,
                Inner = Invariant.Int(n),
                Columns = m,
                A = "rw",
                AOffset = Invariant.Int(layout.Delta[l]),
                ARow = deltaStride,
                ACol = 1,
                B = layer.IsTied ? "rp" : "rt",
                BOffset = layer.IsTied ? layer.WeightOffset : layout.Transposed[l],
                BStride = m,
                Kind = Epilogue.BackData,
                Activation = previous.Layer.Activation,
                Out = "rw",
                OutOffset = layout.Delta[l - 1],
                OutStride = Pad(m),
                PreviousOffset = layout.Activation[l - 1],
            };
            WriteProduct(w, data, rung.Lanes, rung.TileRows, rung.TileVectors);
        }

        w.CloseBlock();
        w.WriteLine();
    }

    /// <summary>The loss terms of one sample row and, for training, the output delta.</summary>
    private static void WriteLossRow(SourceWriter w, ModelPlan plan, int fullLanes, int lanes, string j, string output, string preActivation, string target, string? delta)
    {
        LayerPlan layer = plan.OutputLayer;
        if (plan.Topology.Loss == LossKind.BinaryCrossEntropy)
        {
            w.WriteLine($"var z = {Load(lanes, "rw", Plus(preActivation, j))};");
            w.WriteLine($"var t = {Load(lanes, "ry", Plus(target, j))};");
            if (delta is not null)
            {
                // Training: the batch forward stored only z; σ(z) and the loss term come from one exp. δ = σ(z) − t.
                WriteBceTerms(w, fullLanes, lanes);
                w.WriteLine(Store(lanes, "a - t", "rw", Plus(delta, j)));
            }
            else
            {
                w.WriteLine(AddLoss(fullLanes, lanes, $"{Math}.Softplus(z) - t * z", false));
            }
        }
        else
        {
            w.WriteLine($"var a = {Load(lanes, "rw", Plus(output, j))};");
            w.WriteLine($"var d = a - {Load(lanes, "ry", Plus(target, j))};");
            w.WriteLine(AddLoss(fullLanes, lanes, "d * d", true));
            if (delta is not null)
            {
                w.WriteLine(Store(lanes, Derivative(lanes, layer.Layer.Activation, "a", "d"), "rw", Plus(delta, j)));
            }
        }
    }

    /// <summary>Full vectors add their terms into the float vector <c>rowLoss</c> (reduced once per sample row, <see cref="ReduceLoss"/>); tail pieces go to the double sum directly.</summary>
    private static string AddLoss(int fullLanes, int lanes, string terms, bool half)
        => lanes == fullLanes && lanes > 1
            ? $"rowLoss += {terms};"
            : $"loss += {(half ? "0.5 * " : string.Empty)}(double){Sum(lanes, terms)};";

    private static string RowLoss(int lanes) => $"var rowLoss = {Zero(lanes)};";

    /// <summary>
    /// Binary cross-entropy from <c>z</c> and the target <c>t</c>: declares <c>a</c> = σ(z) and adds the term softplus(z) − t·z,
    /// both from one exp. Full vectors split the term into max(z, 0) − t·z (added to <c>rowLoss</c>) and log(w), w = 1 + e^−|z|,
    /// multiplied into <c>logMantissa</c>/<c>logExponent</c> and taken once (<see cref="LogProductEnd"/>) instead of a log per
    /// element; tail pieces add softplus per element to the double sum.
    /// </summary>
    private static void WriteBceTerms(SourceWriter w, int fullLanes, int lanes)
    {
        if (lanes == fullLanes && lanes > 1)
        {
            w.WriteLine($"var a = {Math}.SigmoidStable(z, out var onePlusExp);");
            w.WriteLine($"rowLoss += {VectorClass(lanes)}.MaxNative(z, {Zero(lanes)}) - t * z;");
            w.WriteLine($"{Math}.MultiplyIntoProduct(ref logMantissa, ref logExponent, onePlusExp);");
        }
        else
        {
            w.WriteLine($"var a = {Math}.SigmoidWithSoftplus(z, out var softplus);");
            w.WriteLine(AddLoss(fullLanes, lanes, "softplus - t * z", false));
        }
    }

    private static void WriteLogProductStart(SourceWriter w, int lanes)
    {
        w.WriteLine($"var logMantissa = {One(lanes)};");
        w.WriteLine($"var logExponent = {VectorClass(lanes)}<int>.Zero;");
    }

    private static string LogProductEnd() => $"loss += {Math}.LogOfProduct(logMantissa, logExponent);";

    private static string ReduceLoss(ModelPlan plan, int lanes)
        => $"loss += {(plan.Topology.Loss == LossKind.BinaryCrossEntropy ? string.Empty : "0.5 * ")}(double){Sum(lanes, "rowLoss")};";

    private static void WriteLossAgainstSimd(SourceWriter w, ModelPlan plan)
    {
        LayerPlan output = plan.OutputLayer;
        w.WriteLine("/// <summary>The SIMD path of <see cref=\"LossAgainst\"/>: the loss of the last forward pass: full vectors of terms summed in a float vector, reduced to double once; tail pieces in double.</summary>");
        w.OpenBlock("private float LossAgainstSimd(global::System.ReadOnlySpan<float> target)");
        w.WriteLine($"ref float ry = ref {Marshal}.GetReference(target);");
        w.WriteLine($"ref float rw = ref {Marshal}.GetArrayDataReference(_workspace);");
        w.WriteLine("double loss = 0.0;");
        WriteRungDispatch(w, rung =>
        {
            w.WriteLine(RowLoss(rung.Lanes));
            WriteElementwise(w, output.Layer.Width, rung.Lanes, (lanes, j) =>
                WriteLossRow(w, plan, rung.Lanes, lanes, j, Invariant.Int(output.ActivationOffset), Invariant.Int(output.PreActivationOffset), "0", null));
            w.WriteLine(ReduceLoss(plan, rung.Lanes));
        });
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteBatchLossAndDelta(SourceWriter w, ModelPlan plan, BatchLayout layout, Rung rung)
    {
        int last = plan.Layers.Count - 1;
        int stride = Pad(plan.Topology.InputSize);
        w.WriteLine($"/// <summary>The summed loss of a batch and the output deltas, {Invariant.Int(rung.Lanes)}-lane vectors.</summary>");
        w.OpenBlock($"private double LossAndDeltaBatch{rung.Suffix}(ref float ry, int count)");
        w.WriteLine("ref float rw = ref global::EdgeAe.Kernels.Matrix.Aligned(_workspace);");
        w.WriteLine("double loss = 0.0;");
        w.WriteLine("// Each sample row's float vector of terms is widened into double lanes; one horizontal sum at the end.");
        w.WriteLine($"var batchLoss = {VectorClass(rung.Lanes)}<double>.Zero;");
        bool logProduct = plan.Topology.Loss == LossKind.BinaryCrossEntropy && plan.Topology.InputSize >= rung.Lanes;
        if (logProduct)
        {
            WriteLogProductStart(w, rung.Lanes);
        }

        w.OpenBlock("for (int s = 0; s < count; s++)");
        w.WriteLine($"int row = s * {Invariant.Int(stride)};");
        w.WriteLine("int sample = s * InputSize;");
        w.WriteLine(RowLoss(rung.Lanes));
        WriteElementwise(w, plan.Topology.InputSize, rung.Lanes, (lanes, j) =>
            WriteLossRow(w, plan, rung.Lanes, lanes, j, Plus(Invariant.Int(layout.Activation[last]), "row"), Plus(Invariant.Int(layout.PreActivation), "row"), "sample", Plus(Invariant.Int(layout.Delta[last]), "row")));
        w.WriteLine($"var (lower, upper) = {VectorClass(rung.Lanes)}.Widen(rowLoss);");
        w.WriteLine("batchLoss += lower + upper;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine($"loss += {(plan.Topology.Loss == LossKind.BinaryCrossEntropy ? string.Empty : "0.5 * ")}{VectorClass(rung.Lanes)}.Sum(batchLoss);");
        if (logProduct)
        {
            w.WriteLine(LogProductEnd());
        }

        w.WriteLine("return loss;");
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteAccumulateBatchSimd(SourceWriter w, ModelPlan plan, BatchLayout layout)
    {
        w.WriteLine("/// <summary>The SIMD path of <see cref=\"AccumulateBatchGradients\"/> (also serves <see cref=\"AccumulateGradients\"/> as a batch of one).</summary>");
        w.OpenBlock("private float AccumulateBatchSimd(global::System.ReadOnlySpan<float> inputs, global::System.ReadOnlySpan<float> targets, int count)");
        w.WriteLine($"ref float rx = ref {Marshal}.GetReference(inputs);");
        w.WriteLine($"ref float ry = ref {Marshal}.GetReference(targets);");
        w.WriteLine("ref float rp = ref _parameters.Reference;");
        w.WriteLine("ref float rt = ref _transposed.Reference;");
        for (int l = 0; l < plan.Layers.Count; l++)
        {
            LayerPlan layer = plan.Layers[l];
            if (layout.Transposed[l] >= 0)
            {
                // Untied: Wᵀ (N × M) for the data product; tied: the mirror's W (N × M) transposed to M × N for the forward product.
                int rows = layer.IsTied ? layer.Layer.Width : layer.Layer.InputWidth;
                int columns = layer.IsTied ? layer.Layer.InputWidth : layer.Layer.Width;
                w.WriteLine($"global::EdgeAe.Kernels.Matrix.Transpose(ref {Unsafe}.Add(ref rp, {Invariant.Int(layer.WeightOffset)}), {Invariant.Int(rows)}, {Invariant.Int(columns)}, ref {Unsafe}.Add(ref rt, {Invariant.Int(layout.Transposed[l])}));");
            }
        }

        w.WriteLine("double loss;");
        WriteRungDispatch(w, rung =>
        {
            for (int l = 0; l < plan.Layers.Count; l++)
            {
                w.WriteLine($"Forward{Invariant.Int(l)}Batch{rung.Suffix}(ref rx, count);");
            }

            w.WriteLine($"loss = LossAndDeltaBatch{rung.Suffix}(ref ry, count);");
            for (int l = plan.Layers.Count - 1; l >= 0; l--)
            {
                w.WriteLine($"Backward{Invariant.Int(l)}Batch{rung.Suffix}(ref rx, count);");
            }
        });
        w.WriteLine();
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();
    }
}
