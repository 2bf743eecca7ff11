using System.Globalization;
using Google.Protobuf;
using Onnx;

namespace EdgeAe.Onnx;

/// <summary>
/// Reads an ONNX graph as one chain of dense steps and activations (<see cref="DenseNetwork"/>): it interprets each node
/// on symbolic values — a constant (initializer or Constant node) or the batch of samples after so many steps — and
/// refuses, with one <see cref="OnnxImportException"/> naming the node and its operator, anything that is not such a chain.
/// </summary>
internal static class GraphReader
{
    /// <summary>The oldest opset of the default domain read (PyTorch 0.3's exports).</summary>
    public const long MinOpset = 6;

    /// <summary>The newest opset of the default domain read (ONNX 1.20); the supported operators mean the same up to it.</summary>
    public const long MaxOpset = 25;

    /// <summary>The supported subset, as messages state it.</summary>
    public const string SupportedOperators =
        "Gemm, MatMul, Add (a bias), Transpose (of an initializer, or a 2-D value), Sigmoid, Tanh, Relu, Identity, Flatten and Reshape (keeping [batch, features]), Constant";

    /// <summary>Operators of quantised graphs (QDQ and integer products), refused with advice rather than as unknown.</summary>
    private static readonly HashSet<string> QuantizedOperators = new(StringComparer.Ordinal)
    {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul", "ConvInteger", "QLinearConv",
    };

    private static readonly Dictionary<string, string[]> Attributes = new(StringComparer.Ordinal)
    {
        ["Gemm"] = ["alpha", "beta", "transA", "transB", "broadcast"],
        ["MatMul"] = [],
        ["Add"] = ["broadcast", "axis"],
        ["Transpose"] = ["perm"],
        ["Sigmoid"] = [],
        ["Tanh"] = [],
        ["Relu"] = [],
        ["Identity"] = [],
        ["Flatten"] = ["axis"],
        ["Reshape"] = ["allowzero"],
        ["Constant"] = ["value", "value_float", "value_floats", "value_int", "value_ints"],
    };

    /// <summary>Decodes the protobuf bytes of a model.</summary>
    public static ModelProto Parse(byte[] bytes, string source)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxImportException(OnnxImportError.Malformed, $"{source} is not a readable ONNX model: {e.Message}", inner: e);
        }
    }

    /// <summary>Interprets the graph of <paramref name="model"/>.</summary>
    public static DenseNetwork Read(ModelProto model, string source)
    {
        GraphProto graph = model.Graph ?? throw new OnnxImportException(OnnxImportError.Malformed, $"{source} holds no graph");
        long opset = Opset(model, source);
        var reader = new Reader(source, opset);
        return reader.Run(model, graph);
    }

    private static long Opset(ModelProto model, string source)
    {
        OperatorSetIdProto[] defaults = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToArray();
        if (defaults.Length == 0)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedVersion, $"{source} imports no opset of the default ONNX domain");
        }

        if (defaults.Length > 1)
        {
            throw new OnnxImportException(OnnxImportError.Malformed, $"{source} imports the default ONNX domain {defaults.Length} times");
        }

        long opset = defaults[0].Version;
        if (opset < MinOpset || opset > MaxOpset)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedVersion,
                $"{source} uses opset {opset}; this importer reads opsets {MinOpset} to {MaxOpset} of the default domain");
        }

        return opset;
    }

    /// <summary>A value of the graph during interpretation.</summary>
    private sealed class Value
    {
        /// <summary>Non-null for a constant.</summary>
        public Constant? Constant { get; init; }

        /// <summary>For a computed value: how many steps of the chain produced it (0: the graph input).</summary>
        public int Step { get; init; }

        /// <summary>For a computed value: the dimensions of one sample (row-major).</summary>
        public long[] SampleDims { get; init; } = [];

        /// <summary>For a computed 2-D value: stored [features, batch] rather than [batch, features].</summary>
        public bool FeatureMajor { get; init; }

        /// <summary>A product whose layer later received a bias (an Add): the chain no longer computes it.</summary>
        public bool Stale { get; init; }

        public long Width => SampleDims.Aggregate(1L, (a, d) => a * d);

        public string Shape => FeatureMajor ? $"[{Width}, batch]" : "[batch" + string.Concat(SampleDims.Select(d => ", " + d.ToString(CultureInfo.InvariantCulture))) + "]";
    }

    private sealed class Reader(string source, long opset)
    {
        private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
        private readonly List<NetworkStep> _steps = [];
        private long? _batch;

        public DenseNetwork Run(ModelProto model, GraphProto graph)
        {
            // A quantised graph (QDQ pairs, or integer products) is not read as float32: say what it is and what to do.
            if (graph.Node.FirstOrDefault(n => n.Domain is "" or "ai.onnx" && QuantizedOperators.Contains(n.OpType)) is { } quantized)
            {
                bool ours = model.MetadataProps.Any(p => p.Key == EdgeAeMetadata.PrecisionKey && p.Value == "int8");
                throw new OnnxImportException(OnnxImportError.UnsupportedOperator,
                    $"{source} is a quantised graph (node '{quantized.Name}' is {quantized.OpType}{(ours ? "; EdgeAe exported it from an int8 weight file" : "")}): "
                    + "import reads float32 graphs; import the float32 model and quantise it here (edgeae quantize, Quantizer.Quantize), which writes EdgeAe's int8 arithmetic");
            }

            foreach (TensorProto initializer in graph.Initializer)
            {
                if (initializer.Name.Length == 0)
                {
                    throw new OnnxImportException(OnnxImportError.Malformed, $"{source}: an initializer has no name");
                }

                if (_values.ContainsKey(initializer.Name))
                {
                    throw new OnnxImportException(OnnxImportError.Malformed, $"{source}: initializer '{initializer.Name}' is defined twice");
                }

                _values[initializer.Name] = new Value { Constant = Tensors.Read(initializer, initializer.Name, source, $"initializer '{initializer.Name}'") };
            }

            if (graph.SparseInitializer.Count > 0)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{source}: sparse initializers are not supported (initializer '{graph.SparseInitializer[0].Values?.Name}')");
            }

            ValueInfoProto[] inputs = graph.Input.Where(i => !_values.ContainsKey(i.Name)).ToArray();
            if (inputs.Length != 1)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedStructure,
                    $"{source}: the graph has {inputs.Length} inputs that are not initializers ({string.Join(", ", inputs.Select(i => "'" + i.Name + "'"))}); an autoencoder has exactly one, with its weights stored in the file as initializers");
            }

            ValueInfoProto input = inputs[0];
            long[] sampleDims = InputDims(input);
            _values[input.Name] = new Value { Step = 0, SampleDims = sampleDims };

            foreach (NodeProto node in graph.Node)
            {
                Interpret(node);
            }

            if (graph.Output.Count == 0)
            {
                throw new OnnxImportException(OnnxImportError.Malformed, $"{source}: the graph has no output");
            }

            var outputs = new List<NetworkOutput>();
            foreach (ValueInfoProto output in graph.Output)
            {
                if (!_values.TryGetValue(output.Name, out Value? value))
                {
                    throw new OnnxImportException(OnnxImportError.Malformed, $"{source}: graph output '{output.Name}' is produced by no node");
                }

                if (value.Constant is not null)
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedStructure, $"{source}: graph output '{output.Name}' is a constant, not computed from the input");
                }

                if (value.Stale)
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedStructure,
                        $"{source}: graph output '{output.Name}' is a product before the bias a later Add gives its layer; EdgeAe's layer outputs include the bias");
                }

                if (value.FeatureMajor)
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedStructure,
                        $"{source}: graph output '{output.Name}' is laid out [features, batch]; EdgeAe's outputs are [batch, features]");
                }

                outputs.Add(new NetworkOutput(output.Name, value.Step, value.SampleDims));
            }

            return new DenseNetwork
            {
                Source = source,
                InputName = input.Name,
                InputSampleDims = sampleDims,
                Steps = _steps,
                Outputs = outputs,
                Values = _values.Where(v => v.Value.Constant is null && !v.Value.Stale).ToDictionary(v => v.Key, v => v.Value.Step, StringComparer.Ordinal),
                Opset = opset,
                Producer = (model.ProducerName + " " + model.ProducerVersion).Trim(),
                GraphName = graph.Name,
                Metadata = model.MetadataProps.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
            };
        }

        private long[] InputDims(ValueInfoProto input)
        {
            string where = $"{source}: graph input '{input.Name}'";
            TypeProto.Types.Tensor? tensor = input.Type?.TensorType;
            if (tensor is null)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} is not a tensor");
            }

            if (tensor.ElemType != (int)TensorProto.Types.DataType.Float)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has element type {Tensors.TypeName(tensor.ElemType)}; supported: float32");
            }

            if (tensor.Shape is null || tensor.Shape.Dim.Count < 2)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedTensor,
                    $"{where} has {(tensor.Shape is null ? "no shape" : $"{tensor.Shape.Dim.Count} dimension(s)")}; EdgeAe reads [batch, features] (or [batch, d1, d2, …] flattened per sample)");
            }

            TensorShapeProto.Types.Dimension batch = tensor.Shape.Dim[0];
            if (batch.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            {
                if (batch.DimValue <= 0)
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has a batch dimension of {batch.DimValue}");
                }

                _batch = batch.DimValue;
            }

            var dims = new long[tensor.Shape.Dim.Count - 1];
            long width = 1;
            for (int axis = 1; axis < tensor.Shape.Dim.Count; axis++)
            {
                TensorShapeProto.Types.Dimension dim = tensor.Shape.Dim[axis];
                if (dim.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
                {
                    string name = dim.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? $"'{dim.DimParam}'" : "unknown";
                    throw new OnnxImportException(OnnxImportError.UnsupportedTensor,
                        $"{where} has a dynamic dimension ({name}) at axis {axis}; only the batch (axis 0) may be dynamic");
                }

                if (dim.DimValue <= 0)
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has dimension {dim.DimValue} at axis {axis}");
                }

                dims[axis - 1] = dim.DimValue;
                width *= dim.DimValue;
                if (width > int.MaxValue)
                {
                    throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{where} has more than {int.MaxValue} values per sample");
                }
            }

            return dims;
        }

        private void Interpret(NodeProto node)
        {
            string output = node.Output.Count > 0 ? node.Output[0] : string.Empty;
            string id = node.Name.Length > 0 ? node.Name : output;
            string op = node.OpType;
            OnnxImportException Error(OnnxImportError reason, string text) => new(reason, $"node '{id}' ({op}): {text}", id, op);

            if (node.Domain is not ("" or "ai.onnx"))
            {
                throw Error(OnnxImportError.UnsupportedOperator, $"operators of domain '{node.Domain}' are not supported; supported: {SupportedOperators} of the default domain");
            }

            if (!Attributes.TryGetValue(op, out string[]? known))
            {
                throw Error(OnnxImportError.UnsupportedOperator, $"operator {op} is not supported; supported: {SupportedOperators}");
            }

            foreach (AttributeProto attribute in node.Attribute)
            {
                if (!known.Contains(attribute.Name, StringComparer.Ordinal))
                {
                    throw Error(OnnxImportError.UnsupportedOperator,
                        $"attribute '{attribute.Name}' is not supported; {op} may have {(known.Length == 0 ? "no attributes" : string.Join(", ", known))}");
                }
            }

            if (node.Output.Count != 1 || output.Length == 0)
            {
                throw Error(OnnxImportError.UnsupportedStructure, $"has {node.Output.Count} outputs; the supported operators have exactly one, named");
            }

            if (_values.ContainsKey(output))
            {
                throw Error(OnnxImportError.Malformed, $"its output '{output}' is already defined (a graph assigns every value once)");
            }

            var inputs = new Value?[node.Input.Count];
            for (int i = 0; i < node.Input.Count; i++)
            {
                string name = node.Input[i];
                if (name.Length == 0)
                {
                    continue;
                }

                if (!_values.TryGetValue(name, out Value? value))
                {
                    throw Error(OnnxImportError.Malformed, $"input '{name}' is produced by no earlier node, initializer or graph input");
                }

                if (value.Stale)
                {
                    throw Error(OnnxImportError.UnsupportedStructure, $"reads '{name}', a product before the bias a later Add gives its layer; EdgeAe imports one chain, without branches");
                }

                inputs[i] = value;
            }

            Value Input(int index, string role)
                => index < inputs.Length && inputs[index] is { } v ? v : throw Error(OnnxImportError.Malformed, $"has no {role} input");

            Value Computed(int index, string role)
            {
                Value v = Input(index, role);
                if (v.Constant is not null)
                {
                    throw Error(OnnxImportError.UnsupportedStructure, $"its {role} input '{node.Input[index]}' is a constant; constant folding is not supported (export with constant folding on)");
                }

                RequireLatest(v, node.Input[index], Error);
                return v;
            }

            void Arity(int min, int max)
            {
                int count = node.Input.Count;
                while (count > 0 && node.Input[count - 1].Length == 0)
                {
                    count--;
                }

                if (count < min || count > max)
                {
                    throw Error(OnnxImportError.Malformed, $"has {count} inputs; {op} takes {(min == max ? min.ToString(CultureInfo.InvariantCulture) : $"{min} to {max}")}");
                }
            }

            Value result;
            switch (op)
            {
                case "Constant":
                    Arity(0, 0);
                    result = new Value { Constant = ConstantOf(node, output, source, Error) };
                    break;
                case "Identity":
                    Arity(1, 1);
                    result = Input(0, "data");
                    break;
                case "Transpose":
                    Arity(1, 1);
                    result = Transpose(node, Input(0, "data"), output, Error);
                    break;
                case "Flatten":
                    Arity(1, 1);
                    result = Flatten(node, Computed(0, "data"), Error);
                    break;
                case "Reshape":
                    Arity(2, 2);
                    result = Reshape(node, Computed(0, "data"), Input(1, "shape"), Error);
                    break;
                case "Sigmoid" or "Tanh" or "Relu":
                    Arity(1, 1);
                    Value x = Computed(0, "data");
                    var activation = op switch { "Sigmoid" => ActivationKind.Sigmoid, "Tanh" => ActivationKind.Tanh, _ => ActivationKind.Relu };
                    _steps.Add(NetworkStep.Activate(id, op, checked((int)x.Width), activation));
                    result = new Value { Step = _steps.Count, SampleDims = x.SampleDims, FeatureMajor = x.FeatureMajor };
                    break;
                case "MatMul":
                    Arity(2, 2);
                    result = Dense(id, op, node, inputs, 1f, false, false, null, 1f, Error);
                    break;
                case "Gemm":
                    Arity(2, 3);
                    if (opset < 7 && inputs.Length > 2 && inputs[2] is not null && Int(node, "broadcast", 0, Error) != 1)
                    {
                        throw Error(OnnxImportError.UnsupportedStructure, "C without broadcast = 1 must have the full output shape [batch, width], which is not a bias");
                    }

                    result = Dense(id, op, node, inputs, Float(node, "alpha", 1f, Error), Int(node, "transA", 0, Error) != 0, Int(node, "transB", 0, Error) != 0,
                        inputs.Length > 2 ? inputs[2] : null, Float(node, "beta", 1f, Error), Error);
                    break;
                case "Add":
                    Arity(2, 2);
                    result = Add(node, inputs, Error);
                    break;
                default:
                    throw Error(OnnxImportError.UnsupportedOperator, $"operator {op} is not supported; supported: {SupportedOperators}");
            }

            _values[output] = result;
        }

        /// <summary>A computed value must be the chain's current one: reading an earlier value is a branch or a skip connection.</summary>
        private void RequireLatest(Value value, string name, Func<OnnxImportError, string, OnnxImportException> error)
        {
            if (value.Step != _steps.Count)
            {
                throw error(OnnxImportError.UnsupportedStructure,
                    $"reads '{name}', which later nodes have already consumed ({_steps[value.Step].Describe()} follows it); EdgeAe imports one chain, without branches or skip connections");
            }
        }

        private Value Dense(string id, string op, NodeProto node, Value?[] inputs, float alpha, bool transA, bool transB, Value? c, float beta, Func<OnnxImportError, string, OnnxImportException> error)
        {
            Value a = inputs[0] ?? throw error(OnnxImportError.Malformed, "has no A input");
            Value b = inputs[1] ?? throw error(OnnxImportError.Malformed, "has no B input");
            bool activationFirst;
            if (a.Constant is null && b.Constant is not null)
            {
                activationFirst = true;
            }
            else if (a.Constant is not null && b.Constant is null)
            {
                activationFirst = false;
            }
            else if (a.Constant is null)
            {
                throw error(OnnxImportError.UnsupportedStructure, "multiplies two values computed from the input; a dense layer multiplies by a weight initializer");
            }
            else
            {
                throw error(OnnxImportError.UnsupportedStructure, "multiplies two constants; constant folding is not supported (export with constant folding on)");
            }

            Value x = activationFirst ? a : b;
            int xIndex = activationFirst ? 0 : 1;
            RequireLatest(x, node.Input[xIndex], error);

            if (x.SampleDims.Length != 1)
            {
                throw error(OnnxImportError.UnsupportedStructure, $"multiplies a value of shape {x.Shape}; a dense layer takes [batch, features] (add a Flatten first)");
            }

            Constant w = (activationFirst ? b : a).Constant!;
            if (w.Rank != 2 || w.Floats is null)
            {
                throw error(OnnxImportError.UnsupportedStructure, $"its weight '{w.Name}' is {(w.Floats is null ? "an int64 tensor" : "of shape " + w.Shape)}; a dense layer's weight is a 2-D float32 matrix");
            }

            // The activation operand must be read as [batch, in] (activation first) or [in, batch] (activation second).
            bool transX = activationFirst ? transA : transB;
            bool transW = activationFirst ? transB : transA;
            bool batchFirst = activationFirst ? !transX : transX;
            if (x.FeatureMajor == batchFirst)
            {
                string flag = activationFirst ? "transA" : "transB";
                throw error(OnnxImportError.UnsupportedStructure,
                    $"with {flag} = {(transX ? 1 : 0)} multiplies across the batch of its {x.Shape} input; a dense layer multiplies each sample by the weights");
            }

            int inputWidth = checked((int)x.Width);
            long rows = w.Dims[0], columns = w.Dims[1];

            // op(W) as the product sees it: activation first → [in, out]; activation second → [out, in].
            bool stored = activationFirst ? !transW : transW; // true: W as stored is [in, out]
            long wIn = stored ? rows : columns, wOut = stored ? columns : rows;
            if (wIn != inputWidth)
            {
                throw error(OnnxImportError.UnsupportedStructure,
                    $"its weight '{w.Name}' {w.Shape} (used as {(stored ? "[in, out]" : "[out, in]")}) expects {wIn} inputs but its input has {inputWidth} values per sample");
            }

            int width = checked((int)wOut);
            var weights = new float[checked(inputWidth * width)];
            float[] data = w.Floats;
            for (int i = 0; i < inputWidth; i++)
            {
                for (int j = 0; j < width; j++)
                {
                    weights[(i * width) + j] = alpha * (stored ? data[(i * width) + j] : data[(j * inputWidth) + i]);
                }
            }

            NetworkStep step = NetworkStep.Dense(id, op, inputWidth, width, weights, alpha == 1f ? w.Name : null);
            _steps.Add(step);
            bool featureMajor = !activationFirst;
            if (c is not null)
            {
                AddBias(step, c, featureMajor, beta, legacyAxis: null, error);
            }

            return new Value { Step = _steps.Count, SampleDims = [width], FeatureMajor = featureMajor };
        }

        private Value Add(NodeProto node, Value?[] inputs, Func<OnnxImportError, string, OnnxImportException> error)
        {
            Value a = inputs[0] ?? throw error(OnnxImportError.Malformed, "has no A input");
            Value b = inputs[1] ?? throw error(OnnxImportError.Malformed, "has no B input");
            if (a.Constant is null && b.Constant is null)
            {
                throw error(OnnxImportError.UnsupportedStructure, "adds two values computed from the input (a residual or skip connection), which is not a dense layer");
            }

            if (a.Constant is not null && b.Constant is not null)
            {
                throw error(OnnxImportError.UnsupportedStructure, "adds two constants; constant folding is not supported (export with constant folding on)");
            }

            Value x = a.Constant is null ? a : b;
            int index = a.Constant is null ? 0 : 1;
            RequireLatest(x, node.Input[index], error);

            if (_steps.Count == 0 || _steps[^1].Kind != StepKind.Dense)
            {
                string after = _steps.Count == 0 ? "to the graph input" : $"after {_steps[^1].Describe()}";
                throw error(OnnxImportError.UnsupportedStructure, $"adds a constant {after}; supported: an Add as the bias of a dense layer, right after its MatMul or Gemm");
            }

            long? legacyAxis = null;
            if (opset < 7)
            {
                if (Int(node, "broadcast", 0, error) != 1)
                {
                    throw error(OnnxImportError.UnsupportedStructure, "adds without broadcast = 1, so its constant has the full [batch, width] shape, which is not a bias");
                }

                legacyAxis = node.Attribute.Any(t => t.Name == "axis") ? Int(node, "axis", 0, error) : null;
            }

            AddBias(_steps[^1], (a.Constant is null ? b : a), x.FeatureMajor, 1f, legacyAxis, error);

            // Values of this step computed before the bias no longer are what the chain computes.
            foreach (KeyValuePair<string, Value> entry in _values.Where(v => v.Value.Constant is null && v.Value.Step == _steps.Count).ToArray())
            {
                _values[entry.Key] = new Value { Step = entry.Value.Step, SampleDims = entry.Value.SampleDims, FeatureMajor = entry.Value.FeatureMajor, Stale = true };
            }

            return new Value { Step = _steps.Count, SampleDims = x.SampleDims, FeatureMajor = x.FeatureMajor };
        }

        /// <summary>Adds a constant broadcast over the batch to the biases of <paramref name="step"/>; any other broadcast is refused.</summary>
        private static void AddBias(NetworkStep step, Value value, bool featureMajor, float beta, long? legacyAxis, Func<OnnxImportError, string, OnnxImportException> error)
        {
            if (value.Constant is not { } c)
            {
                throw error(OnnxImportError.UnsupportedStructure, "its bias is computed from the input; a bias is a constant (an initializer)");
            }

            if (c.Floats is null)
            {
                throw error(OnnxImportError.UnsupportedTensor, $"its bias '{c.Name}' is an int64 tensor; a bias is float32");
            }

            int width = step.Width;
            long[] d = c.Dims;
            bool scalar = c.Floats.Length == 1 && d.All(x => x == 1);
            bool vector = featureMajor
                ? (d.Length == 2 && d[0] == width && d[1] == 1) || (legacyAxis == 0 && d.Length == 1 && d[0] == width)
                : (d.Length == 1 && d[0] == width && legacyAxis is null or 1) || (d.Length == 2 && d[0] == 1 && d[1] == width && legacyAxis is null or 0);
            if (!scalar && !vector)
            {
                string expected = featureMajor ? $"[{width}, 1]" : $"[{width}] or [1, {width}]";
                throw error(OnnxImportError.UnsupportedStructure,
                    $"adds '{c.Name}' of shape {c.Shape}{(legacyAxis is null ? "" : $" at axis {legacyAxis}")} to values of shape {(featureMajor ? $"[{width}, batch]" : $"[batch, {width}]")}: a broadcast that is not a bias (expected {expected} or a single value)");
            }

            for (int j = 0; j < width; j++)
            {
                step.Biases[j] += beta * c.Floats[scalar ? 0 : j];
            }

            step.HasBias = true;
        }

        private static Value Transpose(NodeProto node, Value x, string output, Func<OnnxImportError, string, OnnxImportException> error)
        {
            long[]? perm = node.Attribute.FirstOrDefault(a => a.Name == "perm") is { } p ? Ints(p, error) : null;
            int rank = x.Constant?.Rank ?? x.SampleDims.Length + 1;
            bool swap = rank == 2 && (perm is null || (perm.Length == 2 && perm[0] == 1 && perm[1] == 0));
            bool keep = perm is not null && perm.Select((v, i) => v == i).All(b => b) && perm.Length == rank;
            if (!swap && !keep)
            {
                throw error(OnnxImportError.UnsupportedStructure,
                    $"permutes a {rank}-D {(x.Constant is null ? "value" : "constant")} by {(perm is null ? "reversing its axes" : Tensors.Shape(perm))}; supported: swapping the two axes of a 2-D tensor");
            }

            if (keep)
            {
                return x;
            }

            if (x.Constant is { } c)
            {
                if (c.Floats is null)
                {
                    throw error(OnnxImportError.UnsupportedTensor, $"transposes the int64 tensor '{c.Name}'; only float32 weights are transposed");
                }

                long rows = c.Dims[0], columns = c.Dims[1];
                var t = new float[c.Floats.Length];
                for (long i = 0; i < rows; i++)
                {
                    for (long j = 0; j < columns; j++)
                    {
                        t[(j * rows) + i] = c.Floats[(i * columns) + j];
                    }
                }

                // Keeps the initializer's name: a weight read transposed is still that initializer (tied weights).
                return new Value { Constant = new Constant(c.Name, [columns, rows], t, null) };
            }

            return new Value { Step = x.Step, SampleDims = x.SampleDims, FeatureMajor = !x.FeatureMajor };
        }

        private static Value Flatten(NodeProto node, Value x, Func<OnnxImportError, string, OnnxImportException> error)
        {
            int rank = x.SampleDims.Length + 1;
            long axis = node.Attribute.Any(a => a.Name == "axis") ? Int(node, "axis", 1, error) : 1;
            if (axis < 0)
            {
                axis += rank;
            }

            if (x.FeatureMajor || axis < 1 || axis > rank || x.SampleDims.Take((int)axis - 1).Any(d => d != 1))
            {
                throw error(OnnxImportError.UnsupportedStructure,
                    $"with axis {axis} merges the batch of its {x.Shape} input with other axes; supported: flattening each sample (axis 1)");
            }

            return new Value { Step = x.Step, SampleDims = [x.Width] };
        }

        private Value Reshape(NodeProto node, Value x, Value shape, Func<OnnxImportError, string, OnnxImportException> error)
        {
            if (shape.Constant?.Longs is not { } target || shape.Constant.Rank != 1)
            {
                throw error(OnnxImportError.UnsupportedStructure, "its shape is not a constant 1-D int64 tensor");
            }

            bool allowZero = node.Attribute.Any(a => a.Name == "allowzero") && Int(node, "allowzero", 0, error) != 0;
            string Bad(string why) => $"reshapes {x.Shape} to {Tensors.Shape(target)}: {why}; supported: reshapes that keep the batch first and each sample's values in order";
            if (x.FeatureMajor || target.Length < 2)
            {
                throw error(OnnxImportError.UnsupportedStructure, Bad("the batch does not stay the first axis"));
            }

            bool batchKept = (target[0] == 0 && !allowZero) || target[0] == -1 || (_batch is long b && target[0] == b);
            if (!batchKept)
            {
                throw error(OnnxImportError.UnsupportedStructure, Bad("the first axis is not the batch"));
            }

            long width = x.Width;
            var rest = new long[target.Length - 1];
            int inferred = -1;
            long known = 1;
            for (int i = 1; i < target.Length; i++)
            {
                long d = target[i];
                if (d == 0 && !allowZero)
                {
                    if (i > x.SampleDims.Length)
                    {
                        throw error(OnnxImportError.UnsupportedStructure, Bad($"axis {i} copies a dimension the input does not have"));
                    }

                    d = x.SampleDims[i - 1];
                }

                if (d == -1)
                {
                    if (inferred >= 0 || target[0] == -1)
                    {
                        throw error(OnnxImportError.UnsupportedStructure, Bad("more than one dimension is inferred"));
                    }

                    inferred = i - 1;
                    continue;
                }

                if (d <= 0)
                {
                    throw error(OnnxImportError.UnsupportedStructure, Bad($"dimension {d} at axis {i}"));
                }

                if (d > width)
                {
                    throw error(OnnxImportError.UnsupportedStructure, Bad($"a sample has {width} values"));
                }

                rest[i - 1] = d;
                known *= d;
                if (known > width)
                {
                    throw error(OnnxImportError.UnsupportedStructure, Bad($"a sample has {width} values"));
                }
            }

            if (inferred >= 0)
            {
                if (width % known != 0)
                {
                    throw error(OnnxImportError.UnsupportedStructure, Bad($"a sample has {width} values"));
                }

                rest[inferred] = width / known;
            }
            else if (known != width)
            {
                throw error(OnnxImportError.UnsupportedStructure, Bad($"a sample has {width} values"));
            }

            return new Value { Step = x.Step, SampleDims = rest };
        }

        private static Constant ConstantOf(NodeProto node, string output, string source, Func<OnnxImportError, string, OnnxImportException> error)
        {
            if (node.Attribute.Count != 1)
            {
                throw error(OnnxImportError.Malformed, $"has {node.Attribute.Count} attributes; a Constant has exactly one value");
            }

            AttributeProto a = node.Attribute[0];
            return a.Name switch
            {
                "value" when a.T is not null => Tensors.Read(a.T, output, source, $"node '{node.Name}' (Constant) value"),
                "value_float" => new Constant(output, [], [a.F], null),
                "value_floats" => new Constant(output, [a.Floats.Count], a.Floats.ToArray(), null),
                "value_int" => new Constant(output, [], null, [a.I]),
                "value_ints" => new Constant(output, [a.Ints.Count], null, a.Ints.ToArray()),
                _ => throw error(OnnxImportError.Malformed, $"attribute '{a.Name}' holds no value"),
            };
        }

        private static long[] Ints(AttributeProto attribute, Func<OnnxImportError, string, OnnxImportException> error)
            => attribute.Type is AttributeProto.Types.AttributeType.Ints or AttributeProto.Types.AttributeType.Undefined
                ? attribute.Ints.ToArray()
                : throw error(OnnxImportError.Malformed, $"attribute '{attribute.Name}' is {attribute.Type}, not INTS");

        private static long Int(NodeProto node, string name, long fallback, Func<OnnxImportError, string, OnnxImportException> error)
        {
            AttributeProto? a = node.Attribute.LastOrDefault(t => t.Name == name);
            if (a is null)
            {
                return fallback;
            }

            return a.Type is AttributeProto.Types.AttributeType.Int or AttributeProto.Types.AttributeType.Undefined
                ? a.I
                : throw error(OnnxImportError.Malformed, $"attribute '{name}' is {a.Type}, not INT");
        }

        private static float Float(NodeProto node, string name, float fallback, Func<OnnxImportError, string, OnnxImportException> error)
        {
            AttributeProto? a = node.Attribute.LastOrDefault(t => t.Name == name);
            if (a is null)
            {
                return fallback;
            }

            if (a.Type is not (AttributeProto.Types.AttributeType.Float or AttributeProto.Types.AttributeType.Undefined))
            {
                throw error(OnnxImportError.Malformed, $"attribute '{name}' is {a.Type}, not FLOAT");
            }

            return float.IsFinite(a.F) ? a.F : throw error(OnnxImportError.UnsupportedTensor, $"attribute '{name}' is {a.F.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
