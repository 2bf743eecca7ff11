using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// Anomaly detection members (docs/anomaly.md), kept apart from the class-body writers: each flavour calls one method
/// here. The score is the reconstruction loss against the input as a mean per element — the runtime's
/// <c>Metrics.MeanPerElement</c> of what <c>Reconstruct</c> returns, rounded to float. Both flavours get <c>Score</c> and
/// <c>ScoreFeatures</c> and, when the baked weight file has an <c>anom</c> section, <c>AnomalyThreshold</c> and
/// <c>IsAnomaly</c>. The desktop adds <c>ScorePortable</c> (the firmware's arithmetic, bit for bit); the firmware flavour,
/// which cannot reference the runtime, gets its own ring buffer (<c>AnomalyWindow</c>) and decision smoother
/// (<c>AnomalySmoother</c>), the same logic as the runtime's <c>SlidingWindow</c> and <c>DecisionSmoother</c>.
/// </summary>
internal static partial class ModelEmitter
{
    /// <summary>Largest n of a firmware k-of-n vote (the history is one 32-bit word).</summary>
    internal const int NanoMaxVoteWindow = 32;

    /// <summary>The score's definition, once, for both flavours' XML comments.</summary>
    private static string ScoreDefinition(TopologySpec spec) => spec.Loss == LossKind.BinaryCrossEntropy
        ? "the mean binary cross-entropy per element of the reconstruction against the input (Σ BCE / InputSize)"
        : "the mean squared error per element of the reconstruction against the input (Σ (x̂ − x)² / InputSize)";

    private static void WriteDesktopAnomaly(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        int last = plan.OutputLayer.Layer.Index;
        WriteThresholdConstants(w, baked);

        w.WriteSummary($"The anomaly score of <paramref name=\"input\"/>: {ScoreDefinition(spec)}, the reconstruction loss "
            + "<see cref=\"Reconstruct\"/> returns as a mean per element. Fast path (SIMD); agrees with <see cref=\"ScorePortable\"/> "
            + "within the tolerance docs/anomaly.md states. Allocates nothing.");
        w.OpenBlock("public float Score(global::System.ReadOnlySpan<float> input)");
        WriteCheck(w, "input", "InputSize");
        w.WriteLine($"return ScoreOfLoss(ForwardAndLoss(input, input, ref Ws(SampleLayout.Activations{last})));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("The anomaly scores of a batch: <paramref name=\"inputs\"/> holds count × <see cref=\"InputSize\"/> floats sample after "
            + "sample (1 ≤ count ≤ <see cref=\"MaxBatchSize\"/>), <paramref name=\"scores\"/> receives count floats, bit for bit what "
            + "<see cref=\"Score\"/> gives each sample. Allocates nothing.");
        w.OpenBlock("public void ScoreBatch(global::System.ReadOnlySpan<float> inputs, global::System.Span<float> scores)");
        w.WriteLine("int count = global::EdgeAe.Kernels.Shape.BatchCount(inputs.Length, InputSize, MaxBatchSize, nameof(inputs));");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Check(scores, count, nameof(scores));");
        if (BatchMatchesSingleSample(plan, 0, last))
        {
            LayerPlan output = plan.OutputLayer;
            bool bce = spec.Loss == LossKind.BinaryCrossEntropy;
            int code = plan.CodeLayer.Layer.Index;
            w.WriteLine("EncodeRows(inputs, count);");
            if (last - 1 > code)
            {
                w.WriteLine($"DecodeHiddenRows(ref Ws(BatchLayout.Activations{code}), fromInputs: false, count);");
            }

            w.WriteLine("ref float p = ref _parameters.Reference;");
            WriteBatchForward(w, plan, last, last, BatchEnd.Scoring, first: $"ref Ws(BatchLayout.Activations{last - 1}), fromInputs: false");
            w.WriteComment("Per sample, the output layer's epilogue as Score runs it, segment by segment: the same outputs and loss.");
            w.OpenBlock("for (int s = 0; s < count; s++)");
            w.WriteLine($"ref float z = ref Ws(BatchLayout.{(bce ? "PreActivations" : $"Activations{last}")} + (s * BatchLayout.Row{last}));");
            if (bce)
            {
                w.WriteLine($"ref float output = ref Ws(BatchLayout.Activations{last} + (s * BatchLayout.Row{last}));");
            }

            w.WriteLine("ref float target = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref In(inputs), s * InputSize);");
            w.WriteStatement(bce
                ? $"double loss = global::EdgeAe.Kernels.Dense.BinaryCrossEntropyOutput<Layer{last}>(ref z, ref target, ref output);"
                : $"double loss = global::EdgeAe.Kernels.Dense.SquaredErrorOutput<Layer{last}, {KernelActivation(plan, output)}>(ref z, ref target, ref z);");
            w.WriteStatement("scores[s] = ScoreOfLoss((float)loss);");
            w.CloseBlock();
        }
        else
        {
            WriteSampleBySample(w, "scores[s] = Score(inputs.Slice(s * InputSize, InputSize));");
        }

        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("The anomaly score with the firmware flavour's exact arithmetic (scalar loops, no fused multiply-add, the same math "
            + "functions): bit-identical to the device's <c>Score</c> for the same parameters. Allocates nothing.");
        w.OpenBlock("public float ScorePortable(global::System.ReadOnlySpan<float> input)");
        WriteCheck(w, "input", "InputSize");
        w.WriteLine("return ScoreOfLoss(PortableLoss(input, default));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Writes each input's term of the score into <paramref name=\"perFeature\"/> (" + (spec.Loss == LossKind.BinaryCrossEntropy
            ? "its binary cross-entropy" : "its squared error (x̂ − x)²") + "), so that their mean is the score and the largest terms "
            + "name the inputs that deviate, and returns the score, bit-identical to <see cref=\"ScorePortable\"/> (the same arithmetic). "
            + "Allocates nothing.");
        w.OpenBlock("public float ScoreFeatures(global::System.ReadOnlySpan<float> input, global::System.Span<float> perFeature)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "perFeature", "InputSize");
        w.WriteLine("return ScoreOfLoss(PortableLoss(input, perFeature));");
        w.CloseBlock();
        w.WriteLine();

        if (baked is not null && baked.HasAnomalyThreshold)
        {
            w.WriteSummary("True when <see cref=\"Score\"/> is above <see cref=\"AnomalyThreshold\"/>. Allocates nothing.");
            w.WriteLine("public bool IsAnomaly(global::System.ReadOnlySpan<float> input) => Score(input) > AnomalyThreshold;");
            w.WriteLine();
            w.WriteSummary("True when <see cref=\"ScorePortable\"/> is above <see cref=\"AnomalyThreshold\"/>: the device's decision, bit for bit.");
            w.WriteLine("public bool IsAnomalyPortable(global::System.ReadOnlySpan<float> input) => ScorePortable(input) > AnomalyThreshold;");
            w.WriteLine();
        }

        w.WriteSummary("The loss of <paramref name=\"input\"/>'s reconstruction with the firmware's arithmetic, each term into <paramref name=\"terms\"/> unless it is empty.");
        w.OpenBlock("private float PortableLoss(global::System.ReadOnlySpan<float> input, global::System.Span<float> terms)");
        w.WriteLine("global::System.ReadOnlySpan<float> p = _parameters.Span;");
        w.WriteLine("global::System.Span<float> ws = _workspace.Span;");
        for (int l = 0; l <= last; l++)
        {
            LayerPlan layer = plan.Layers[l];
            string source = l == 0 ? "input" : $"ws.Slice(SampleLayout.Activations{l - 1}, {Invariant.Int(plan.Layers[l - 1].Layer.Width)})";
            bool zOnly = l == last && spec.Loss == LossKind.BinaryCrossEntropy;
            string target = zOnly ? "ws.Slice(SampleLayout.PreActivations, InputSize)" : $"ws.Slice(SampleLayout.Activations{l}, {Invariant.Int(layer.Layer.Width)})";
            w.WriteLine(LayerComment(layer) + (zOnly ? " Keeps z: the loss is computed from it." : string.Empty));
            w.WriteStatement($"global::EdgeAe.Kernels.Portable.{(layer.IsTied ? "ForwardTied" : "Forward")}<Layer{l}, {(zOnly ? "global::EdgeAe.Kernels.Linear" : PortableActivation(layer))}>(p, {source}, {target});");
        }

        w.WriteStatement(spec.Loss == LossKind.BinaryCrossEntropy
            ? "return global::EdgeAe.Kernels.Portable.BinaryCrossEntropy(ws.Slice(SampleLayout.PreActivations, InputSize), input, terms);"
            : $"return global::EdgeAe.Kernels.Portable.SquaredError(ws.Slice(SampleLayout.Activations{last}, InputSize), input, terms);");
        w.CloseBlock();
        w.WriteLine();
        WriteScoreOfLoss(w, spec);
    }

    /// <summary>
    /// How a firmware body scores: the loss call for <c>input</c> after <c>Forward(input)</c>; the statements running every
    /// layer on a window's <c>ring</c> from <c>start</c>; the method <c>(target, start, perFeature)</c> that sums the score's
    /// terms; and the writer of that method, or null when the body has it already.
    /// </summary>
    private sealed record NanoScoring(string LossOfInput, string[] ForwardWindow, string Terms, System.Action<SourceWriter>? WriteTerms);

    /// <summary>The float flavour's scoring: the pipelined loss for one input, <c>ScoreTerms</c> for windows and per-feature terms.</summary>
    private static NanoScoring FloatScoring(ModelPlan plan) => new(
        "LossAgainst(input)",
        ["EncodeLayers(ring, start);", $"global::System.Array.Copy(_workspace, {Invariant.Int(plan.CodeLayer.ActivationOffset)}, _code, 0, CodeSize);", "DecodeLayers(_code);"],
        "ScoreTerms",
        w =>
        {
            w.WriteSummary("Sums the score's terms of the last forward pass against <paramref name=\"target\"/> from <paramref name=\"start\"/>, writing each into <paramref name=\"perFeature\"/> when it is not null.");
            w.OpenBlock("private float ScoreTerms(float[] target, int start, float[]? perFeature)");
            w.WriteLine("float[] ws = _workspace;");
            WriteScoreTerms(w, plan, new Operand("target", 0, "start"), "perFeature", nullable: true);
            w.WriteLine("return (float)loss;");
            w.CloseBlock();
            w.WriteLine();
        });

    private static void WriteNanoAnomaly(SourceWriter w, ModelPlan plan, BakedWeights? baked, NanoScoring scoring)
    {
        TopologySpec spec = plan.Topology;
        bool threshold = baked is not null && baked.HasAnomalyThreshold;
        WriteThresholdConstants(w, baked);
        w.WriteSummary("RAM of one <see cref=\"AnomalyWindow\"/>'s ring (two copies of a window, with its heap-block overhead); a smoother needs no array.");
        w.WriteLine($"public const int WindowRamBytes = {Invariant.Int(DeviceFootprint.WindowBytes(plan))};");
        w.WriteLine();
        w.WriteSummary("RAM of the model with one <see cref=\"AnomalyWindow\"/> for streaming detection: <see cref=\"RamBytes\"/> + <see cref=\"WindowRamBytes\"/>.");
        w.WriteLine("public const int RamBytesWithWindow = RamBytes + WindowRamBytes;");
        w.WriteLine();

        w.WriteSummary($"The anomaly score of <paramref name=\"input\"/>: {ScoreDefinition(spec)}. Allocates nothing.");
        w.OpenBlock("public float Score(float[] input)");
        WriteNanoCheck(w, "input", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine($"return ScoreOfLoss({scoring.LossOfInput});");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("The anomaly score of the window's last frames, read in place from its ring. Allocates nothing.");
        w.OpenBlock("public float Score(AnomalyWindow window)");
        w.OpenBlock("if (window == null)");
        w.WriteLine("throw new global::System.ArgumentNullException(\"window\");");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (!window.IsFull)");
        w.WriteStatement("throw new global::System.InvalidOperationException(\"The window is not full yet: push Frames frames first.\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("float[] ring = window.Ring;");
        w.WriteLine("int start = window.Start;");
        foreach (string statement in scoring.ForwardWindow)
        {
            w.WriteLine(statement);
        }

        w.WriteLine($"return ScoreOfLoss({scoring.Terms}(ring, start, null));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Writes each input's term of the score into <paramref name=\"perFeature\"/> (their mean is the score) and returns the score. Allocates nothing.");
        w.OpenBlock("public float ScoreFeatures(float[] input, float[] perFeature)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "perFeature", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine($"return ScoreOfLoss({scoring.Terms}(input, 0, perFeature));");
        w.CloseBlock();
        w.WriteLine();

        if (threshold)
        {
            w.WriteSummary("True when <see cref=\"Score(float[])\"/> is above <see cref=\"AnomalyThreshold\"/>. Allocates nothing.");
            w.WriteLine("public bool IsAnomaly(float[] input) { return Score(input) > AnomalyThreshold; }");
            w.WriteLine();
            w.WriteSummary("True when the window's score is above <see cref=\"AnomalyThreshold\"/>. Allocates nothing.");
            w.WriteLine("public bool IsAnomaly(AnomalyWindow window) { return Score(window) > AnomalyThreshold; }");
            w.WriteLine();
        }

        scoring.WriteTerms?.Invoke(w);
        WriteScoreOfLoss(w, spec);
        WriteNanoWindowClass(w);
        WriteNanoSmootherClass(w);
    }

    private static void WriteThresholdConstants(SourceWriter w, BakedWeights? baked)
    {
        bool threshold = baked is not null && baked.HasAnomalyThreshold;
        w.WriteSummary("True when an anomaly threshold was baked from the weight file's 'anom' section (then <c>AnomalyThreshold</c> and <c>IsAnomaly</c> exist).");
        w.WriteLine($"public const bool HasAnomalyThreshold = {(threshold ? "true" : "false")};");
        w.WriteLine();
        if (threshold)
        {
            w.WriteSummary($"The baked anomaly threshold ({CalibrationText(baked!)}): a score strictly above it is anomalous.");
            w.WriteLine($"public const float AnomalyThreshold = {Invariant.Float(baked!.AnomalyThreshold)};");
            w.WriteLine();
            w.WriteSummary("How <see cref=\"AnomalyThreshold\"/> was calibrated, as the command line writes it.");
            w.WriteLine($"public const string AnomalyCalibration = {StringLiteral(CalibrationText(baked))};");
            w.WriteLine();
        }
    }

    /// <summary>E.g. <c>percentile:99.5 on 600 normal scores</c>.</summary>
    private static string CalibrationText(BakedWeights baked)
    {
        string[] names = ["manual", "percentile", "meanstd", "gamma", "fpr"];
        string name = baked.AnomalyMethod < names.Length ? names[baked.AnomalyMethod] : "method " + Invariant.Int(baked.AnomalyMethod);
        string parameter = baked.AnomalyParameter.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return baked.AnomalyMethod == 0 ? "set manually" : $"{name}:{parameter} on {Invariant.Int(baked.AnomalySamples)} normal scores";
    }

    /// <summary>The score of a per-sample objective, written as the runtime's <c>Metrics.MeanPerElement</c> computes it.</summary>
    private static void WriteScoreOfLoss(SourceWriter w, TopologySpec spec)
    {
        w.WriteSummary("The per-sample objective as a mean per element, rounded to float (the runtime's Metrics.MeanPerElement).");
        w.WriteLine(spec.Loss == LossKind.BinaryCrossEntropy
            ? "private static float ScoreOfLoss(float loss) { return (float)((double)loss / InputSize); }"
            : "private static float ScoreOfLoss(float loss) { return (float)(2.0 * loss / InputSize); }");
        w.WriteLine();
    }

    /// <summary>
    /// Declares <c>double loss</c> and sums the objective against <paramref name="target"/> exactly as the scalar loss does,
    /// writing each element's share of the score (BCE term, or (x̂ − x)², twice the ½-weighted objective term) to <paramref name="perFeature"/>.
    /// </summary>
    private static void WriteScoreTerms(SourceWriter w, ModelPlan plan, Operand target, string perFeature, bool nullable)
    {
        LayerPlan output = plan.OutputLayer;
        string width = Invariant.Int(output.Layer.Width);
        string store = nullable ? $"if ({perFeature} != null) {perFeature}[j] = " : $"{perFeature}[j] = ";
        w.WriteLine("double loss = 0.0;");
        if (plan.Topology.Loss == LossKind.BinaryCrossEntropy)
        {
            var z = Operand.Workspace(output.PreActivationOffset);
            w.WriteComment("Binary cross-entropy from z, term by term as the loss sums it: softplus(z) − t·z.");
            w.OpenBlock($"for (int j = 0; j < {width}; j++)");
            w.WriteLine($"float z = {z.At("j")};");
            w.WriteLine($"double term = EdgeAeMath.Softplus(z) - (double)({target.At("j")} * z);");
            w.WriteLine("loss += term;");
            w.WriteLine(store + "(float)term;");
        }
        else
        {
            var a = Operand.Workspace(output.ActivationOffset);
            w.WriteComment("Squared error: the objective adds ½(x̂ − t)², the score's term is (x̂ − t)².");
            w.OpenBlock($"for (int j = 0; j < {width}; j++)");
            w.WriteLine($"float d = {a.At("j")} - {target.At("j")};");
            w.WriteLine("loss += 0.5 * (double)(d * d);");
            w.WriteLine(store + "d * d;");
        }

        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteNanoWindowClass(SourceWriter w)
    {
        w.WriteSummary("The last Frames frames of FrameWidth features (Frames × FrameWidth = InputSize), oldest first, for streaming detection. Each frame is stored twice in a ring twice a window long, so the newest Frames frames are always one contiguous stretch that <see cref=\"Score(AnomalyWindow)\"/> reads in place: a push writes two frames, nothing moves. Allocates only in the constructor (<see cref=\"WindowRamBytes\"/>).");
        w.OpenBlock("public sealed class AnomalyWindow");
        w.WriteLine("private readonly float[] _ring = new float[2 * InputSize];");
        w.WriteLine("private readonly int _frames;");
        w.WriteLine("private readonly int _frameWidth;");
        w.WriteLine("private int _next;");
        w.WriteLine("private int _pushed;");
        w.WriteLine();
        w.WriteSummary("Creates an empty window of <paramref name=\"frames\"/> frames; InputSize must be a multiple of it.");
        w.OpenBlock("public AnomalyWindow(int frames)");
        w.OpenBlock("if (frames < 1 || InputSize % frames != 0)");
        w.WriteLine("throw new global::System.ArgumentException(");
        w.WriteLine("    \"The number of frames must divide InputSize (\" + InputSize.ToString() + \"), not \"");
        w.WriteLine("        + frames.ToString() + \".\",");
        w.WriteLine("    \"frames\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("_frames = frames;");
        w.WriteLine("_frameWidth = InputSize / frames;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteSummary("Frames per window.");
        w.WriteLine("public int Frames { get { return _frames; } }");
        w.WriteLine();
        w.WriteSummary("Features per frame.");
        w.WriteLine("public int FrameWidth { get { return _frameWidth; } }");
        w.WriteLine();
        w.WriteSummary("True once Frames frames have been pushed.");
        w.WriteLine("public bool IsFull { get { return _pushed >= _frames; } }");
        w.WriteLine();
        w.WriteLine("internal float[] Ring { get { return _ring; } }");
        w.WriteLine();
        w.WriteSummary("Where the current window starts in the ring (the oldest frame's slot).");
        w.WriteLine("internal int Start { get { return _next * _frameWidth; } }");
        w.WriteLine();
        w.WriteSummary("Appends a frame of FrameWidth floats, dropping the oldest. Allocates nothing.");
        w.OpenBlock("public void Push(float[] frame)");
        w.OpenBlock("if (frame == null)");
        w.WriteLine("throw new global::System.ArgumentNullException(\"frame\");");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (frame.Length != _frameWidth)");
        w.WriteLine("throw new global::System.ArgumentException(");
        w.WriteLine("    \"Expected \" + _frameWidth.ToString() + \" floats in 'frame' but found \"");
        w.WriteLine("        + frame.Length.ToString() + \".\", \"frame\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("global::System.Array.Copy(frame, 0, _ring, _next * _frameWidth, _frameWidth);");
        w.WriteLine("global::System.Array.Copy(frame, 0, _ring, (_next + _frames) * _frameWidth, _frameWidth);");
        w.WriteLine("_next = _next + 1 == _frames ? 0 : _next + 1;");
        w.OpenBlock("if (_pushed < _frames)");
        w.WriteLine("_pushed++;");
        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();
        w.WriteSummary("Forgets every frame.");
        w.OpenBlock("public void Clear()");
        w.WriteLine("global::System.Array.Clear(_ring, 0, _ring.Length);");
        w.WriteLine("_next = 0;");
        w.WriteLine("_pushed = 0;");
        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteNanoSmootherClass(SourceWriter w)
    {
        w.WriteSummary($"Turns window scores into alarms: a k-of-n vote over the last n windows (n ≤ {NanoMaxVoteWindow}), or an exponential moving average of the score against the threshold. The same decisions as the runtime's DecisionSmoother; allocates nothing.");
        w.OpenBlock("public sealed class AnomalySmoother");
        w.WriteLine("private readonly int _k;");
        w.WriteLine("private readonly int _n;");
        w.WriteLine("private readonly float _alpha;");
        w.WriteLine("private readonly float _threshold;");
        w.WriteLine("private uint _history;");
        w.WriteLine("private int _above;");
        w.WriteLine("private bool _started;");
        w.WriteLine("private float _average;");
        w.WriteLine();
        w.OpenBlock("private AnomalySmoother(int k, int n, float alpha, float threshold)");
        w.OpenBlock("if (float.IsNaN(threshold) || float.IsInfinity(threshold))");
        w.WriteLine("throw new global::System.ArgumentException(\"The threshold must be finite.\", \"threshold\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("_k = k;");
        w.WriteLine("_n = n;");
        w.WriteLine("_alpha = alpha;");
        w.WriteLine("_threshold = threshold;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteSummary($"Alarm when at least <paramref name=\"k\"/> of the last <paramref name=\"n\"/> scores (1 ≤ k ≤ n ≤ {NanoMaxVoteWindow}) are above <paramref name=\"threshold\"/>.");
        w.OpenBlock("public static AnomalySmoother Vote(int k, int n, float threshold)");
        w.OpenBlock($"if (n < 1 || n > {NanoMaxVoteWindow} || k < 1 || k > n)");
        w.WriteLine($"throw new global::System.ArgumentException(\"A vote needs 1 <= k <= n <= {NanoMaxVoteWindow}.\", \"k\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("return new AnomalySmoother(k, n, 0f, threshold);");
        w.CloseBlock();
        w.WriteLine();
        w.WriteSummary("Alarm when average ← average + α·(score − average) (starting at the first score) is above <paramref name=\"threshold\"/>; 0 &lt; α ≤ 1.");
        w.OpenBlock("public static AnomalySmoother Ema(float alpha, float threshold)");
        w.OpenBlock("if (!(alpha > 0f && alpha <= 1f))");
        w.WriteLine("throw new global::System.ArgumentException(\"The smoothing factor must be in (0, 1].\", \"alpha\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("return new AnomalySmoother(0, 0, alpha, threshold);");
        w.CloseBlock();
        w.WriteLine();
        w.WriteSummary("The moving average (the last score for a vote).");
        w.WriteLine("public float Average { get { return _average; } }");
        w.WriteLine();
        w.WriteSummary("Feeds one score; returns whether the alarm is raised after it. Allocates nothing.");
        w.OpenBlock("public bool Add(float score)");
        w.OpenBlock("if (_n > 0)");
        w.WriteLine("_average = score;");
        w.WriteLine("uint oldest = (_history >> (_n - 1)) & 1u;");
        w.WriteLine("uint bit = score > _threshold ? 1u : 0u;");
        w.WriteLine("_history = _n == 32 ? (_history << 1) | bit : ((_history << 1) | bit) & ((1u << _n) - 1u);");
        w.WriteLine("_above += (int)bit - (int)oldest;");
        w.WriteLine("return _above >= _k;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("_average = _started ? _average + _alpha * (score - _average) : score;");
        w.WriteLine("_started = true;");
        w.WriteLine("return _average > _threshold;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteSummary("Forgets the history.");
        w.OpenBlock("public void Reset()");
        w.WriteLine("_history = 0u;");
        w.WriteLine("_above = 0;");
        w.WriteLine("_started = false;");
        w.WriteLine("_average = 0f;");
        w.CloseBlock();
        w.CloseBlock();
    }
}
