using System.Collections.Generic;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// The desktop flavour: the model as glue over the runtime's kernels (<c>EdgeAe.Kernels</c>), which are written once and
/// generic over the vector width. Per model this writes the constants, the public API, the parameter and workspace
/// layout, one struct per layer holding its constant shape, and one kernel call per layer; the JIT compiles the kernels
/// for each layer's struct, so every size is still a constant in the machine code.
/// </summary>
internal static partial class ModelEmitter
{
    private static void WriteDesktopClassBody(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        WriteShapeConstants(w, plan, Form.Desktop);
        w.WriteSummary("Workspace floats of one sample, deltas for training included (one slot of the batch workspace).");
        w.WriteLine($"public const int WorkspaceLength = {Invariant.Int(plan.WorkspaceLength)};");
        w.WriteLine();
        w.WriteSummary("Largest batch <see cref=\"AccumulateBatchGradients\"/>, <see cref=\"TrainBatch\"/> and <see cref=\"EncodeBatch\"/> accept.");
        w.WriteLine($"public const int MaxBatchSize = {Invariant.Int(spec.MaxBatchSize)};");
        w.WriteLine();
        w.WriteSummary("Bytes of the whole workspace: one slot per sample of the largest batch.");
        w.WriteLine("public const int WorkspaceBytes = WorkspaceLength * MaxBatchSize * sizeof(float);");
        w.WriteLine();
        WriteSeedAndBakedConstants(w, spec, baked, Form.Desktop);
        WriteTopology(w, plan);
        WriteDesktopCodec(w, plan, baked);

        w.WriteLine("private readonly global::EdgeAe.AlignedBuffer _parameters = new(ParameterBufferLength);");
        w.WriteLine("private readonly global::EdgeAe.AlignedBuffer _gradients = new(ParameterBufferLength);");
        w.WriteLine("private readonly global::EdgeAe.AlignedBuffer _workspace = new(WorkspaceLength * MaxBatchSize);");
        w.WriteLine("private readonly global::EdgeAe.AlignedBuffer _transposed = new(BatchLayout.TransposedLength);");
        w.WriteLine();
        WriteDesktopConstructors(w, plan, baked);
        WriteFakeQuantizationMember(w);
        WriteDesktopInitialization(w, plan);
        WriteDesktopInference(w, plan);
        WriteDesktopAnomaly(w, plan, baked);
        WriteDesktopTraining(w, plan);

        w.WriteExpressionMember("private ref float Ws(int offset)", "ref global::System.Runtime.CompilerServices.Unsafe.Add(ref _workspace.Reference, offset);");
        w.WriteLine();
        w.WriteExpressionMember("private static ref float At(ref float workspace, int offset)", "ref global::System.Runtime.CompilerServices.Unsafe.Add(ref workspace, offset);");
        w.WriteLine();
        w.WriteExpressionMember("private ref float Transposed(int offset)", "ref global::System.Runtime.CompilerServices.Unsafe.Add(ref _transposed.Reference, offset);");
        w.WriteLine();
        w.WriteExpressionMember("private static ref float In(global::System.ReadOnlySpan<float> span)", "ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(span);");
        w.WriteLine();
        w.WriteExpressionMember("private static ref float Out(global::System.Span<float> span)", "ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(span);");
        WriteLayerStructs(w, plan);
        WriteWorkspaceLayout(w, plan);
        WriteInt8Companion(w, plan);
        if (baked is not null)
        {
            w.WriteLine();
            WriteBakedParameters(w, plan, baked);
        }
    }

    private static void WriteDesktopConstructors(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        string name = EscapedIdentifier(plan.Topology.TypeName);
        if (baked is null)
        {
            w.WriteSummary(ApiDoc.DeclaredSeedConstructor);
            w.WriteLine($"public {name}() => InitializeParameters(DeclaredSeed);");
        }
        else
        {
            w.WriteSummary("Creates the model with the trained parameters baked from <see cref=\"BakedWeightsFile\"/>, bit for bit.");
            // MemoryExtensions by name: the file has no usings, so the extension method is not in scope.
            w.WriteExpressionMember($"public {name}()", "global::System.MemoryExtensions.CopyTo(s_bakedParameters, _parameters.Span);");
        }

        w.WriteLine();
        w.WriteSummary(ApiDoc.SeededConstructor);
        w.WriteLine($"public {name}(int seed) => InitializeParameters(seed);");
        w.WriteLine();
        w.WriteSummary("The static description of this model: layers, offsets, loss.");
        w.WriteLine("global::EdgeAe.ModelTopology global::EdgeAe.IAutoencoder.Topology => Topology;");
        w.WriteLine();
        w.WriteSummary("All weights and biases, contiguous, in the order the remarks show.");
        w.WriteLine("public global::System.Span<float> Parameters => _parameters.Span;");
        w.WriteLine();
        w.WriteSummary(ApiDoc.Gradients);
        w.WriteLine("public global::System.Span<float> Gradients => _gradients.Span;");
        w.WriteLine();
    }

    private static void WriteDesktopInitialization(SourceWriter w, ModelPlan plan)
    {
        TopologySpec spec = plan.Topology;
        w.WriteSummary(spec.Initialization == InitializationKind.UniformFanIn
            ? "Re-initialises every parameter from <paramref name=\"seed\"/>: weights and biases uniform in ±1/√fan_in (PyTorch's nn.Linear default). Same seed, same weights, on every target."
            : "Re-initialises every parameter from <paramref name=\"seed\"/>: weights uniform in ±limit (Glorot for sigmoid, tanh and linear layers, He for ReLU layers), biases zero. Same seed, same weights, on every target.");
        w.OpenBlock("public void InitializeParameters(int seed)");
        w.WriteLine("global::System.Span<float> p = _parameters.Span;");
        w.WriteLine("p.Clear();");
        w.WriteLine("ulong state = global::EdgeAe.Kernels.Portable.SeedState(seed);");
        foreach (LayerPlan layer in plan.Layers)
        {
            LayerSpec l = layer.Layer;
            string name = "Layer" + Invariant.Int(l.Index);
            Initialization init = Initialization.Of(layer, spec.Initialization);
            w.WriteComment($"Layer {l.Index}: {init.Description}");
            if (init.WeightLimit is float weightLimit)
            {
                w.WriteStatement($"global::EdgeAe.Kernels.Portable.FillUniform(p.Slice({name}.Weights, {Invariant.Int(layer.WeightCount)}), {Invariant.Float(weightLimit)}, ref state);");
            }

            if (init.BiasLimit is float biasLimit)
            {
                w.WriteStatement($"global::EdgeAe.Kernels.Portable.FillUniform(p.Slice({name}.Biases, {Invariant.Int(l.Width)}), {Invariant.Float(biasLimit)}, ref state);");
            }
        }

        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteDesktopInference(SourceWriter w, ModelPlan plan)
    {
        TopologySpec spec = plan.Topology;
        int code = plan.CodeLayer.Layer.Index;
        int last = plan.OutputLayer.Layer.Index;

        w.WriteSummary(ApiDoc.Encode);
        w.OpenBlock("public void Encode(global::System.ReadOnlySpan<float> input, global::System.Span<float> code)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "code", "CodeSize");
        w.WriteLine("ref float p = ref _parameters.Reference;");
        WriteSampleLayers(w, plan, 0, code, "ref In(input)", "ref Out(code)");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Encodes like <see cref=\"Encode\"/> with the firmware flavour's exact arithmetic (scalar loops, no fused multiply-add, the same math functions): the code is bit-identical to what a device running this declaration computes, on any machine. Slower than <see cref=\"Encode\"/>; packet codecs use it. Allocates nothing.");
        w.OpenBlock("public void EncodePortable(global::System.ReadOnlySpan<float> input, global::System.Span<float> code)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "code", "CodeSize");
        w.WriteLine("global::System.ReadOnlySpan<float> p = _parameters.Span;");
        for (int l = 0; l <= code; l++)
        {
            LayerPlan layer = plan.Layers[l];
            string source = l == 0 ? "input" : $"_workspace.Span.Slice(SampleLayout.Activations{l - 1}, {Invariant.Int(plan.Layers[l - 1].Layer.Width)})";
            string target = l == code ? "code" : $"_workspace.Span.Slice(SampleLayout.Activations{l}, {Invariant.Int(layer.Layer.Width)})";
            w.WriteLine(LayerComment(layer));
            w.WriteStatement($"global::EdgeAe.Kernels.Portable.{(layer.IsTied ? "ForwardTied" : "Forward")}<Layer{l}, {PortableActivation(layer)}>(p, {source}, {target});");
        }

        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Decode);
        w.OpenBlock("public void Decode(global::System.ReadOnlySpan<float> code, global::System.Span<float> output)");
        WriteCheck(w, "code", "CodeSize");
        WriteCheck(w, "output", "InputSize");
        w.WriteLine("ref float p = ref _parameters.Reference;");
        WriteSampleLayers(w, plan, code + 1, last, "ref In(code)", "ref Out(output)");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Encodes a batch: <paramref name=\"inputs\"/> holds count × <see cref=\"InputSize\"/> floats sample after sample (1 ≤ count ≤ <see cref=\"MaxBatchSize\"/>), <paramref name=\"codes\"/> receives count × <see cref=\"CodeSize\"/> floats. Allocates nothing.");
        w.OpenBlock("public void EncodeBatch(global::System.ReadOnlySpan<float> inputs, global::System.Span<float> codes)");
        w.WriteLine("int count = global::EdgeAe.Kernels.Shape.BatchCount(inputs.Length, InputSize, MaxBatchSize, nameof(inputs));");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Check(codes, count * CodeSize, nameof(codes));");
        w.WriteLine("EncodeRows(inputs, count);");
        w.WriteStatement($"global::EdgeAe.Kernels.Dense.CopyRows(ref Ws(BatchLayout.Activations{code}), BatchLayout.Row{code}, codes, CodeSize, count);");
        w.CloseBlock();
        w.WriteLine();

        bool batchedDecoder = BatchMatchesSingleSample(plan, code + 1, last);
        bool hiddenDecoder = last - 1 > code;
        w.WriteSummary("Decodes a batch: <paramref name=\"codes\"/> holds count × <see cref=\"CodeSize\"/> floats code after code (1 ≤ count ≤ <see cref=\"MaxBatchSize\"/>), <paramref name=\"outputs\"/> receives count × <see cref=\"InputSize\"/> floats, bit for bit what <see cref=\"Decode\"/> gives each code. Allocates nothing.");
        w.OpenBlock("public void DecodeBatch(global::System.ReadOnlySpan<float> codes, global::System.Span<float> outputs)");
        w.WriteLine("int count = global::EdgeAe.Kernels.Shape.BatchCount(codes.Length, CodeSize, MaxBatchSize, nameof(codes));");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Check(outputs, count * InputSize, nameof(outputs));");
        if (batchedDecoder)
        {
            if (hiddenDecoder)
            {
                w.WriteLine("DecodeHiddenRows(ref In(codes), fromInputs: true, count);");
            }

            w.WriteLine("ref float p = ref _parameters.Reference;");
            WriteBatchForward(w, plan, last, last, BatchEnd.Activated, first: hiddenDecoder ? $"ref Ws(BatchLayout.Activations{last - 1}), fromInputs: false" : "ref In(codes), fromInputs: true");
            w.WriteStatement($"global::EdgeAe.Kernels.Dense.CopyRows(ref Ws(BatchLayout.Activations{last}), BatchLayout.Row{last}, outputs, InputSize, count);");
        }
        else
        {
            WriteSampleBySample(w, "Decode(codes.Slice(s * CodeSize, CodeSize), outputs.Slice(s * InputSize, InputSize));");
        }

        w.CloseBlock();
        w.WriteLine();

        // ScoreBatch runs batches through these rows unless a tied layer makes it score sample by sample.
        w.WriteSummary((code == 0 ? "Layer 0" : "Layers 0.." + Invariant.Int(code)) + " over a batch of the caller's rows, into the batch workspace ("
            + (BatchMatchesSingleSample(plan, 0, last) ? "EncodeBatch, ScoreBatch)." : "EncodeBatch)."));
        w.OpenBlock("private void EncodeRows(global::System.ReadOnlySpan<float> inputs, int count)");
        w.WriteLine("ref float p = ref _parameters.Reference;");
        WriteBatchTransposes(w, plan, 0, code);
        WriteBatchForward(w, plan, 0, code, BatchEnd.Activated);
        w.CloseBlock();
        w.WriteLine();

        if (batchedDecoder && hiddenDecoder)
        {
            w.WriteSummary((last - 1 == code + 1 ? $"Layer {code + 1}" : $"Layers {code + 1}..{last - 1}") + " over a batch of codes: the caller's rows when <paramref name=\"fromInputs\"/>, else the workspace's (DecodeBatch, ScoreBatch).");
            w.OpenBlock("private void DecodeHiddenRows(ref float codes, bool fromInputs, int count)");
            w.WriteLine("ref float p = ref _parameters.Reference;");
            WriteBatchForward(w, plan, code + 1, last - 1, BatchEnd.Activated, first: "ref codes, fromInputs");
            w.CloseBlock();
            w.WriteLine();
        }

        w.WriteSummary(ApiDoc.Reconstruct(spec.Loss));
        w.OpenBlock("public float Reconstruct(global::System.ReadOnlySpan<float> input, global::System.Span<float> output)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "output", "InputSize");
        w.WriteLine("return ForwardAndLoss(input, input, ref Out(output));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Evaluate);
        w.OpenBlock("public float Evaluate(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> target)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "target", "InputSize");
        w.WriteLine($"return ForwardAndLoss(input, target, ref Ws(SampleLayout.Activations{last}));");
        w.CloseBlock();
        w.WriteLine();

        LayerPlan output = plan.OutputLayer;
        w.WriteSummary("Every layer on <paramref name=\"input\"/>; the reconstruction goes to <paramref name=\"output\"/>, its loss against <paramref name=\"target\"/> is returned.");
        w.OpenBlock("private float ForwardAndLoss(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> target, ref float output)");
        w.WriteLine("ref float p = ref _parameters.Reference;");
        string x = "ref In(input)";
        if (last > 0)
        {
            WriteSampleLayers(w, plan, 0, last - 1, x, null);
            x = $"ref Ws(SampleLayout.Activations{last - 1})";
        }

        w.WriteLine(LayerComment(output) + " The loss is summed as the outputs are written.");
        string tied = output.IsTied ? "true" : "false";
        w.WriteStatement(spec.Loss == LossKind.BinaryCrossEntropy
            ? $"double loss = global::EdgeAe.Kernels.Dense.ForwardBinaryCrossEntropy<Layer{last}>(tied: {tied}, ref p, {x}, ref Ws(SampleLayout.PreActivations), ref In(target), ref output);"
            : $"double loss = global::EdgeAe.Kernels.Dense.ForwardSquaredError<Layer{last}, {KernelActivation(plan, output)}>(tied: {tied}, ref p, {x}, ref Ws(SampleLayout.Activations{last}), ref In(target), ref output);");
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteDesktopTraining(SourceWriter w, ModelPlan plan)
    {
        TopologySpec spec = plan.Topology;
        int last = plan.OutputLayer.Layer.Index;

        w.WriteSummary(ApiDoc.AccumulateGradients);
        w.OpenBlock("public float AccumulateGradients(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> target)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "target", "InputSize");
        w.WriteLine("PrepareBatch();");
        w.WriteLine("return Backpropagate(input, target, 1, ref _workspace.Reference, ref _gradients.Reference);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Forward and backward over a batch: <paramref name=\"inputs\"/> and <paramref name=\"targets\"/> hold count × <see cref=\"InputSize\"/> floats, sample after sample (1 ≤ count ≤ <see cref=\"MaxBatchSize\"/>). Adds the gradients summed over the batch to <see cref=\"Gradients\"/> and returns the summed loss. Allocates nothing.");
        w.OpenBlock("public float AccumulateBatchGradients(global::System.ReadOnlySpan<float> inputs, global::System.ReadOnlySpan<float> targets)");
        w.WriteLine("int count = global::EdgeAe.Kernels.Shape.BatchCount(inputs.Length, InputSize, MaxBatchSize, nameof(inputs));");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Check(targets, inputs.Length, nameof(targets));");
        w.WriteLine("PrepareBatch();");
        w.WriteLine("return Backpropagate(inputs, targets, count, ref _workspace.Reference, ref _gradients.Reference);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Makes what every shard of one training batch reads besides the parameters (the transposed copies of W), on the caller's thread: call it after the parameters last changed and before <see cref=\"AccumulateShardGradients\"/>. Allocates nothing.");
        w.WriteLine("public void PrepareBatch() => PrepareBatch(0, ParameterBufferLength);");
        w.WriteLine();

        w.WriteSummary("The part of <see cref=\"PrepareBatch()\"/> made from parameters [<paramref name=\"firstParameter\"/>, <paramref name=\"endParameter\"/>): the rows of each W that start there. Threads that each updated one range of the parameters call it at once, each for its range. Allocates nothing.");
        w.OpenBlock("public void PrepareBatch(int firstParameter, int endParameter)");
        w.WriteLine("ref float p = ref _parameters.Reference;");
        WriteBatchTransposes(w, plan, 0, last, ranged: true);
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("A workspace and a gradient buffer of this model's sizes for <see cref=\"AccumulateShardGradients\"/>: one per thread.");
        w.WriteLine("public global::EdgeAe.TrainingWorker CreateWorker() => new(WorkspaceLength * MaxBatchSize, ParameterBufferLength);");
        w.WriteLine();

        w.WriteSummary("Forward and backward over one shard of a batch in <paramref name=\"worker\"/>'s workspace (1 ≤ count ≤ <see cref=\"MaxBatchSize\"/> samples, as for <see cref=\"AccumulateBatchGradients\"/>): adds the shard's gradients to the worker's buffer and returns the summed loss. Reads the parameters and what <see cref=\"PrepareBatch()\"/> made, writes nothing of the model's, so threads with their own workers may run it at once. Allocates nothing.");
        w.OpenBlock("public float AccumulateShardGradients(global::System.ReadOnlySpan<float> inputs, global::System.ReadOnlySpan<float> targets, global::EdgeAe.TrainingWorker worker)");
        w.WriteLine("int count = global::EdgeAe.Kernels.Shape.BatchCount(inputs.Length, InputSize, MaxBatchSize, nameof(inputs));");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Check(targets, inputs.Length, nameof(targets));");
        w.WriteStatement("global::EdgeAe.TrainingWorker.Check(worker, WorkspaceLength * MaxBatchSize, ParameterBufferLength);");
        w.WriteLine("return Backpropagate(inputs, targets, count, ref worker.Workspace.Reference, ref worker.Gradients.Reference);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Layer by layer over the whole batch in workspace <paramref name=\"w\"/>, adding to gradients <paramref name=\"g\"/>: forward, the loss and output delta, backward (gradients, then the delta before). The transposed copies are <see cref=\"PrepareBatch()\"/>'s.");
        w.OpenBlock("private float Backpropagate(global::System.ReadOnlySpan<float> inputs, global::System.ReadOnlySpan<float> targets, int count, ref float w, ref float g)");
        w.WriteLine("ref float p = ref _parameters.Reference;");
        WriteBatchForward(w, plan, 0, last, BatchEnd.Training, Worker);
        w.WriteLine();
        LayerPlan output = plan.OutputLayer;
        if (spec.Loss == LossKind.BinaryCrossEntropy)
        {
            w.WriteComment("Loss Σ softplus(z) − t·z and output delta δ = σ(z) − t, σ and the loss term from one exp.");
            w.WriteStatement($"double loss = global::EdgeAe.Kernels.Dense.BinaryCrossEntropyBatch<Layer{last}>(ref At(ref w, BatchLayout.PreActivations), ref In(targets), ref At(ref w, BatchLayout.Deltas{last}), count);");
        }
        else
        {
            w.WriteComment($"Loss ½Σ(a − t)² and output delta δ = (a − t)·f′, f = {output.Layer.Activation}.");
            w.WriteStatement($"double loss = global::EdgeAe.Kernels.Dense.SquaredErrorBatch<Layer{last}, {KernelActivation(plan, output)}>(ref At(ref w, BatchLayout.Activations{last}), ref In(targets), ref At(ref w, BatchLayout.Deltas{last}), count);");
        }

        WriteFakeQuantizationHook(w, "Backward", last, $"ref At(ref w, BatchLayout.Deltas{last})");

        for (int l = last; l >= 0; l--)
        {
            LayerPlan layer = plan.Layers[l];
            w.WriteLine();
            w.WriteComment($"Layer {l} ({Describe.Role(layer.Layer.Role)}) backward: g_b += Σ δ, g_W += {(layer.IsTied ? $"Δᵀ·X into layer {layer.Layer.TiedTo}'s W (tied)" : "Xᵀ·Δ")}"
                + (l > 0 ? $"; δ of layer {l - 1} = (Δ·Wᵀ)∘f′, f = {plan.Layers[l - 1].Layer.Activation}." : "."));
            string x = l == 0 ? "ref In(inputs), fromInputs: true" : $"ref At(ref w, BatchLayout.Activations{l - 1}), fromInputs: false";
            w.WriteStatement(layer.IsTied
                ? $"global::EdgeAe.Kernels.Dense.GradientsBatchTied<Layer{l}>(ref g, ref At(ref w, BatchLayout.Activations{l - 1}), ref At(ref w, BatchLayout.Deltas{l}), count);"
                : $"global::EdgeAe.Kernels.Dense.GradientsBatch<Layer{l}>(ref g, {x}, ref At(ref w, BatchLayout.Deltas{l}), count);");
            if (l > 0)
            {
                string weights = layer.IsTied ? $"ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, Layer{l}.Weights)" : $"ref Transposed(BatchLayout.Transposed{l})";
                w.WriteStatement($"global::EdgeAe.Kernels.Dense.DeltaBatch<Layer{l}, {KernelActivation(plan, plan.Layers[l - 1])}>({weights}, ref At(ref w, BatchLayout.Deltas{l}), ref At(ref w, BatchLayout.Activations{l - 1}), ref At(ref w, BatchLayout.Deltas{l - 1}), count);");
                WriteFakeQuantizationHook(w, "Backward", l - 1, $"ref At(ref w, BatchLayout.Deltas{l - 1})");
            }
        }

        w.WriteLine();
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("One plain SGD step on a batch: gradients averaged over the samples, p −= learningRate·mean gradient. Returns the mean per-sample loss before the step. Allocates nothing.");
        w.OpenBlock("public float TrainBatch(global::System.ReadOnlySpan<float> inputs, global::System.ReadOnlySpan<float> targets, float learningRate)");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.CheckLearningRate(learningRate);");
        w.WriteLine("ZeroGradients();");
        w.WriteLine("float loss = AccumulateBatchGradients(inputs, targets);");
        w.WriteLine("int count = inputs.Length / InputSize;");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Descend(_parameters.Span, _gradients.Span, learningRate / count);");
        w.WriteLine("return loss / count;");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.ZeroGradients);
        w.WriteLine("public void ZeroGradients() => _gradients.Span.Clear();");
        w.WriteLine();
        w.WriteSummary(ApiDoc.TrainStep);
        w.WriteExpressionMember("public float TrainStep(global::System.ReadOnlySpan<float> input, float learningRate)", "TrainStep(input, input, learningRate);");
        w.WriteLine();
        w.WriteSummary(ApiDoc.TrainStepWithTarget);
        w.OpenBlock("public float TrainStep(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> target, float learningRate)");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.CheckLearningRate(learningRate);");
        w.WriteLine("ZeroGradients();");
        w.WriteLine("float loss = AccumulateGradients(input, target);");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Descend(_parameters.Span, _gradients.Span, learningRate);");
        w.WriteLine("return loss;");
        w.CloseBlock();
        w.WriteLine();
    }

    /// <summary>
    /// Single-sample forward calls for layers first..last: the first reads <paramref name="source"/>, each writes its
    /// workspace slot, except the last when <paramref name="target"/> is given (the caller's span).
    /// </summary>
    private static void WriteSampleLayers(SourceWriter w, ModelPlan plan, int first, int last, string source, string? target)
    {
        string x = source;
        for (int l = first; l <= last; l++)
        {
            LayerPlan layer = plan.Layers[l];
            string y = l == last && target is not null ? target : $"ref Ws(SampleLayout.Activations{l})";
            w.WriteLine(LayerComment(layer));
            w.WriteStatement($"global::EdgeAe.Kernels.Dense.{(layer.IsTied ? "ForwardTied" : "Forward")}<Layer{l}, {KernelActivation(plan, layer)}>(ref p, {x}, {y});");
            x = $"ref Ws(SampleLayout.Activations{l})";
        }
    }

    /// <summary>The transposed copies the batch products of layers first..last read, made once per call.</summary>
    private static void WriteBatchTransposes(SourceWriter w, ModelPlan plan, int first, int last, bool ranged = false)
    {
        var copies = new List<LayerPlan>();
        for (int l = first; l <= last; l++)
        {
            LayerPlan layer = plan.Layers[l];
            bool forward = layer.IsTied; // a tied layer's forward product reads its mirror's W input-major
            bool backward = !layer.IsTied && l > 0 && last == plan.OutputLayer.Layer.Index; // training's data product reads Wᵀ
            if (forward || backward)
            {
                copies.Add(layer);
            }
        }

        if (copies.Count == 0)
        {
            return;
        }

        bool tied = copies.Exists(c => c.IsTied), untied = copies.Exists(c => !c.IsTied);
        w.WriteComment("Transposed copies of W, made once per batch: "
            + (untied ? "Wᵀ for the backward data products" : string.Empty)
            + (tied && untied ? "; " : string.Empty)
            + (tied ? "a tied layer's W input-major for its forward product" : string.Empty) + ".");
        foreach (LayerPlan layer in copies)
        {
            int rows = layer.IsTied ? layer.Layer.Width : layer.Layer.InputWidth;
            int columns = layer.IsTied ? layer.Layer.InputWidth : layer.Layer.Width;
            string part = ranged ? $", Layer{layer.Layer.Index}.Weights, firstParameter, endParameter" : string.Empty;
            w.WriteStatement($"global::EdgeAe.Kernels.Matrix.Transpose(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, Layer{layer.Layer.Index}.Weights), {Invariant.Int(rows)}, {Invariant.Int(columns)}, ref Transposed(BatchLayout.Transposed{layer.Layer.Index}){part});");
        }
    }

    /// <summary>How batch calls address the model's own workspace: <c>Ws(offset)</c>.</summary>
    private const string Instance = "Ws(";

    /// <summary>How the training pass addresses the workspace it is given (<c>ref float w</c>): <c>At(ref w, offset)</c>.</summary>
    private const string Worker = "At(ref w, ";

    /// <summary>The body of a batch member whose batch products would not match the single-sample ones: a loop over them.</summary>
    private static void WriteSampleBySample(SourceWriter w, string call)
    {
        w.WriteComment("A tied layer: sample by sample, so that each result is the single-sample one bit for bit (a tied layer's batch product sums in another order).");
        w.OpenBlock("for (int s = 0; s < count; s++)");
        w.WriteStatement(call);
        w.CloseBlock();
    }

    /// <summary>What a batch forward leaves in its last layer's rows.</summary>
    private enum BatchEnd
    {
        /// <summary>Activations (EncodeBatch, DecodeBatch).</summary>
        Activated,

        /// <summary>Training: a binary cross-entropy output layer stores z for the loss pass; fake quantisation hooks run.</summary>
        Training,

        /// <summary>Scoring: the output layer stores z, which each sample's single-sample epilogue then finishes.</summary>
        Scoring,
    }

    /// <summary>
    /// Batch forward calls for layers from..last, the first reading <paramref name="first"/> (its x and fromInputs
    /// arguments), the workspace addressed through <paramref name="ws"/> (<see cref="Instance"/> or <see cref="Worker"/>).
    /// </summary>
    private static void WriteBatchForward(
        SourceWriter w, ModelPlan plan, int from, int last, BatchEnd end, string ws = Instance, string first = "ref In(inputs), fromInputs: true")
    {
        bool training = end == BatchEnd.Training;
        for (int l = from; l <= last; l++)
        {
            LayerPlan layer = plan.Layers[l];
            bool bce = plan.Topology.Loss == LossKind.BinaryCrossEntropy;
            bool zOnly = l == last && (end == BatchEnd.Scoring || (training && bce));
            string x = l == from ? first : $"ref {ws}BatchLayout.Activations{l - 1}), fromInputs: false";
            string y = zOnly && bce ? $"ref {ws}BatchLayout.PreActivations)" : $"ref {ws}BatchLayout.Activations{l})";
            string activation = zOnly ? "global::EdgeAe.Kernels.Linear" : KernelActivation(plan, layer);
            string note = !zOnly ? string.Empty
                : training ? " Stores z: the loss pass applies σ."
                : " Stores z: the epilogue below applies " + (bce ? "σ." : "f.");
            w.WriteLine(LayerComment(layer) + note);
            w.WriteStatement(layer.IsTied
                ? $"global::EdgeAe.Kernels.Dense.ForwardBatchTied<Layer{l}, {activation}>(ref p, ref Transposed(BatchLayout.Transposed{l}), ref {ws}BatchLayout.Activations{l - 1}), {y}, count);"
                : $"global::EdgeAe.Kernels.Dense.ForwardBatch<Layer{l}, {activation}>(ref p, {x}, {y}, count);");
            if (training)
            {
                WriteFakeQuantizationHook(w, "Forward", l, y);
            }
        }
    }

    /// <summary>
    /// True when the batch products of layers first..last compute exactly what the single-sample ones do: no tied layer
    /// (a tied layer's single-sample product is a dot product per output, summed in another order than a batch tile's).
    /// </summary>
    private static bool BatchMatchesSingleSample(ModelPlan plan, int first, int last)
    {
        for (int l = first; l <= last; l++)
        {
            if (plan.Layers[l].IsTied)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One struct per layer: the constant shape the float kernels and the int8 companion's kernels are compiled for.</summary>
    private static void WriteLayerStructs(SourceWriter w, ModelPlan plan)
    {
        Int8Plan int8 = plan.Int8;
        foreach (LayerPlan layer in plan.Layers)
        {
            LayerSpec l = layer.Layer;
            int packed = int8.Offsets[l.Index];
            string weights = layer.IsTied
                ? $"W = layer {l.TiedTo}'s, output-major for this layer, p[{layer.WeightOffset}..{layer.WeightOffset + layer.WeightCount})"
                : $"W input-major p[{layer.WeightOffset}..{layer.WeightOffset + layer.WeightCount})";
            w.WriteLine();
            w.WriteSummary($"Layer {l.Index} ({Describe.Role(l.Role)}): dense {l.InputWidth} → {l.Width}, {l.Activation}; {weights}, b p[{layer.BiasOffset}..{layer.BiasOffset + l.Width}); "
                + $"the int8 companion's packed bytes [{packed}..{packed + Int8Plan.Bytes(l.InputWidth, l.Width)}).");
            w.OpenBlock($"private readonly struct Layer{l.Index} : global::EdgeAe.Kernels.IDenseLayer, global::EdgeAe.Kernels.IInt8Layer");
            w.WriteLine($"public static int Inputs => {Invariant.Int(l.InputWidth)};");
            w.WriteLine($"public static int Outputs => {Invariant.Int(l.Width)};");
            w.WriteLine($"public static int Weights => {Invariant.Int(layer.WeightOffset)};");
            w.WriteLine($"public static int Biases => {Invariant.Int(layer.BiasOffset)};");
            w.WriteLine($"public static int PackedOffset => {Invariant.Int(packed)};");
            w.CloseBlock();
        }
    }

    /// <summary>The workspace offsets: one sample's slots, and the batch layout (<see cref="BatchPlan"/>).</summary>
    private static void WriteWorkspaceLayout(SourceWriter w, ModelPlan plan)
    {
        w.WriteLine();
        w.WriteSummary("Where one sample's activations live in the workspace (Encode, Decode, Reconstruct, Evaluate).");
        w.OpenBlock("private static class SampleLayout");
        foreach (LayerPlan layer in plan.Layers)
        {
            w.WriteLine($"public const int Activations{layer.Layer.Index} = {Invariant.Int(layer.ActivationOffset)};");
        }

        if (plan.OutputLayer.PreActivationOffset >= 0)
        {
            w.WriteLine($"public const int PreActivations = {Invariant.Int(plan.OutputLayer.PreActivationOffset)};");
        }

        w.CloseBlock();
        w.WriteLine();

        BatchPlan batch = plan.Batch;
        w.WriteSummary("The batch layout: per layer, every sample's row padded to 16 floats; the transposed copies of W in their own buffer.");
        w.OpenBlock("private static class BatchLayout");
        for (int l = 0; l < plan.Layers.Count; l++)
        {
            w.WriteLine($"public const int Row{l} = {Invariant.Int(BatchPlan.Row(plan.Layers[l].Layer.Width))};");
        }

        for (int l = 0; l < plan.Layers.Count; l++)
        {
            w.WriteLine($"public const int Activations{l} = {Invariant.Int(batch.Activations[l])};");
        }

        if (batch.PreActivations >= 0)
        {
            w.WriteLine($"public const int PreActivations = {Invariant.Int(batch.PreActivations)};");
        }

        for (int l = 0; l < plan.Layers.Count; l++)
        {
            w.WriteLine($"public const int Deltas{l} = {Invariant.Int(batch.Deltas[l])};");
        }

        for (int l = 0; l < plan.Layers.Count; l++)
        {
            if (batch.Transposed[l] >= 0)
            {
                w.WriteLine($"public const int Transposed{l} = {Invariant.Int(batch.Transposed[l])};");
            }
        }

        w.WriteLine($"public const int TransposedLength = {Invariant.Int(batch.TransposedLength)};");
        w.CloseBlock();
    }

    private static void WriteCheck(SourceWriter w, string parameter, string expected)
        => w.WriteStatement($"global::EdgeAe.Kernels.Shape.Check({parameter}, {expected}, nameof({parameter}));");

    /// <summary>The comment above a layer's call, e.g. <c>// Layer 0 (code): dense 64 → 16, Sigmoid.</c></summary>
    private static string LayerComment(LayerPlan layer)
    {
        LayerSpec l = layer.Layer;
        return $"// Layer {l.Index} ({Describe.Role(l.Role)}): dense {l.InputWidth} → {l.Width}, {l.Activation}{(layer.IsTied ? $", W tied to layer {l.TiedTo}'s" : string.Empty)}.";
    }

    /// <summary>The kernels' activation type of a layer: the output layer of a binary cross-entropy model uses the stable sigmoid.</summary>
    private static string KernelActivation(ModelPlan plan, LayerPlan layer)
    {
        if (layer.Layer.Activation == ActivationKind.Sigmoid && layer.PreActivationOffset >= 0)
        {
            return "global::EdgeAe.Kernels.StableSigmoid";
        }

        return "global::EdgeAe.Kernels." + layer.Layer.Activation;
    }

    /// <summary>The portable path's activation type (both sigmoid forms are the firmware's 1 / (1 + e^−z) there).</summary>
    private static string PortableActivation(LayerPlan layer) => "global::EdgeAe.Kernels." + layer.Layer.Activation;
}

/// <summary>How one layer's parameters are initialised: the limits of its uniform draws and a comment saying why.</summary>
internal readonly struct Initialization
{
    private Initialization(float? weightLimit, float? biasLimit, string description)
    {
        WeightLimit = weightLimit;
        BiasLimit = biasLimit;
        Description = description;
    }

    /// <summary>W ~ U(−limit, limit), drawn first; null when the layer owns no W (tied).</summary>
    public float? WeightLimit { get; }

    /// <summary>b ~ U(−limit, limit), drawn after W; null when the biases stay 0.</summary>
    public float? BiasLimit { get; }

    public string Description { get; }

    public static Initialization Of(LayerPlan plan, InitializationKind kind)
    {
        LayerSpec layer = plan.Layer;
        if (kind == InitializationKind.UniformFanIn)
        {
            // PyTorch's nn.Linear default: W and b uniform in ±1/√fan_in (fan_in of the layer that uses them).
            float bound = (float)(1.0 / System.Math.Sqrt(layer.InputWidth));
            return new Initialization(plan.IsTied ? null : bound, bound,
                $"uniform ±1/√{Invariant.Int(layer.InputWidth)} for " + (plan.IsTied ? $"its biases (W is layer {layer.TiedTo}'s)." : "W, then b."));
        }

        if (plan.IsTied)
        {
            return new Initialization(null, null, $"tied to layer {layer.TiedTo}'s weights; its biases stay 0.");
        }

        bool he = layer.Activation == ActivationKind.Relu;
        double limit = he ? System.Math.Sqrt(6.0 / layer.InputWidth) : System.Math.Sqrt(6.0 / (layer.InputWidth + layer.Width));
        return new Initialization((float)limit, null,
            $"{(he ? "He" : "Glorot")} uniform, limit √(6/{(he ? Invariant.Int(layer.InputWidth) : "(" + Invariant.Int(layer.InputWidth) + " + " + Invariant.Int(layer.Width) + ")")}); biases stay 0.");
    }
}
