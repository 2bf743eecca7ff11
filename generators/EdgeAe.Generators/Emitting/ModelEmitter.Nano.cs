using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// The nanoFramework (firmware) flavour: <c>float[]</c> buffers with constant offsets, the same scalar
/// loops as the desktop's scalar path, only what nanoFramework's mscorlib offers (no Span, no Math,
/// no generics, no GeneratedCodeAttribute), its own float math, and no allocation after construction.
/// </summary>
internal static partial class ModelEmitter
{
    /// <summary>Bytes a nanoFramework heap block adds per array (header and length), for the RAM estimate.</summary>
    internal const int NanoArrayOverheadBytes = 12;

    private static void WriteNanoClassBody(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        LayerPlan code = plan.CodeLayer;
        LayerPlan output = plan.OutputLayer;
        bool training = spec.OnDeviceTraining;
        int workspace = training ? plan.WorkspaceLength : plan.InferenceWorkspaceLength;
        NanoFootprint footprint = NanoFootprint.Of(plan, baked);
        string name = EscapedIdentifier(spec.TypeName);

        WriteShapeConstants(w, plan);
        w.WriteLine("/// <summary>Workspace floats with the deltas on-device training needs.</summary>");
        w.WriteLine($"public const int TrainingWorkspaceLength = {Invariant.Int(plan.WorkspaceLength)};");
        w.WriteLine();
        w.WriteLine("/// <summary>Bytes of the workspace this model allocates (inference only, or with training).</summary>");
        w.WriteLine($"public const int WorkspaceBytes = {(training ? "TrainingWorkspaceLength" : "InferenceWorkspaceLength")} * sizeof(float);");
        w.WriteLine();
        w.WriteLine("/// <summary>True when TrainStep (plain SGD on the device) is generated.</summary>");
        w.WriteLine($"public const bool OnDeviceTraining = {(training ? "true" : "false")};");
        w.WriteLine();
        w.WriteLine("/// <summary>");
        w.WriteLine("/// RAM the model's arrays take on the device, in bytes: parameters, " + (training ? "gradients, " : string.Empty) + "workspace and code scratch,");
        w.WriteLine($"/// each with {NanoArrayOverheadBytes} bytes of heap block overhead. " + (baked is not null && !training
            ? "The baked parameters are used in place (one RAM copy of the static array), not copied."
            : "Baked parameters, if any, are a static array copied into the model's own array."));
        w.WriteLine("/// </summary>");
        w.WriteLine($"public const int RamBytes = {Invariant.Int(footprint.RamBytes)};");
        w.WriteLine();
        w.WriteLine("/// <summary>Flash the baked parameter data takes in the assembly (0 without baked weights); the code itself comes on top.</summary>");
        w.WriteLine($"public const int BakedDataFlashBytes = {Invariant.Int(footprint.BakedDataBytes)};");
        w.WriteLine();
        WriteSeedAndBakedConstants(w, spec, baked);
        if (baked is not null)
        {
            WriteBakedParameters(w, plan, baked);
        }

        w.WriteLine("private float[] _parameters;");
        if (training)
        {
            w.WriteLine("private readonly float[] _gradients = new float[ParameterBufferLength];");
        }

        w.WriteLine($"private readonly float[] _workspace = new float[{(training ? "TrainingWorkspaceLength" : "InferenceWorkspaceLength")}];");
        w.WriteLine("private readonly float[] _code = new float[CodeSize];");
        w.WriteLine();

        if (baked is null)
        {
            w.WriteLine("/// <summary>Creates the model with parameters initialised from <see cref=\"DeclaredSeed\"/>.</summary>");
            w.OpenBlock($"public {name}()");
            w.WriteLine("_parameters = new float[ParameterBufferLength];");
            w.WriteLine("InitializeParameters(DeclaredSeed);");
            w.CloseBlock();
        }
        else if (training)
        {
            w.WriteLine("/// <summary>Creates the model from the baked parameters (copied: training changes them).</summary>");
            w.OpenBlock($"public {name}()");
            w.WriteLine("_parameters = new float[ParameterBufferLength];");
            w.WriteLine("global::System.Array.Copy(s_bakedParameters, _parameters, ParameterBufferLength);");
            w.CloseBlock();
        }
        else
        {
            w.WriteLine("/// <summary>Creates the model on the baked parameters, used in place (no copy: inference only never changes them).</summary>");
            w.OpenBlock($"public {name}()");
            w.WriteLine("_parameters = s_bakedParameters;");
            w.CloseBlock();
        }

        w.WriteLine();
        w.WriteLine("/// <summary>Creates the model with parameters initialised from <paramref name=\"seed\"/>.</summary>");
        w.OpenBlock($"public {name}(int seed)");
        w.WriteLine("_parameters = new float[ParameterBufferLength];");
        w.WriteLine("InitializeParameters(seed);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>All weights and biases, in the order the remarks show (the array itself: changes take effect).</summary>");
        w.WriteLine("public float[] Parameters => _parameters;");
        w.WriteLine();
        if (training)
        {
            w.WriteLine("/// <summary>Gradients accumulated by <see cref=\"AccumulateGradients\"/>, laid out like <see cref=\"Parameters\"/>.</summary>");
            w.WriteLine("public float[] Gradients => _gradients;");
            w.WriteLine();
        }

        w.WriteLine("/// <summary>Re-initialises every parameter from <paramref name=\"seed\"/> (the same values as on the desktop).</summary>");
        w.OpenBlock("public void InitializeParameters(int seed)");
        if (baked is not null)
        {
            w.OpenBlock("if (_parameters == s_bakedParameters)");
            w.WriteLine("_parameters = new float[ParameterBufferLength]; // never overwrite the shared baked array");
            w.CloseBlock();
            w.WriteLine();
        }

        w.WriteLine("float[] p = _parameters;");
        w.WriteLine("global::System.Array.Clear(p, 0, ParameterBufferLength);");
        w.WriteLine("ulong state = EdgeAeMath.SeedState(seed);");
        foreach (LayerPlan layer in plan.Layers)
        {
            w.WriteLine();
            ScalarKernelWriter.WriteInitialization(w, layer, spec.Initialization);
        }

        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>Encodes <paramref name=\"input\"/> (<see cref=\"InputSize\"/> floats) into <paramref name=\"code\"/> (<see cref=\"CodeSize\"/> floats). Allocates nothing.</summary>");
        w.OpenBlock("public void Encode(float[] input, float[] code)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "code", "CodeSize");
        w.WriteLine("EncodeLayers(input, 0);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(code.ActivationOffset)}, code, 0, CodeSize);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>Decodes <paramref name=\"code\"/> into <paramref name=\"output\"/> (<see cref=\"InputSize\"/> floats). Allocates nothing.</summary>");
        w.OpenBlock("public void Decode(float[] code, float[] output)");
        WriteNanoCheck(w, "code", "CodeSize");
        WriteNanoCheck(w, "output", "InputSize");
        w.WriteLine("DecodeLayers(code);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(output.ActivationOffset)}, output, 0, InputSize);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine($"/// <summary>Reconstructs <paramref name=\"input\"/> into <paramref name=\"output\"/> and returns the loss against the input ({Describe.Loss(spec.Loss)}). Allocates nothing.</summary>");
        w.OpenBlock("public float Reconstruct(float[] input, float[] output)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "output", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(output.ActivationOffset)}, output, 0, InputSize);");
        w.WriteLine("return LossAgainst(input);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>Reconstructs <paramref name=\"input\"/> and returns the loss against <paramref name=\"target\"/> (e.g. an anomaly score). Allocates nothing.</summary>");
        w.OpenBlock("public float Evaluate(float[] input, float[] target)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "target", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine("return LossAgainst(target);");
        w.CloseBlock();
        w.WriteLine();

        if (training)
        {
            w.WriteLine("/// <summary>Forward and backward pass; adds every parameter's gradient to <see cref=\"Gradients\"/> and returns the loss. Allocates nothing.</summary>");
            w.OpenBlock("public float AccumulateGradients(float[] input, float[] target)");
            WriteNanoCheck(w, "input", "InputSize");
            WriteNanoCheck(w, "target", "InputSize");
            w.WriteLine("Forward(input);");
            w.WriteLine("float loss = LossAgainst(target);");
            w.WriteLine("Backward(input, target);");
            w.WriteLine("return loss;");
            w.CloseBlock();
            w.WriteLine();
            w.WriteLine("/// <summary>Sets every gradient to zero.</summary>");
            w.OpenBlock("public void ZeroGradients()");
            w.WriteLine("global::System.Array.Clear(_gradients, 0, ParameterBufferLength);");
            w.CloseBlock();
            w.WriteLine();
            w.WriteLine("/// <summary>One plain SGD step on one sample (p −= learningRate·∂loss/∂p). Returns the loss before the step.</summary>");
            w.OpenBlock("public float TrainStep(float[] input, float learningRate)");
            w.WriteLine("return TrainStep(input, input, learningRate);");
            w.CloseBlock();
            w.WriteLine();
            w.WriteLine("/// <summary>One plain SGD step reconstructing <paramref name=\"target\"/> from <paramref name=\"input\"/>. Returns the loss before the step.</summary>");
            w.OpenBlock("public float TrainStep(float[] input, float[] target, float learningRate)");
            w.OpenBlock("if (!(learningRate > 0f) || float.IsInfinity(learningRate))");
            w.WriteLine("throw new global::System.ArgumentOutOfRangeException(nameof(learningRate), \"The learning rate must be a positive finite number.\");");
            w.CloseBlock();
            w.WriteLine();
            w.WriteLine("ZeroGradients();");
            w.WriteLine("float loss = AccumulateGradients(input, target);");
            w.WriteLine("float[] p = _parameters;");
            w.WriteLine("float[] g = _gradients;");
            w.OpenBlock("for (int k = 0; k < ParameterBufferLength; k++)");
            w.WriteLine("p[k] -= learningRate * g[k];");
            w.CloseBlock();
            w.WriteLine();
            w.WriteLine("return loss;");
            w.CloseBlock();
            w.WriteLine();
        }

        WriteNanoCodec(w, plan, baked);
        WriteNanoAnomaly(w, plan, baked);

        // Layer loops, each reading a statically known source (no slicing on the device).
        WriteNanoLayers(w, plan, "EncodeLayers", "input", 0, code.Layer.Index, "start");
        WriteNanoLayers(w, plan, "DecodeLayers", "code", code.Layer.Index + 1, output.Layer.Index);
        w.WriteLine("/// <summary>Runs every layer on <paramref name=\"input\"/>.</summary>");
        w.OpenBlock("private void Forward(float[] input)");
        w.WriteLine("EncodeLayers(input, 0);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(code.ActivationOffset)}, _code, 0, CodeSize);");
        w.WriteLine("DecodeLayers(_code);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteLine("/// <summary>The loss of the last forward pass against <paramref name=\"target\"/>.</summary>");
        w.OpenBlock("private float LossAgainst(float[] target)");
        w.WriteLine("float[] ws = _workspace;");
        ScalarKernelWriter.WriteLoss(w, plan, new Operand("target", 0));
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();

        if (training)
        {
            w.WriteLine("/// <summary>Back-propagates the last forward pass against <paramref name=\"target\"/>, adding into the gradients.</summary>");
            w.OpenBlock("private void Backward(float[] input, float[] target)");
            w.WriteLine("float[] p = _parameters;");
            w.WriteLine("float[] g = _gradients;");
            w.WriteLine("float[] ws = _workspace;");
            ScalarKernelWriter.WriteOutputDelta(w, plan, new Operand("target", 0));
            for (int l = plan.Layers.Count - 1; l >= 0; l--)
            {
                w.WriteLine();
                LayerPlan layer = plan.Layers[l];
                LayerPlan? previous = l > 0 ? plan.Layers[l - 1] : null;
                Operand source = previous is null ? new Operand("input", 0) : Operand.Workspace(previous.ActivationOffset);
                ScalarKernelWriter.WriteDenseBackward(w, layer, source, previous);
            }

            w.CloseBlock();
            w.WriteLine();
        }

        w.OpenBlock("private static void Check(float[] buffer, string parameterName, int expected)");
        w.OpenBlock("if (buffer == null)");
        w.WriteLine("throw new global::System.ArgumentNullException(parameterName);");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (buffer.Length != expected)");
        w.WriteLine("throw new global::System.ArgumentException(");
        w.WriteLine("    \"Expected \" + expected.ToString() + \" floats in '\" + parameterName + \"' but found \" + buffer.Length.ToString() + \".\", parameterName);");
        w.CloseBlock();
        w.CloseBlock();
    }

    private static void WriteNanoCheck(SourceWriter w, string parameter, string expected)
        => w.WriteLine($"Check({parameter}, nameof({parameter}), {expected});");

    /// <summary>A private method running layers first..last; the first reads the <paramref name="source"/> array.</summary>
    private static void WriteNanoLayers(SourceWriter w, ModelPlan plan, string method, string source, int first, int last, string? start = null)
    {
        w.WriteLine(start is null
            ? $"/// <summary>Layers {first}..{last}; layer {first} reads <paramref name=\"{source}\"/>.</summary>"
            : $"/// <summary>Layers {first}..{last}; layer {first} reads <paramref name=\"{source}\"/> from index <paramref name=\"{start}\"/> (an anomaly window's ring).</summary>");
        w.OpenBlock(start is null ? $"private void {method}(float[] {source})" : $"private void {method}(float[] {source}, int {start})");
        w.WriteLine("float[] p = _parameters;");
        w.WriteLine("float[] ws = _workspace;");
        for (int l = first; l <= last; l++)
        {
            w.WriteLine();
            LayerPlan layer = plan.Layers[l];
            Operand input = l == first ? new Operand(source, 0, start) : Operand.Workspace(plan.Layers[l - 1].ActivationOffset);
            NanoKernelWriter.WriteDenseForward(w, layer, input);
        }

        w.CloseBlock();
        w.WriteLine();
    }

    /// <summary>
    /// The firmware's own float math: nanoFramework has no System.Math. exp is Cephes' expf (range
    /// reduction by ln 2 in two parts, a degree-6 polynomial, 2ⁿ from the exponent bits); the other
    /// functions build on it. Only +, −, ×, ÷, comparisons and BitConverter: no FMA, so every target
    /// rounds each operation the same way.
    /// </summary>
    private static void WriteNanoMathClass(SourceWriter w, ModelPlan plan)
    {
        w.WriteLine("/// <summary>Scalar float math for nanoFramework, which has no System.Math (file-local).</summary>");
        w.OpenBlock("file static class EdgeAeMath");
        w.WriteLine(NanoMathSource.Text);
        WriteRandom(w);
        w.CloseBlock();
    }
}

/// <summary>The RAM and flash a nanoFramework model needs, from its plan.</summary>
internal readonly struct NanoFootprint
{
    private NanoFootprint(int ramBytes, int bakedDataBytes)
    {
        RamBytes = ramBytes;
        BakedDataBytes = bakedDataBytes;
    }

    public int RamBytes { get; }

    public int BakedDataBytes { get; }

    public static NanoFootprint Of(ModelPlan plan, BakedWeights? bakedWeights)
    {
        bool baked = bakedWeights is not null;
        bool training = plan.Topology.OnDeviceTraining;
        int overhead = ModelEmitter.NanoArrayOverheadBytes;
        int parameters = plan.ParameterBufferLength * 4 + overhead;
        int ram = parameters; // own array, or the static baked array used in place
        if (baked && training)
        {
            ram += parameters; // the static baked array stays in RAM beside the model's copy
        }

        if (training)
        {
            ram += parameters; // gradients
        }

        ram += (training ? plan.WorkspaceLength : plan.InferenceWorkspaceLength) * 4 + overhead;
        ram += plan.Topology.CodeSize * 4 + overhead;
        if (plan.Topology.HasCodec)
        {
            ram += 2 * (plan.Topology.CodeSize * 4 + overhead); // the codec's per-value minimum and scale
            if (ModelEmitter.CodeRange(plan, bakedWeights) is not null)
            {
                ram += 2 * (plan.Topology.CodeSize * 4 + overhead); // and the static range it starts from
            }
        }

        return new NanoFootprint(ram, baked ? plan.ParameterBufferLength * 4 : 0);
    }

    /// <summary>RAM of one anomaly window's ring: two copies of an input, with the array's heap-block overhead.</summary>
    public static int WindowBytes(ModelPlan plan) => (2 * plan.Topology.InputSize * 4) + ModelEmitter.NanoArrayOverheadBytes;
}
