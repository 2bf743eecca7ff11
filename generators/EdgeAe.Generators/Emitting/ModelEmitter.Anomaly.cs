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
        string last = Invariant.Int(plan.OutputLayer.Layer.Index);
        const string Input = "global::System.ReadOnlySpan<float>";
        WriteThresholdConstants(w, baked);

        w.WriteLine("/// <summary>");
        w.WriteLine($"/// The anomaly score of <paramref name=\"input\"/>: {ScoreDefinition(spec)}, the reconstruction loss");
        w.WriteLine("/// <see cref=\"Reconstruct\"/> returns as a mean per element. Fast path (SIMD); agrees with <see cref=\"ScorePortable\"/> within");
        w.WriteLine("/// the tolerance docs/anomaly.md states. Allocates nothing.");
        w.WriteLine("/// </summary>");
        w.OpenBlock($"public float Score({Input} input)");
        WriteLengthCheck(w, "input", "InputSize");
        w.WriteLine("return ScoreOfLoss(ForwardAndLoss(input, input, default));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>");
        w.WriteLine("/// The anomaly score with the firmware flavour's exact arithmetic (scalar loops, no fused multiply-add, the same math");
        w.WriteLine("/// functions): bit-identical to the device's <c>Score</c> for the same parameters. Allocates nothing.");
        w.WriteLine("/// </summary>");
        w.OpenBlock($"public float ScorePortable({Input} input)");
        WriteLengthCheck(w, "input", "InputSize");
        w.WriteLine($"ForwardLayersScalar(input, 0, {last});");
        w.WriteLine("return ScoreOfLoss(LossAgainst(input));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>");
        w.WriteLine("/// Writes each input's term of the score into <paramref name=\"perFeature\"/> (" + (spec.Loss == LossKind.BinaryCrossEntropy
            ? "its binary cross-entropy" : "its squared error (x̂ − x)²") + "), so that");
        w.WriteLine("/// their mean is the score and the largest terms name the inputs that deviate, and returns the score, bit-identical to");
        w.WriteLine("/// <see cref=\"ScorePortable\"/> (the same arithmetic). Allocates nothing.");
        w.WriteLine("/// </summary>");
        w.OpenBlock($"public float ScoreFeatures({Input} input, global::System.Span<float> perFeature)");
        WriteLengthCheck(w, "input", "InputSize");
        WriteLengthCheck(w, "perFeature", "InputSize");
        w.WriteLine($"ForwardLayersScalar(input, 0, {last});");
        w.WriteLine("float[] ws = _workspace;");
        WriteScoreTerms(w, plan, new Operand("input", 0), "perFeature", nullable: false);
        w.WriteLine("return ScoreOfLoss((float)loss);");
        w.CloseBlock();
        w.WriteLine();

        if (baked is not null && baked.HasAnomalyThreshold)
        {
            w.WriteLine("/// <summary>True when <see cref=\"Score\"/> is above <see cref=\"AnomalyThreshold\"/>. Allocates nothing.</summary>");
            w.WriteLine($"public bool IsAnomaly({Input} input) => Score(input) > AnomalyThreshold;");
            w.WriteLine();
            w.WriteLine("/// <summary>True when <see cref=\"ScorePortable\"/> is above <see cref=\"AnomalyThreshold\"/>: the device's decision, bit for bit.</summary>");
            w.WriteLine($"public bool IsAnomalyPortable({Input} input) => ScorePortable(input) > AnomalyThreshold;");
            w.WriteLine();
        }

        WriteScoreOfLoss(w, spec);
    }

    private static void WriteNanoAnomaly(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        bool threshold = baked is not null && baked.HasAnomalyThreshold;
        WriteThresholdConstants(w, baked);
        w.WriteLine("/// <summary>RAM of one <see cref=\"AnomalyWindow\"/>'s ring (two copies of a window, with its heap-block overhead); a smoother needs no array.</summary>");
        w.WriteLine($"public const int WindowRamBytes = {Invariant.Int(NanoFootprint.WindowBytes(plan))};");
        w.WriteLine();
        w.WriteLine("/// <summary>RAM of the model with one <see cref=\"AnomalyWindow\"/> for streaming detection: <see cref=\"RamBytes\"/> + <see cref=\"WindowRamBytes\"/>.</summary>");
        w.WriteLine("public const int RamBytesWithWindow = RamBytes + WindowRamBytes;");
        w.WriteLine();

        w.WriteLine($"/// <summary>The anomaly score of <paramref name=\"input\"/>: {ScoreDefinition(spec)}. Allocates nothing.</summary>");
        w.OpenBlock("public float Score(float[] input)");
        WriteNanoCheck(w, "input", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine("return ScoreOfLoss(LossAgainst(input));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>The anomaly score of the window's last frames, read in place from its ring. Allocates nothing.</summary>");
        w.OpenBlock("public float Score(AnomalyWindow window)");
        w.OpenBlock("if (window == null)");
        w.WriteLine("throw new global::System.ArgumentNullException(\"window\");");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (!window.IsFull)");
        w.WriteLine("throw new global::System.InvalidOperationException(\"The window is not full yet: push Frames frames first.\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("float[] ring = window.Ring;");
        w.WriteLine("int start = window.Start;");
        w.WriteLine("EncodeLayers(ring, start);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(plan.CodeLayer.ActivationOffset)}, _code, 0, CodeSize);");
        w.WriteLine("DecodeLayers(_code);");
        w.WriteLine("return ScoreOfLoss(ScoreTerms(ring, start, null));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>Writes each input's term of the score into <paramref name=\"perFeature\"/> (their mean is the score) and returns the score. Allocates nothing.</summary>");
        w.OpenBlock("public float ScoreFeatures(float[] input, float[] perFeature)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "perFeature", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine("return ScoreOfLoss(ScoreTerms(input, 0, perFeature));");
        w.CloseBlock();
        w.WriteLine();

        if (threshold)
        {
            w.WriteLine("/// <summary>True when <see cref=\"Score(float[])\"/> is above <see cref=\"AnomalyThreshold\"/>. Allocates nothing.</summary>");
            w.WriteLine("public bool IsAnomaly(float[] input) { return Score(input) > AnomalyThreshold; }");
            w.WriteLine();
            w.WriteLine("/// <summary>True when the window's score is above <see cref=\"AnomalyThreshold\"/>. Allocates nothing.</summary>");
            w.WriteLine("public bool IsAnomaly(AnomalyWindow window) { return Score(window) > AnomalyThreshold; }");
            w.WriteLine();
        }

        w.WriteLine("/// <summary>Sums the score's terms of the last forward pass against <paramref name=\"target\"/> from <paramref name=\"start\"/>, writing each into <paramref name=\"perFeature\"/> when it is not null.</summary>");
        w.OpenBlock("private float ScoreTerms(float[] target, int start, float[]? perFeature)");
        w.WriteLine("float[] ws = _workspace;");
        WriteScoreTerms(w, plan, new Operand("target", 0, "start"), "perFeature", nullable: true);
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();
        WriteScoreOfLoss(w, spec);
        WriteNanoWindowClass(w);
        WriteNanoSmootherClass(w);
    }

    private static void WriteThresholdConstants(SourceWriter w, BakedWeights? baked)
    {
        bool threshold = baked is not null && baked.HasAnomalyThreshold;
        w.WriteLine("/// <summary>True when an anomaly threshold was baked from the weight file's 'anom' section (then <c>AnomalyThreshold</c> and <c>IsAnomaly</c> exist).</summary>");
        w.WriteLine($"public const bool HasAnomalyThreshold = {(threshold ? "true" : "false")};");
        w.WriteLine();
        if (threshold)
        {
            w.WriteLine($"/// <summary>The baked anomaly threshold ({CalibrationText(baked!)}): a score strictly above it is anomalous.</summary>");
            w.WriteLine($"public const float AnomalyThreshold = {Invariant.Float(baked!.AnomalyThreshold)};");
            w.WriteLine();
            w.WriteLine("/// <summary>How <see cref=\"AnomalyThreshold\"/> was calibrated, as the command line writes it.</summary>");
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
        w.WriteLine("/// <summary>The per-sample objective as a mean per element, rounded to float (the runtime's Metrics.MeanPerElement).</summary>");
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
            w.WriteLine("// Binary cross-entropy from z, term by term as the loss sums it: softplus(z) − t·z.");
            w.OpenBlock($"for (int j = 0; j < {width}; j++)");
            w.WriteLine($"float z = {z.At("j")};");
            w.WriteLine($"double term = EdgeAeMath.Softplus(z) - (double)({target.At("j")} * z);");
            w.WriteLine("loss += term;");
            w.WriteLine(store + "(float)term;");
        }
        else
        {
            var a = Operand.Workspace(output.ActivationOffset);
            w.WriteLine("// Squared error: the objective adds ½(x̂ − t)², the score's term is (x̂ − t)².");
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
        w.WriteLine("/// <summary>");
        w.WriteLine("/// The last Frames frames of FrameWidth features (Frames × FrameWidth = InputSize), oldest first, for streaming detection.");
        w.WriteLine("/// Each frame is stored twice in a ring twice a window long, so the newest Frames frames are always one contiguous");
        w.WriteLine("/// stretch that <see cref=\"Score(AnomalyWindow)\"/> reads in place: a push writes two frames, nothing moves. Allocates");
        w.WriteLine("/// only in the constructor (<see cref=\"WindowRamBytes\"/>).");
        w.WriteLine("/// </summary>");
        w.OpenBlock("public sealed class AnomalyWindow");
        w.WriteLine("private readonly float[] _ring = new float[2 * InputSize];");
        w.WriteLine("private readonly int _frames;");
        w.WriteLine("private readonly int _frameWidth;");
        w.WriteLine("private int _next;");
        w.WriteLine("private int _pushed;");
        w.WriteLine();
        w.WriteLine("/// <summary>Creates an empty window of <paramref name=\"frames\"/> frames; InputSize must be a multiple of it.</summary>");
        w.OpenBlock("public AnomalyWindow(int frames)");
        w.OpenBlock("if (frames < 1 || InputSize % frames != 0)");
        w.WriteLine("throw new global::System.ArgumentException(\"The number of frames must divide InputSize (\" + InputSize.ToString() + \"), not \" + frames.ToString() + \".\", \"frames\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("_frames = frames;");
        w.WriteLine("_frameWidth = InputSize / frames;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("/// <summary>Frames per window.</summary>");
        w.WriteLine("public int Frames { get { return _frames; } }");
        w.WriteLine();
        w.WriteLine("/// <summary>Features per frame.</summary>");
        w.WriteLine("public int FrameWidth { get { return _frameWidth; } }");
        w.WriteLine();
        w.WriteLine("/// <summary>True once Frames frames have been pushed.</summary>");
        w.WriteLine("public bool IsFull { get { return _pushed >= _frames; } }");
        w.WriteLine();
        w.WriteLine("internal float[] Ring { get { return _ring; } }");
        w.WriteLine();
        w.WriteLine("/// <summary>Where the current window starts in the ring (the oldest frame's slot).</summary>");
        w.WriteLine("internal int Start { get { return _next * _frameWidth; } }");
        w.WriteLine();
        w.WriteLine("/// <summary>Appends a frame of FrameWidth floats, dropping the oldest. Allocates nothing.</summary>");
        w.OpenBlock("public void Push(float[] frame)");
        w.OpenBlock("if (frame == null)");
        w.WriteLine("throw new global::System.ArgumentNullException(\"frame\");");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (frame.Length != _frameWidth)");
        w.WriteLine("throw new global::System.ArgumentException(\"Expected \" + _frameWidth.ToString() + \" floats in 'frame' but found \" + frame.Length.ToString() + \".\", \"frame\");");
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
        w.WriteLine("/// <summary>Forgets every frame.</summary>");
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
        w.WriteLine("/// <summary>");
        w.WriteLine($"/// Turns window scores into alarms: a k-of-n vote over the last n windows (n ≤ {NanoMaxVoteWindow}), or an exponential moving average of");
        w.WriteLine("/// the score against the threshold. The same decisions as the runtime's DecisionSmoother; allocates nothing.");
        w.WriteLine("/// </summary>");
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
        w.WriteLine($"/// <summary>Alarm when at least <paramref name=\"k\"/> of the last <paramref name=\"n\"/> scores (1 ≤ k ≤ n ≤ {NanoMaxVoteWindow}) are above <paramref name=\"threshold\"/>.</summary>");
        w.OpenBlock("public static AnomalySmoother Vote(int k, int n, float threshold)");
        w.OpenBlock($"if (n < 1 || n > {NanoMaxVoteWindow} || k < 1 || k > n)");
        w.WriteLine($"throw new global::System.ArgumentException(\"A vote needs 1 <= k <= n <= {NanoMaxVoteWindow}.\", \"k\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("return new AnomalySmoother(k, n, 0f, threshold);");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("/// <summary>Alarm when average ← average + α·(score − average) (starting at the first score) is above <paramref name=\"threshold\"/>; 0 &lt; α ≤ 1.</summary>");
        w.OpenBlock("public static AnomalySmoother Ema(float alpha, float threshold)");
        w.OpenBlock("if (!(alpha > 0f && alpha <= 1f))");
        w.WriteLine("throw new global::System.ArgumentException(\"The smoothing factor must be in (0, 1].\", \"alpha\");");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("return new AnomalySmoother(0, 0, alpha, threshold);");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("/// <summary>The moving average (the last score for a vote).</summary>");
        w.WriteLine("public float Average { get { return _average; } }");
        w.WriteLine();
        w.WriteLine("/// <summary>Feeds one score; returns whether the alarm is raised after it. Allocates nothing.</summary>");
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
        w.WriteLine("/// <summary>Forgets the history.</summary>");
        w.OpenBlock("public void Reset()");
        w.WriteLine("_history = 0u;");
        w.WriteLine("_above = 0;");
        w.WriteLine("_started = false;");
        w.WriteLine("_average = 0f;");
        w.CloseBlock();
        w.CloseBlock();
    }
}
