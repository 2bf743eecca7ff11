using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.Generators.Planning;

namespace EdgeAe.Generators.Emitting;

/// <summary>
/// The desktop flavour's int8 companion: a nested class <c>Int8</c> beside the float model, running an int8 weight file
/// (docs/quantization.md) on the runtime's int8 kernels (<c>EdgeAe.Kernels.Int8Dense</c>). A distinct type, so a float
/// model and an int8 model of one declaration are never mixed: loading a file of the other precision is a typed error.
/// </summary>
internal static partial class ModelEmitter
{
    private static void WriteInt8Companion(SourceWriter w, ModelPlan plan)
    {
        TopologySpec spec = plan.Topology;
        Int8Plan int8 = plan.Int8;
        int code = plan.CodeLayer.Layer.Index;
        int last = plan.OutputLayer.Layer.Index;
        // The model by its full name: inside Int8, its plain name could be one of the base class's members (a model called
        // Load or Packed).
        string name = QualifiedName(spec);

        w.WriteLine();
        w.WriteSummary($"The int8 form of <see cref=\"{name}\"/> (docs/quantization.md): the same layers with int8 weights and activations, "
            + "int32 sums and fixed-point requantisation, bit-identical on every machine and on the device. Inference only: load an int8 "
            + "weight file (<c>edgeae quantize</c>) with <c>WeightFile.Load</c> or <see cref=\"global::EdgeAe.Quantization.QuantizedAutoencoder.Load\"/>.");
        w.OpenBlock("public sealed class Int8 : global::EdgeAe.Quantization.QuantizedAutoencoder");
        w.WriteSummary("Bytes of the packed int8 parameters: per layer a header, folded biases, multipliers, a table and the weights in quads.");
        w.WriteLine($"public const int PackedParameterBytes = {Invariant.Int(int8.PackedBytes)};");
        w.WriteLine();
        w.WriteSummary("Creates the model without parameters: load an int8 weight file before running it.");
        w.WriteLine("public Int8()");
        w.WriteLine($"    : base({name}.Topology, PackedParameterBytes, Int8Rows.Length, 2 * Int8Rows.FloatRow)");
        w.WriteLine("{");
        w.WriteLine("}");
        w.WriteLine();
        w.WriteSummary("Creates the model running <paramref name=\"parameters\"/>.");
        w.WriteLine("public Int8(global::EdgeAe.Quantization.QuantizedParameters parameters)");
        w.WriteLine("    : this() => Load(parameters);");
        w.WriteLine();

        w.WriteSummary(ApiDoc.Encode);
        w.OpenBlock("public override void Encode(global::System.ReadOnlySpan<float> input, global::System.Span<float> code)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "code", "CodeSize");
        w.WriteLine("EncodeRows(input, code, 1);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Decode);
        w.OpenBlock("public override void Decode(global::System.ReadOnlySpan<float> code, global::System.Span<float> output)");
        WriteCheck(w, "code", "CodeSize");
        WriteCheck(w, "output", "InputSize");
        w.WriteLine("ref byte p = ref Packed;");
        WriteInt8Layers(w, plan, code + 1, last, "code", "CodeSize", "ref Out(output), InputSize", "1");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Encodes a batch of 1 to <see cref=\"MaxBatchSize\"/> samples (count × <see cref=\"InputSize\"/> floats) into count × <see cref=\"CodeSize\"/> floats. Allocates nothing.");
        w.OpenBlock("public override void EncodeBatch(global::System.ReadOnlySpan<float> inputs, global::System.Span<float> codes)");
        w.WriteLine("int count = global::EdgeAe.Kernels.Shape.BatchCount(inputs.Length, InputSize, MaxBatchSize, nameof(inputs));");
        w.WriteStatement("global::EdgeAe.Kernels.Shape.Check(codes, count * CodeSize, nameof(codes));");
        w.WriteLine("EncodeRows(inputs, codes, count);");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("The encoder on <paramref name=\"count\"/> samples: their codes, dequantised, to <paramref name=\"codes\"/>.");
        w.OpenBlock("private void EncodeRows(global::System.ReadOnlySpan<float> inputs, global::System.Span<float> codes, int count)");
        w.WriteLine("ref byte p = ref Packed;");
        WriteInt8Layers(w, plan, 0, code, "inputs", "InputSize", "ref Out(codes), CodeSize", "count");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Reconstruct(spec.Loss) + " The loss is computed in float from the dequantised outputs"
            + (spec.Loss == LossKind.BinaryCrossEntropy ? " (binary cross-entropy from the dequantised pre-activations)." : "."));
        w.OpenBlock("public override float Reconstruct(global::System.ReadOnlySpan<float> input, global::System.Span<float> output)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "output", "InputSize");
        w.WriteLine("return ForwardAndLoss(input, input, ref Out(output));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary(ApiDoc.Evaluate);
        w.OpenBlock("public override float Evaluate(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> target)");
        WriteCheck(w, "input", "InputSize");
        WriteCheck(w, "target", "InputSize");
        w.WriteLine("return ForwardAndLoss(input, target, ref Floats(Int8Rows.FloatRow));");
        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Every layer on <paramref name=\"input\"/>; the reconstruction goes to <paramref name=\"output\"/>, its loss against <paramref name=\"target\"/> is returned.");
        w.OpenBlock("private float ForwardAndLoss(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> target, ref float output)");
        w.WriteLine("ref byte p = ref Packed;");
        WriteInt8Layers(w, plan, 0, last, "input", "InputSize", null, "1");
        if (spec.Loss == LossKind.BinaryCrossEntropy)
        {
            w.WriteComment("Σ softplus(z) − t·z: softplus by the table of the 256 z codes, t·z over the dequantised z (Floats(0)).");
            w.WriteStatement($"double loss = global::EdgeAe.Kernels.Int8Dense.BinaryCrossEntropyLoss<Layer{last}>(ref Codes(Int8Rows.Layer{last}), ref Floats(0), ref In(target), ref Softplus);");
        }
        else
        {
            w.WriteComment("½Σ(a − t)² over the dequantised outputs.");
            w.WriteStatement($"double loss = global::EdgeAe.Kernels.Dense.SquaredErrorLoss<Layer{last}>(ref output, ref In(target));");
        }

        w.WriteLine("return (float)loss;");

        w.CloseBlock();
        w.WriteLine();

        w.WriteSummary("Packs every layer's int8 parameters for the kernels.");
        w.OpenBlock("protected override void Pack(global::EdgeAe.Quantization.QuantizedParameters parameters, global::System.Span<byte> packed)");
        foreach (LayerPlan layer in plan.Layers)
        {
            w.WriteLine($"global::EdgeAe.Kernels.Int8Dense.Pack<Layer{layer.Layer.Index}>(packed, parameters.Layers[{Invariant.Int(layer.Layer.Index)}]);");
        }

        w.CloseBlock();

        w.WriteLine();
        w.WriteSummary("Byte offsets of the int8 rows (the quantised input, then each layer's outputs; one row per sample of the largest batch), and the float scratch row.");
        w.OpenBlock("private static class Int8Rows");
        w.WriteLine("public const int Input = 0;");
        foreach (LayerPlan layer in plan.Layers)
        {
            w.WriteLine($"public const int Layer{layer.Layer.Index} = {Invariant.Int(int8.Rows[layer.Layer.Index + 1])};");
        }

        w.WriteLine($"public const int Length = {Invariant.Int(int8.CodeBytes)};");
        w.WriteLine($"public const int FloatRow = {Invariant.Int(int8.FloatRow)};");
        w.CloseBlock();
        w.CloseBlock();
    }

    /// <summary>The hook quantisation-aware training sets (<c>EdgeAe.Quantization.FakeQuantizer</c>).</summary>
    private static void WriteFakeQuantizationMember(SourceWriter w)
    {
        w.WriteSummary("Quantisation-aware training: when set, the batch passes fake-quantise each layer's outputs and clip their gradients as the int8 model would (docs/quantization.md). Null: plain float32.");
        w.WriteLine("public global::EdgeAe.Quantization.FakeQuantizer? FakeQuantization { get; set; }");
        w.WriteLine();
    }

    /// <summary>One call of the training hook after a batch kernel: <c>Forward</c> on a layer's outputs, <c>Backward</c> on its deltas.</summary>
    private static void WriteFakeQuantizationHook(SourceWriter w, string method, int layer, string rows)
        => w.WriteStatement($"FakeQuantization?.{method}({Invariant.Int(layer)}, {rows}, BatchLayout.Row{Invariant.Int(layer)}, count);");

    /// <summary>
    /// Int8 calls for layers first..last: quantise <paramref name="source"/>'s floats with layer first's input
    /// quantisation, then one call per layer; the last writes floats to <paramref name="target"/> (ref, stride), or, with
    /// a null target, it is the output layer of ForwardAndLoss (outputs to <c>output</c>, pre-activations to Floats(0) and
    /// as codes to the layer's int8 row).
    /// </summary>
    private static void WriteInt8Layers(SourceWriter w, ModelPlan plan, int first, int last, string source, string width, string? target, string count)
    {
        string x = first == 0 ? "Int8Rows.Input" : $"Int8Rows.Layer{first - 1}";
        w.WriteStatement($"global::EdgeAe.Kernels.Int8Dense.Quantize<Layer{first}>(ref p, ref In({source}), {width}, ref Codes({x}), {count});");
        for (int l = first; l <= last; l++)
        {
            LayerPlan layer = plan.Layers[l];
            string activation = "global::EdgeAe.Kernels." + layer.Layer.Activation;
            LayerSpec spec = layer.Layer;
            w.WriteComment($"Layer {spec.Index} ({Describe.Role(spec.Role)}): dense {spec.InputWidth} → {spec.Width}, {spec.Activation}"
                + (layer.IsTied ? $"; its own int8 W (the float model ties it to layer {spec.TiedTo}'s)." : "."));
            if (l < last)
            {
                w.WriteStatement($"global::EdgeAe.Kernels.Int8Dense.Forward<Layer{l}, {activation}>(ref p, ref Codes({x}), ref Codes(Int8Rows.Layer{l}), {count});");
            }
            else if (target is not null)
            {
                w.WriteStatement($"global::EdgeAe.Kernels.Int8Dense.ForwardToFloat<Layer{l}, {activation}>(ref p, ref Codes({x}), {target}, {count});");
            }
            else if (plan.Topology.Loss == LossKind.BinaryCrossEntropy)
            {
                w.WriteStatement($"global::EdgeAe.Kernels.Int8Dense.ForwardOutput<Layer{l}, {activation}>(ref p, ref Codes({x}), ref output, ref Floats(0), ref Codes(Int8Rows.Layer{l}));");
            }
            else
            {
                w.WriteStatement($"global::EdgeAe.Kernels.Int8Dense.ForwardToFloat<Layer{l}, {activation}>(ref p, ref Codes({x}), ref output, InputSize, 1);");
            }

            x = $"Int8Rows.Layer{l}";
        }
    }
}
