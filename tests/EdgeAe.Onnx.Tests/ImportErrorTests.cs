using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx.Tests;

/// <summary>Everything outside the subset is one <see cref="OnnxImportException"/> naming the node, its operator and what is supported.</summary>
public sealed class ImportErrorTests
{
    private static readonly int[] Widths = [16, 8, 4, 8, 16];

    private static ModelProto Valid(int opset = 13)
        => ModelProto.Parser.ParseFrom(new ReferenceAe(1, Widths, ["Relu", "Relu", "Relu", "Sigmoid"]).Dynamo(opset, 1, out _));

    private static OnnxImportException Fails(ModelProto model, OnnxImportOptions? options = null)
        => Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(model.ToByteArray(), "model.onnx", options));

    [Fact]
    public void The_valid_base_graph_imports()
    {
        ImportedModel imported = OnnxImporter.Import(Valid().ToByteArray(), "model.onnx");
        Assert.Equal("16→8→4→8→16 (Relu, Relu, Relu, Sigmoid), BinaryCrossEntropy", imported.Topology);
    }

    [Fact]
    public void An_unsupported_operator_is_named_with_its_node_and_the_supported_list()
    {
        ModelProto model = Valid();
        model.Graph.Node.Single(n => n.Name == "Relu_0").OpType = "Elu";
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedOperator, e.Reason);
        Assert.Equal(("Relu_0", "Elu"), (e.NodeName, e.OpType));
        Assert.Equal($"node 'Relu_0' (Elu): operator Elu is not supported; supported: {GraphReader.SupportedOperators}", e.Message);
    }

    [Fact]
    public void A_custom_domain_and_an_unknown_attribute_are_refused()
    {
        ModelProto model = Valid();
        model.Graph.Node.Single(n => n.Name == "/layers.0/MatMul").Domain = "com.microsoft";
        Assert.Contains("operators of domain 'com.microsoft' are not supported", Fails(model).Message);
        model = Valid();
        model.Graph.Node.Single(n => n.Name == "Relu_0").Attribute.Add(GraphBuilder.Float("alpha", 0.1f));
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedOperator, e.Reason);
        Assert.Contains("attribute 'alpha' is not supported; Relu may have no attributes", e.Message);
    }

    [Fact]
    public void External_data_is_refused_naming_the_onnx_file_and_the_file_it_names()
    {
        ModelProto model = Valid();
        TensorProto w = model.Graph.Initializer[0];
        w.RawData = ByteString.Empty;
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedTensor, e.Reason);
        Assert.StartsWith($"model.onnx: initializer '{w.Name}' keeps its data in an external file ('weights.bin'); EdgeAe imports self-contained files", e.Message);

        // The same for a Constant node's tensor.
        model = Valid();
        var value = new TensorProto { Name = "c", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        value.Dims.Add(1);
        value.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "c.bin" });
        var constant = new NodeProto { Name = "const", OpType = "Constant" };
        constant.Output.Add("c");
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
        model.Graph.Node.Insert(0, constant);
        Assert.StartsWith("model.onnx: node 'const' (Constant) value keeps its data in an external file ('c.bin')", Fails(model).Message);
    }

    [Fact]
    public void A_dynamic_dimension_other_than_the_batch_is_refused()
    {
        ModelProto model = Valid();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimParam = "features";
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedTensor, e.Reason);
        Assert.Contains("dynamic dimension ('features') at axis 1; only the batch (axis 0) may be dynamic", e.Message);
    }

    [Fact]
    public void A_broadcast_that_is_not_a_bias_is_refused()
    {
        ModelProto model = Valid();
        TensorProto bias = model.Graph.Initializer.Single(t => t.Name == "layers.0.bias");
        bias.Dims.Clear();
        bias.Dims.AddRange([8, 1]);
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedStructure, e.Reason);
        Assert.Equal(("/layers.0/Add", "Add"), (e.NodeName, e.OpType));
        Assert.Contains("a broadcast that is not a bias (expected [8] or [1, 8] or a single value)", e.Message);
    }

    [Fact]
    public void A_skip_connection_and_a_branch_are_refused()
    {
        var g = new GraphBuilder(13).Input("x", 4);
        g.Initializer("w", [4, 4], new float[16]).Initializer("v", [4, 4], new float[16]);
        g.Node("MatMul", "a", ["x", "w"], "h");
        g.Node("Add", "skip", ["h", "x"], "y");
        g.Output("y", 4);
        OnnxImportException e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(g.Build(), "skip.onnx"));
        Assert.Equal(("skip", "Add"), (e.NodeName, e.OpType));
        Assert.Contains("adds two values computed from the input", e.Message);

        g = new GraphBuilder(13).Input("x", 4);
        g.Initializer("w", [4, 4], new float[16]).Initializer("v", [4, 4], new float[16]);
        g.Node("MatMul", "first", ["x", "w"], "h1");
        g.Node("MatMul", "second", ["x", "v"], "h2");
        g.Output("h1", 4).Output("h2", 4);
        e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(g.Build(), "branch.onnx"));
        Assert.Equal(("second", "MatMul"), (e.NodeName, e.OpType));
        Assert.Contains("EdgeAe imports one chain, without branches or skip connections", e.Message);
    }

    [Fact]
    public void Weights_fed_as_graph_inputs_are_refused()
    {
        ModelProto model = Valid();
        TensorProto w = model.Graph.Initializer[0];
        model.Graph.Initializer.Remove(w);
        model.Graph.Input.Add(new ValueInfoProto { Name = w.Name, Type = model.Graph.Input[0].Type });
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedStructure, e.Reason);
        Assert.Contains("the graph has 2 inputs that are not initializers ('x', 'layers.0.weight')", e.Message);
    }

    [Fact]
    public void Two_activations_in_a_row_are_not_a_layer()
    {
        ModelProto model = Valid();
        NodeProto relu = model.Graph.Node.Single(n => n.Name == "Relu_0");
        relu.Output[0] = "r0";
        var tanh = new NodeProto { Name = "extra", OpType = "Tanh" };
        tanh.Input.Add("r0");
        tanh.Output.Add("act0");
        model.Graph.Node.Insert(model.Graph.Node.IndexOf(relu) + 1, tanh);
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.NotAnAutoencoder, e.Reason);
        Assert.Equal(("extra", "Tanh"), (e.NodeName, e.OpType));
        Assert.Contains("an activation applied right after node 'Relu_0' (Relu)", e.Message);
    }

    [Fact]
    public void The_code_layer_must_be_stated_when_the_graph_does_not_mark_it()
    {
        ModelProto model = Valid();
        model.Graph.Output.RemoveAt(1);
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.NotAnAutoencoder, e.Reason);
        Assert.Contains("the graph does not mark its code layer", e.Message);
        Assert.Contains("--code-layer N (0 to 2) or --code-output NAME", e.Message);
        Assert.Contains("layer 1: 8→4 Relu (node '/layers.1/MatMul' (MatMul), node 'Relu_1' (Relu))", e.Message);
        Assert.Equal(2, OnnxImporter.Import(model.ToByteArray(), "m", new OnnxImportOptions { CodeLayer = 2 }).CodeLayerIndex);
        Assert.Equal(OnnxImportError.InvalidOption, Fails(model, new OnnxImportOptions { CodeLayer = 3 }).Reason);
        Assert.Contains("it lies inside a layer", Fails(model, new OnnxImportOptions { CodeOutput = "add1" }).Message);
        Assert.Contains("no value of the chain has that name", Fails(model, new OnnxImportOptions { CodeOutput = "nope" }).Message);

        // The graph input and the reconstruction are named as what they are, not as values inside a layer.
        string input = Fails(model, new OnnxImportOptions { CodeOutput = model.Graph.Input[0].Name }).Message;
        Assert.Contains($"'{model.Graph.Input[0].Name}' is not the output of a layer before the output layer; it is the graph input;", input);
        string reconstruction = Fails(model, new OnnxImportOptions { CodeOutput = model.Graph.Output[0].Name }).Message;
        Assert.Contains("; it is the output layer's output (the reconstruction);", reconstruction);
    }

    [Fact]
    public void The_loss_is_inferred_from_the_output_and_checked_when_given()
    {
        ModelProto model = Valid();
        Assert.Equal(LossKind.SquaredError, OnnxImporter.Import(model.ToByteArray(), "m", new OnnxImportOptions { Loss = LossKind.SquaredError }).Loss);
        model.Graph.Node.Single(n => n.Name == "Sigmoid_3").OpType = "Tanh";
        ImportedModel tanh = OnnxImporter.Import(model.ToByteArray(), "m");
        Assert.Equal(LossKind.SquaredError, tanh.Loss);
        Assert.Contains("loss: SquaredError, inferred from the Tanh output (ONNX stores no loss; binary cross-entropy needs a Sigmoid output)", tanh.Notes);
        OnnxImportException e = Fails(model, new OnnxImportOptions { Loss = LossKind.BinaryCrossEntropy });
        Assert.Equal(OnnxImportError.NotAnAutoencoder, e.Reason);
        Assert.Contains("binary cross-entropy needs a Sigmoid output, but the output layer's activation is Tanh", e.Message);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(26)]
    public void Opsets_outside_6_to_25_are_refused(int opset)
    {
        ModelProto model = Valid();
        model.OpsetImport[0].Version = opset;
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedVersion, e.Reason);
        Assert.Contains($"uses opset {opset}; this importer reads opsets 6 to 25", e.Message);
    }

    [Fact]
    public void Tensors_of_other_element_types_and_wrong_sizes_are_refused()
    {
        ModelProto model = Valid();
        model.Graph.Initializer[0].DataType = (int)TensorProto.Types.DataType.Float16;
        Assert.StartsWith($"model.onnx: initializer '{model.Graph.Initializer[0].Name}' has element type float16; supported: float32", Fails(model).Message);
        model = Valid();
        model.Graph.Initializer[0].RawData = ByteString.CopyFrom(new byte[10]);
        Assert.StartsWith($"model.onnx: initializer '{model.Graph.Initializer[0].Name}' [", Fails(model).Message);
        Assert.Contains("needs 128 float32 values but holds 10 bytes of raw_data", Fails(model).Message);
        model = Valid();
        model.Graph.Initializer[0].RawData = ByteString.CopyFrom(Enumerable.Repeat(BitConverter.GetBytes(float.NaN), 128).SelectMany(b => b).ToArray());
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedTensor, e.Reason);
        Assert.Contains("layer 0 (node '/layers.0/MatMul' (MatMul)) has a non-finite parameter: W[0, 0] = NaN", e.Message);
    }

    [Fact]
    public void Dimensions_whose_product_would_wrap_around_are_refused()
    {
        ModelProto model = Valid();
        TensorProto w = model.Graph.Initializer[0];
        w.Dims.Clear();
        w.Dims.AddRange([64, 1L << 58]); // 2^64 values: a wrapping product would say 0
        w.RawData = ByteString.Empty;
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedTensor, e.Reason);
        Assert.Contains("has more than 268435456 values", e.Message);

        model = Valid();
        var shape = new TensorProto { Name = "shape", DataType = (int)TensorProto.Types.DataType.Int64 };
        shape.Dims.Add(3);
        shape.Int64Data.AddRange([0, 1L << 62, 4]);
        model.Graph.Initializer.Add(shape);
        NodeProto first = model.Graph.Node.Single(n => n.Name == "/layers.0/MatMul");
        first.Input[0] = "reshaped";
        var reshape = new NodeProto { Name = "reshape", OpType = "Reshape" };
        reshape.Input.AddRange(["x", "shape"]);
        reshape.Output.Add("reshaped");
        model.Graph.Node.Insert(0, reshape);
        Assert.Contains("reshapes [batch, 16] to [0, 4611686018427387904, 4]", Fails(model).Message);
    }

    [Fact]
    public void A_graph_that_is_not_an_autoencoder_says_why()
    {
        ModelProto model = Valid();
        model.Graph.Output.RemoveAt(0);
        OnnxImportException e = Fails(model);
        Assert.Equal(OnnxImportError.UnsupportedStructure, e.Reason);
        Assert.Contains("no graph output is the end of the chain", e.Message);
        Assert.Contains("is not a readable ONNX model", Assert.Throws<OnnxImportException>(() => OnnxImporter.Import([0x0A, 0xFF], "junk.onnx")).Message);
    }

    [Fact]
    public void An_output_read_before_its_bias_is_refused()
    {
        ModelProto model = Valid();
        model.Graph.Output[1].Name = "mm1";
        OnnxImportException e = Fails(model);
        Assert.Contains("graph output 'mm1' is a product before the bias a later Add gives its layer", e.Message);
    }

    [Fact]
    public void Shared_weights_outside_the_tied_pattern_are_copied_with_a_note()
    {
        var g = new GraphBuilder(13).Input("x", 4);
        g.Initializer("w", [4, 4], Enumerable.Range(0, 16).Select(i => i / 16f).ToArray());
        g.Node("MatMul", "l0", ["x", "w"], "h0");
        g.Node("MatMul", "l1", ["h0", "w"], "h1");
        g.Node("MatMul", "l2", ["h1", "w"], "y");
        g.Output("y", 4);
        ImportedModel imported = OnnxImporter.Import(g.Build(), "shared.onnx", new OnnxImportOptions { CodeLayer = 0, Loss = LossKind.SquaredError });
        Assert.False(imported.TiedWeights);
        Assert.Contains(imported.Notes, n => n.StartsWith("shared weights:", StringComparison.Ordinal));
    }

    [Fact]
    public void Class_and_namespace_names_are_checked()
    {
        Assert.Equal(OnnxImportError.InvalidOption, Fails(Valid(), new OnnxImportOptions { ClassName = "class" }).Reason);
        Assert.Equal(OnnxImportError.InvalidOption, Fails(Valid(), new OnnxImportOptions { ClassName = "My-Model" }).Reason);
        Assert.Equal(OnnxImportError.InvalidOption, Fails(Valid(), new OnnxImportOptions { Namespace = "A..B" }).Reason);
        Assert.Equal("MyModel", DeclarationWriter.ClassNameFor("dir/my-model.cs"));
        Assert.Equal("Model1ae", DeclarationWriter.ClassNameFor("1ae.cs"));
        Assert.Equal("Class", DeclarationWriter.ClassNameFor("class.cs"));
    }

    [Fact]
    public void A_class_or_namespace_that_would_hide_the_names_the_declaration_uses_is_not_written()
    {
        // --out loss.cs used to declare "class Loss", whose own [Autoencoder(Loss = Loss.BinaryCrossEntropy)] did not compile.
        Assert.Equal("LossModel", DeclarationWriter.ClassNameFor("loss.cs"));
        Assert.Equal("ActivationModel", DeclarationWriter.ClassNameFor("dir/activation.cs"));
        Assert.Equal("EdgeAeModel", DeclarationWriter.ClassNameFor("EdgeAe.cs"));
        ImportedModel imported = OnnxImporter.Import(Valid().ToByteArray(), "model.onnx", new OnnxImportOptions { ClassName = DeclarationWriter.ClassNameFor("loss.cs") });
        Compiled.Compile("EdgeAe.Onnx.LossModel", [("loss.cs", imported.Declaration)]);

        foreach (string name in new[] { "Loss", "Activation", "EdgeAe" })
        {
            OnnxImportException e = Fails(Valid(), new OnnxImportOptions { ClassName = name });
            Assert.Equal(OnnxImportError.InvalidOption, e.Reason);
            Assert.Equal($"a class named '{name}' would hide EdgeAe's {name}, which the declaration uses, so it would not compile; choose another class name", e.Message);
        }

        Assert.Equal(OnnxImportError.InvalidOption, Fails(Valid(), new OnnxImportOptions { Namespace = "Acme.Loss" }).Reason);
        Assert.Equal(OnnxImportError.InvalidOption, Fails(Valid(), new OnnxImportOptions { Namespace = "Activation" }).Reason);
        Compiled.Compile("EdgeAe.Onnx.Namespaced", [("m.cs", OnnxImporter.Import(Valid().ToByteArray(), "m.onnx", new OnnxImportOptions { Namespace = "Acme.EdgeAe.Models" }).Declaration)]);
    }

    [Fact]
    public void Names_from_the_file_cannot_break_out_of_the_declaration_comments()
    {
        ModelProto model = Valid();
        model.Graph.Name = "g\npublic class Injected {}\n//";
        model.Graph.Node.Single(n => n.Name == "/layers.0/MatMul").Name = "a\u2028public class Injected2 {}";
        string declaration = OnnxImporter.Import(model.ToByteArray(), "m").Declaration;
        Assert.DoesNotContain(declaration.Split('\n'), line => line.StartsWith("public class Injected", StringComparison.Ordinal));
        Assert.DoesNotContain('\u2028', declaration);
    }
}
