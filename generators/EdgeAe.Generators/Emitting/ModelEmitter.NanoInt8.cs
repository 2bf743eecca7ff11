using System.Globalization;
using System.Text;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// The firmware flavour of an int8 weight file (docs/quantization.md, docs/firmware.md): the same API as the float
/// firmware model (float[] in and out; the packet codec and the anomaly members written by the same methods), int8
/// codes and int32 constants baked as two arrays, and integer-only dense loops: int32 sums of int8 products, the Q31
/// requantisation in 64-bit integers, tables for sigmoid and tanh. Floats appear only where the API meets the codes
/// (quantising the input, dequantising the outputs), in the loss and score, and in the packet's code quantisation.
/// </summary>
internal static partial class ModelEmitter
{
    private static void WriteNanoInt8ClassBody(SourceWriter w, ModelPlan plan, BakedWeights baked, BakedInt8 int8)
    {
        TopologySpec spec = plan.Topology;
        var layout = FirmwareInt8Plan.Of(plan);
        DeviceFootprint footprint = DeviceFootprint.OfInt8(layout, spec, CodeRange(plan, baked) is not null);
        int code = plan.CodeLayer.Layer.Index;
        int last = plan.OutputLayer.Layer.Index;
        string name = EscapedIdentifier(spec.TypeName);

        WriteShapeConstants(w, plan, Form.FirmwareInt8);
        w.WriteSummary("True: this firmware model runs the int8 weight file it was baked from (integer arithmetic, docs/quantization.md).");
        w.WriteLine("public const bool IsInt8 = true;");
        w.WriteLine();
        w.WriteSummary("False: an int8 model runs inference only (training on the device stays float32).");
        w.WriteLine("public const bool OnDeviceTraining = false;");
        w.WriteLine();
        w.WriteSummary("Bytes of the int8 workspace: the quantised input, every layer's output codes"
            + (layout.PreActivations >= 0 ? ", the output layer's pre-activation codes." : "."));
        w.WriteLine($"public const int WorkspaceBytes = {Invariant.Int(layout.WorkspaceLength)};");
        w.WriteLine();
        w.WriteSummary("RAM the model's arrays take on the device, in bytes: the baked codes and constants (used in place), the workspace"
            + (spec.HasCodec ? " and the packet codec's code ranges" : string.Empty) + $", each with {DeviceFootprint.ArrayOverheadBytes} bytes of heap block overhead.");
        w.WriteLine($"public const int RamBytes = {Invariant.Int(footprint.RamBytes)};");
        w.WriteLine();
        w.WriteSummary("Flash the baked codes (int8) and constants (int32) take in the assembly; the code itself comes on top.");
        w.WriteLine($"public const int BakedDataFlashBytes = {Invariant.Int(footprint.BakedDataBytes)};");
        w.WriteLine();
        WriteSeedAndBakedConstants(w, spec, baked, Form.FirmwareInt8);

        w.WriteSummary($"Every layer's W (input-major) and, for sigmoid and tanh, its table of output codes, from {XmlText(baked.FileName)}.");
        w.WriteLine("private static readonly sbyte[] s_codes =");
        w.WriteLine("{");
        w.Indentation++;
        for (int l = 0; l <= last; l++)
        {
            LayerSpec layer = plan.Layers[l].Layer;
            BakedInt8Layer q = int8.Layers[l];
            w.WriteComment($"Layer {l} ({Describe.Role(layer.Role)}): W, {Invariant.Int(q.Weights.Count)} codes, [{layout.Weights[l]}..{layout.Weights[l] + q.Weights.Count})");
            WriteIntegers(w, q.Weights, 18);
            if (layout.Tables[l] >= 0)
            {
                w.WriteComment($"Layer {l}: {layer.Activation} table, output code of each z code −128..127, [{layout.Tables[l]}..{layout.Tables[l] + 256})");
                WriteIntegers(w, q.Table, 18);
            }
        }

        w.Indentation--;
        w.WriteLine("};");
        w.WriteLine();
        w.WriteSummary("Every layer's folded biases B = b − zp_x·Σᵢ W[i, j], then its Q31 multipliers.");
        w.WriteLine("private static readonly int[] s_constants =");
        w.WriteLine("{");
        w.Indentation++;
        for (int l = 0; l <= last; l++)
        {
            BakedInt8Layer q = int8.Layers[l];
            w.WriteComment($"Layer {l}: biases [{layout.Biases[l]}..{layout.Biases[l] + q.FoldedBiases.Count}), multipliers [{layout.Multipliers[l]}..{layout.Multipliers[l] + q.Multipliers.Count})");
            WriteIntegers(w, q.FoldedBiases, 8);
            WriteIntegers(w, q.Multipliers, 8);
        }

        w.Indentation--;
        w.WriteLine("};");
        w.WriteLine();
        w.WriteLine("private readonly sbyte[] _q = new sbyte[WorkspaceBytes];");
        w.WriteLine();
        w.WriteSummary("Creates the model on the baked int8 parameters (used in place: nothing is copied).");
        w.WriteLine($"public {name}()");
        w.WriteLine("{");
        w.WriteLine("}");
        w.WriteLine();

        QuantizedValue codeOut = Output(int8, code);
        w.WriteSummary(ApiDoc.Encode);
        w.OpenBlock("public void Encode(float[] input, float[] code)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "code", "CodeSize");
        w.WriteLine("QuantizeInput(input, 0);");
        w.WriteLine("EncodeLayers();");
        WriteDequantize(w, "code", "CodeSize", layout.Outputs[code], codeOut);
        w.CloseBlock();
        w.WriteLine();

        QuantizedValue outputOut = Output(int8, last);
        w.WriteSummary(ApiDoc.Decode);
        w.OpenBlock("public void Decode(float[] code, float[] output)");
        WriteNanoCheck(w, "code", "CodeSize");
        WriteNanoCheck(w, "output", "InputSize");
        w.WriteLine("QuantizeCode(code);");
        w.WriteLine("DecodeLayers();");
        WriteDequantize(w, "output", "InputSize", layout.Outputs[last], outputOut);
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Reconstruct(spec.Loss));
        w.OpenBlock("public float Reconstruct(float[] input, float[] output)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "output", "InputSize");
        w.WriteLine("Forward(input);");
        WriteDequantize(w, "output", "InputSize", layout.Outputs[last], outputOut);
        w.WriteLine("return LossAgainst(input, 0, null);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Evaluate);
        w.OpenBlock("public float Evaluate(float[] input, float[] target)");
        WriteNanoCheck(w, "input", "InputSize");
        WriteNanoCheck(w, "target", "InputSize");
        w.WriteLine("Forward(input);");
        w.WriteLine("return LossAgainst(target, 0, null);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Every layer on <paramref name=\"input\"/>, codes only.");
        w.OpenBlock("private void Forward(float[] input)");
        w.WriteLine("QuantizeInput(input, 0);");
        w.WriteLine("EncodeLayers();");
        w.WriteLine("DecodeLayers();");
        w.CloseBlock();
        w.WriteLine();

        // The packet codec quantises the dequantised code, exactly the floats Encode returns.
        string codeValue = $"(float)({Invariant.Float(codeOut.Scale)} * (_q[{Invariant.Int(layout.Outputs[code])} + j] - {Paren(codeOut.ZeroPoint)}))";
        WriteNanoCodec(w, plan, baked, new NanoCodeSource(["QuantizeInput(input, 0);", "EncodeLayers();"], null, codeValue));
        WriteNanoAnomaly(w, plan, baked, new NanoScoring("LossAgainst(input, 0, null)", ["QuantizeInput(ring, start);", "EncodeLayers();", "DecodeLayers();"], "LossAgainst", WriteTerms: null));

        WriteNanoInt8Layers(w, plan, layout, int8, "EncodeLayers", 0, code);
        WriteNanoInt8Layers(w, plan, layout, int8, "DecodeLayers", code + 1, last);

        BakedInt8Layer output = int8.Layers[last];
        w.WriteSummary("The loss of the last forward pass against <paramref name=\"target\"/> from <paramref name=\"start\"/>, in float from the "
            + "dequantised codes, each element's share of the anomaly score written into <paramref name=\"perFeature\"/> when it is not null.");
        w.OpenBlock("private float LossAgainst(float[] target, int start, float[]? perFeature)");
        w.WriteLine("sbyte[] q = _q;");
        w.WriteLine("double loss = 0.0;");
        if (spec.Loss == LossKind.BinaryCrossEntropy)
        {
            w.WriteComment("Binary cross-entropy from the dequantised pre-activations z: softplus(z) − t·z (the score's term).");
            w.OpenBlock($"for (int j = 0; j < {Invariant.Int(spec.InputSize)}; j++)");
            w.WriteLine($"float z = {Invariant.Float(output.ZScale)} * (q[{Invariant.Int(layout.PreActivations)} + j] - {Paren(output.ZZeroPoint)});");
            w.WriteLine("double term = EdgeAeMath.Softplus(z) - (double)(target[start + j] * z);");
            w.WriteLine("loss += term;");
            w.WriteLine("if (perFeature != null) perFeature[j] = (float)term;");
        }
        else
        {
            w.WriteComment("Squared error ½Σ(x̂ − t)² of the dequantised outputs; the score's term is (x̂ − t)².");
            w.OpenBlock($"for (int j = 0; j < {Invariant.Int(spec.InputSize)}; j++)");
            w.WriteLine($"float d = {Invariant.Float(output.OutputScale)} * (q[{Invariant.Int(layout.Outputs[last])} + j] - {Paren(output.OutputZeroPoint)}) - target[start + j];");
            w.WriteLine("loss += 0.5 * (double)(d * d);");
            w.WriteLine("if (perFeature != null) perFeature[j] = d * d;");
        }

        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("return (float)loss;");
        w.CloseBlock();
        w.WriteLine();

        WriteNanoQuantize(w, "QuantizeInput", "input", "InputSize", new QuantizedValue(int8.InputScale, int8.InputZeroPoint), 0, "start");
        WriteNanoQuantize(w, "QuantizeCode", "code", "CodeSize", codeOut, layout.Outputs[code], null);
        w.WriteSummary("zp + ⌊(acc·M + 2ⁿ⁻¹) / 2ⁿ⌋ clamped to [min, max]: the Q31 requantisation, in 64-bit integers.");
        w.OpenBlock("private static int Requantize(int acc, int multiplier, int shift, int zeroPoint, int min, int max)");
        w.WriteLine("long v = ((((long)acc * multiplier) + (1L << (shift - 1))) >> shift) + zeroPoint;");
        w.WriteLine("return v < min ? min : v > max ? max : (int)v;");
        w.CloseBlock();
        w.WriteLine();

        WriteNanoCheckMethod(w);
    }

    /// <summary>A private method running the int8 layers first..last, each reading the codes the one before wrote.</summary>
    private static void WriteNanoInt8Layers(SourceWriter w, ModelPlan plan, FirmwareInt8Plan layout, BakedInt8 int8, string method, int first, int last)
    {
        w.WriteSummary($"Layers {first}..{last} on the codes in the workspace: integer arithmetic only.");
        w.OpenBlock($"private void {method}()");
        w.WriteLine("sbyte[] c = s_codes;");
        w.WriteLine("int[] k = s_constants;");
        w.WriteLine("sbyte[] q = _q;");
        for (int l = first; l <= last; l++)
        {
            w.WriteLine();
            int input = l == 0 ? 0 : layout.Outputs[l - 1];
            NanoKernelWriter.WriteInt8DenseForward(w, plan.Layers[l].Layer, layout, int8.Layers[l], input, l == plan.Layers.Count - 1 ? layout.PreActivations : -1);
        }

        w.CloseBlock();
        w.WriteLine();
    }

    /// <summary>
    /// A method quantising the floats of one argument (from index <paramref name="start"/> when given: an anomaly window's
    /// ring) into the workspace: clamp(roundHalfEven(x / scale) + zp).
    /// </summary>
    private static void WriteNanoQuantize(SourceWriter w, string method, string parameter, string count, QuantizedValue value, int at, string? start)
    {
        w.WriteSummary($"The codes of <paramref name=\"{parameter}\"/>{(start is null ? string.Empty : $" from <paramref name=\"{start}\"/> on")}: "
            + $"clamp(roundHalfEven(x·{Invariant.Float(Inverse(value.Scale))}) + {Invariant.Int(value.ZeroPoint)}, −128, 127), NaN as the zero point.");
        w.OpenBlock($"private void {method}(float[] {parameter}{(start is null ? string.Empty : ", int " + start)})");
        w.OpenBlock($"for (int i = 0; i < {count}; i++)");
        w.WriteLine($"float t = {parameter}[{(start is null ? string.Empty : start + " + ")}i] * {Invariant.Float(Inverse(value.Scale))};");
        w.WriteLine("t = float.IsNaN(t) ? 0f : t < -65536f ? -65536f : t > 65536f ? 65536f : t;");
        w.WriteLine("int r = (int)t; // toward zero; t − r is exact");
        w.WriteLine("float f = t - r;");
        w.OpenBlock("if (f > 0.5f || (f == 0.5f && (r & 1) != 0))");
        w.WriteLine("r++;");
        w.CloseBlock();
        w.OpenBlock("else if (f < -0.5f || (f == -0.5f && (r & 1) != 0))");
        w.WriteLine("r--;");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine($"r += {Invariant.Int(value.ZeroPoint)};");
        w.WriteLine($"_q[{(at == 0 ? string.Empty : Invariant.Int(at) + " + ")}i] = (sbyte)(r < -128 ? -128 : r > 127 ? 127 : r);");
        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();
    }

    private static void WriteDequantize(SourceWriter w, string target, string count, int at, QuantizedValue value)
    {
        w.OpenBlock($"for (int j = 0; j < {count}; j++)");
        w.WriteLine($"{target}[j] = {Invariant.Float(value.Scale)} * (_q[{Invariant.Int(at)} + j] - {Paren(value.ZeroPoint)});");
        w.CloseBlock();
    }

    private static QuantizedValue Output(BakedInt8 int8, int layer) => new(int8.Layers[layer].OutputScale, int8.Layers[layer].OutputZeroPoint);

    /// <summary>1f / scale, rounded to float as the runtime's <c>Int8Arithmetic.Inverse</c> computes it.</summary>
    private static float Inverse(float scale) => 1f / scale;

    private static string Paren(int value) => value < 0 ? "(" + Invariant.Int(value) + ")" : Invariant.Int(value);

    private static void WriteIntegers<T>(SourceWriter w, EquatableArray<T> values, int perLine)
        where T : System.IEquatable<T>, System.IFormattable
    {
        var line = new StringBuilder();
        for (int start = 0; start < values.Count; start += perLine)
        {
            line.Clear();
            int end = System.Math.Min(start + perLine, values.Count);
            for (int k = start; k < end; k++)
            {
                line.Append(values[k].ToString(null, CultureInfo.InvariantCulture)).Append(',');
                if (k + 1 < end)
                {
                    line.Append(' ');
                }
            }

            w.WriteLine(line.ToString());
        }
    }

    private readonly struct QuantizedValue
    {
        public QuantizedValue(float scale, int zeroPoint)
        {
            Scale = scale;
            ZeroPoint = zeroPoint;
        }

        public float Scale { get; }

        public int ZeroPoint { get; }
    }
}
