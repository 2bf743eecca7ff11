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
    private static void WriteNanoClassBody(SourceWriter w, ModelPlan plan, BakedWeights? baked)
    {
        TopologySpec spec = plan.Topology;
        LayerPlan code = plan.CodeLayer;
        LayerPlan output = plan.OutputLayer;
        bool training = spec.OnDeviceTraining;
        int workspace = training ? plan.WorkspaceLength : plan.InferenceWorkspaceLength;
        DeviceFootprint footprint = DeviceFootprint.Of(plan, baked is not null, CodeRange(plan, baked) is not null);
        string name = EscapedIdentifier(spec.TypeName);

        WriteShapeConstants(w, plan, Form.FirmwareFloat);
        w.WriteSummary("Workspace floats with the deltas on-device training needs.");
        w.WriteLine($"public const int TrainingWorkspaceLength = {Invariant.Int(plan.WorkspaceLength)};");
        w.WriteLine();
        w.WriteSummary("Bytes of the workspace this model allocates (inference only, or with training).");
        w.WriteLine($"public const int WorkspaceBytes = {(training ? "TrainingWorkspaceLength" : "InferenceWorkspaceLength")} * sizeof(float);");
        w.WriteLine();
        w.WriteSummary("True when TrainStep (plain SGD on the device) is generated.");
        w.WriteLine($"public const bool OnDeviceTraining = {(training ? "true" : "false")};");
        w.WriteLine();
        w.WriteSummary("RAM the model's arrays take on the device, in bytes: parameters, " + (training ? "gradients, " : string.Empty)
            + (spec.HasCodec ? "workspace, code scratch and the packet codec's arrays" : "workspace and code scratch")
            + $", each with {DeviceFootprint.ArrayOverheadBytes} bytes of heap block overhead."
            + (baked is null ? string.Empty
                : training ? " The baked parameters are a static array copied into the model's own array (training changes the copy): both count."
                : " The baked parameters are used in place (one RAM copy of the static array), not copied."));
        w.WriteLine($"public const int RamBytes = {Invariant.Int(footprint.RamBytes)};");
        w.WriteLine();
        w.WriteSummary("Flash the baked parameter data takes in the assembly (0 without baked weights); the code itself comes on top.");
        w.WriteLine($"public const int BakedDataFlashBytes = {Invariant.Int(footprint.BakedDataBytes)};");
        w.WriteLine();
        WriteSeedAndBakedConstants(w, spec, baked, Form.FirmwareFloat);
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
            w.WriteSummary(ApiDoc.DeclaredSeedConstructor);
            w.OpenBlock($"public {name}()");
            w.WriteLine("_parameters = new float[ParameterBufferLength];");
            w.WriteLine("InitializeParameters(DeclaredSeed);");
            w.CloseBlock();
        }
        else if (training)
        {
            w.WriteSummary("Creates the model from the baked parameters (copied: training changes them).");
            w.OpenBlock($"public {name}()");
            w.WriteLine("_parameters = new float[ParameterBufferLength];");
            w.WriteLine("global::System.Array.Copy(s_bakedParameters, _parameters, ParameterBufferLength);");
            w.CloseBlock();
        }
        else
        {
            w.WriteSummary("Creates the model on the baked parameters, used in place (no copy: inference only never changes them).");
            w.OpenBlock($"public {name}()");
            w.WriteLine("_parameters = s_bakedParameters;");
            w.CloseBlock();
        }

        w.WriteLine();
        w.WriteSummary(ApiDoc.SeededConstructor);
        w.OpenBlock($"public {name}(int seed)");
        w.WriteLine("_parameters = new float[ParameterBufferLength];");
        w.WriteLine("InitializeParameters(seed);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("All weights and biases, in the order the remarks show (the array itself: changes take effect).");
        w.WriteLine("public float[] Parameters => _parameters;");
        w.WriteLine();
        if (training)
        {
            w.WriteSummary(ApiDoc.Gradients);
            w.WriteLine("public float[] Gradients => _gradients;");
            w.WriteLine();
        }

        w.WriteSummary("Re-initialises every parameter from <paramref name=\"seed\"/> (the same values as on the desktop).");
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

        w.WriteSummary(ApiDoc.Encode);
        w.OpenBlock("public void Encode(float[] input, float[] code)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "code", "CodeSize");
        w.WriteLine("EncodeLayers(input, 0);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(code.ActivationOffset)}, code, 0, CodeSize);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Decode);
        w.OpenBlock("public void Decode(float[] code, float[] output)");
        WriteNanoCheck(w, "code", "CodeSize");
        WriteNanoCheck(w, "output", "InputSize");
        w.WriteLine("DecodeLayers(code);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(output.ActivationOffset)}, output, 0, InputSize);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Reconstruct(spec.Loss));
        w.OpenBlock("public float Reconstruct(float[] input, float[] output)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "output", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(output.ActivationOffset)}, output, 0, InputSize);");
        w.WriteLine("return LossAgainst(input);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Evaluate);
        w.OpenBlock("public float Evaluate(float[] input, float[] target)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "target", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine("return LossAgainst(target);");
        w.CloseBlock();
        w.WriteLine();

        if (training)
        {
            w.WriteSummary(ApiDoc.AccumulateGradients);
            w.OpenBlock("public float AccumulateGradients(float[] input, float[] target)");
            WriteNanoCheck(w, "input", "InputSize");
            WriteNanoCheck(w, "target", "InputSize");
            w.WriteLine("Forward(input);");
            w.WriteLine("float loss = LossAgainst(target);");
            w.WriteLine("Backward(input, target);");
            w.WriteLine("return loss;");
            w.CloseBlock();
            w.WriteLine();
            w.WriteSummary(ApiDoc.ZeroGradients);
            w.OpenBlock("public void ZeroGradients()");
            w.WriteLine("global::System.Array.Clear(_gradients, 0, ParameterBufferLength);");
            w.CloseBlock();
            w.WriteLine();
            w.WriteSummary(ApiDoc.TrainStep);
            w.OpenBlock("public float TrainStep(float[] input, float learningRate)");
            w.WriteLine("return TrainStep(input, input, learningRate);");
            w.CloseBlock();
            w.WriteLine();
            w.WriteSummary(ApiDoc.TrainStepWithTarget);
            w.OpenBlock("public float TrainStep(float[] input, float[] target, float learningRate)");
            w.OpenBlock("if (!(learningRate > 0f) || float.IsInfinity(learningRate))");
            w.WriteStatement("throw new global::System.ArgumentOutOfRangeException(nameof(learningRate), \"The learning rate must be a positive finite number.\");");
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

        WriteNanoCodec(w, plan, baked, FloatCodeSource(plan));
        WriteNanoAnomaly(w, plan, baked, FloatScoring(plan));

        // Layer loops, each reading a statically known source (no slicing on the device).
        WriteNanoLayers(w, plan, "EncodeLayers", "input", 0, code.Layer.Index, "start");
        WriteNanoLayers(w, plan, "DecodeLayers", "code", code.Layer.Index + 1, output.Layer.Index);
        w.WriteSummary("Runs every layer on <paramref name=\"input\"/>.");
        w.OpenBlock("private void Forward(float[] input)");
        w.WriteLine("EncodeLayers(input, 0);");
        w.WriteLine($"global::System.Array.Copy(_workspace, {Invariant.Int(code.ActivationOffset)}, _code, 0, CodeSize);");
        w.WriteLine("DecodeLayers(_code);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("The loss of the last forward pass against <paramref name=\"target\"/>.");
        w.OpenBlock("private float LossAgainst(float[] target)");
        w.WriteLine("float[] ws = _workspace;");
        ScalarKernelWriter.WriteLoss(w, plan, new Operand("target", 0));
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();

        if (training)
        {
            w.WriteSummary("Back-propagates the last forward pass against <paramref name=\"target\"/>, adding into the gradients.");
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

        WriteNanoCheckMethod(w);
    }

    /// <summary>The firmware's argument check: null, then the length, naming the parameter and both lengths.</summary>
    private static void WriteNanoCheckMethod(SourceWriter w)
    {
        w.OpenBlock("private static void Check(float[] buffer, string parameterName, int expected)");
        w.OpenBlock("if (buffer == null)");
        w.WriteLine("throw new global::System.ArgumentNullException(parameterName);");
        w.CloseBlock();
        w.WriteLine();
        w.OpenBlock("if (buffer.Length != expected)");
        w.WriteLine("throw new global::System.ArgumentException(");
        w.WriteLine("    \"Expected \" + expected.ToString() + \" floats in '\" + parameterName + \"' but found \"");
        w.WriteLine("        + buffer.Length.ToString() + \".\", parameterName);");
        w.CloseBlock();
        w.CloseBlock();
    }

    private static void WriteNanoCheck(SourceWriter w, string parameter, string expected)
        => w.WriteLine($"Check({parameter}, nameof({parameter}), {expected});");

    /// <summary>A private method running layers first..last; the first reads the <paramref name="source"/> array.</summary>
    private static void WriteNanoLayers(SourceWriter w, ModelPlan plan, string method, string source, int first, int last, string? start = null)
    {
        w.WriteSummary(start is null
            ? $"Layers {first}..{last}; layer {first} reads <paramref name=\"{source}\"/>."
            : $"Layers {first}..{last}; layer {first} reads <paramref name=\"{source}\"/> from index <paramref name=\"{start}\"/> (an anomaly window's ring).");
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
    /// The firmware's own float math, from the runtime's <c>EdgeAe.Kernels.PortableMath</c> (the desktop's portable path
    /// runs the same text): nanoFramework has no System.Math. exp is Cephes' expf (range reduction by ln 2 in two parts,
    /// a degree-6 polynomial, 2ⁿ from the exponent bits); the other functions build on it. Only +, −, ×, ÷, comparisons
    /// and BitConverter: no FMA, so every target rounds each operation the same way.
    /// </summary>
    private static void WriteNanoMathClass(SourceWriter w)
    {
        w.WriteSummary("Scalar float math for nanoFramework, which has no System.Math (file-local).");
        w.OpenBlock("file static class EdgeAeMath");
        w.WriteLine(FirmwareMath.Text);
        w.CloseBlock();
    }
}
