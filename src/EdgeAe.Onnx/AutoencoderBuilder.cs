using System.Globalization;
using EdgeAe.Data;

namespace EdgeAe.Onnx;

/// <summary>
/// Turns a <see cref="DenseNetwork"/> into an autoencoder EdgeAe can declare: groups the steps into dense layers
/// (a product, a bias, at most one activation), finds the code layer, decides the loss and whether weights are tied.
/// </summary>
internal static class AutoencoderBuilder
{
    /// <summary>The metadata keys the builder reads itself (the others: <see cref="EdgeAeMetadata"/>).</summary>
    public const string LossKey = EdgeAeMetadata.LossKey;
    public const string CodeKey = EdgeAeMetadata.CodeKey;

    /// <summary>A grouped layer: its dense step, its activation step (or null) and the value names it ends at.</summary>
    private sealed record Grouped(NetworkStep Dense, NetworkStep? Activation, int EndStep)
    {
        public ActivationKind Kind => Activation?.Activation ?? ActivationKind.Linear;

        public string Describe(int index)
            => $"layer {index}: {Dense.InputWidth}→{Dense.Width} {Kind} ({Dense.Describe()}{(Activation is null ? "" : ", " + Activation.Describe())})";
    }

    public static (AutoencoderData Data, IReadOnlyList<string> Notes) Build(DenseNetwork network, OnnxImportOptions options)
    {
        string source = network.Source;
        var notes = new List<string>();
        List<Grouped> layers = Group(network);
        if (layers.Count < 2)
        {
            throw new OnnxImportException(OnnxImportError.NotAnAutoencoder,
                $"{source}: the graph has {layers.Count} dense layer(s) ({network}); an autoencoder has at least two (a code layer and an output layer)");
        }

        Grouped last = layers[^1];
        if (last.Dense.Width != network.InputWidth)
        {
            throw new OnnxImportException(OnnxImportError.NotAnAutoencoder,
                $"{source}: the last dense layer ({last.Dense.Describe()}) gives {last.Dense.Width} values but the input has {network.InputWidth}; an autoencoder reconstructs its input",
                last.Dense.Node, last.Dense.OpType);
        }

        // The reconstruction: the graph output the whole chain produces.
        NetworkOutput[] finals = network.Outputs.Where(o => o.Steps == network.Steps.Count).ToArray();
        if (finals.Length == 0)
        {
            throw new OnnxImportException(OnnxImportError.UnsupportedStructure,
                $"{source}: no graph output is the end of the chain ({last.Dense.Describe()}{(last.Activation is null ? "" : " → " + last.Activation.Describe())}); outputs: {string.Join(", ", network.Outputs.Select(o => "'" + o.Name + "'"))}");
        }

        int code = CodeLayer(network, layers, options, notes);
        foreach (NetworkOutput output in network.Outputs.Where(o => o.Steps != network.Steps.Count))
        {
            if (output.Steps != layers[code].EndStep)
            {
                throw new OnnxImportException(OnnxImportError.UnsupportedStructure,
                    $"{source}: graph output '{output.Name}' is neither the reconstruction nor the code (layer {code}'s output); EdgeAe imports graphs whose outputs are the reconstruction and, optionally, the code");
            }
        }

        LossKind loss = Loss(network, last, options, notes);
        var roles = new LayerRole[layers.Count];
        for (int l = 0; l < layers.Count; l++)
        {
            roles[l] = l < code ? LayerRole.Encoder : l == code ? LayerRole.Code : l == layers.Count - 1 ? LayerRole.Output : LayerRole.Decoder;
        }

        bool tied = Tied(layers, code, notes);
        long parameters = 0;
        var dense = new DenseLayer[layers.Count];
        for (int l = 0; l < layers.Count; l++)
        {
            NetworkStep d = layers[l].Dense;
            int tiedTo = tied && l > code ? code - (l - code - 1) : -1;
            CheckFinite(d, l, source);
            dense[l] = new DenseLayer(roles[l], d.InputWidth, d.Width, layers[l].Kind, d.Weights, d.Biases, tiedTo);
            parameters += (tiedTo >= 0 ? 0 : (long)d.InputWidth * d.Width) + d.Width;
        }

        if (parameters > Tensors.MaxElements)
        {
            throw new OnnxImportException(OnnxImportError.NotAnAutoencoder, $"{source}: the model has {parameters} parameters; EdgeAe declares at most {Tensors.MaxElements}");
        }

        var model = new AutoencoderData { InputSize = network.InputWidth, Loss = loss, TiedWeights = tied, Layers = dense };
        return (EdgeAeMetadata.Restore(network, model, notes), notes);
    }

    /// <summary>Dense step, optional activation; anything else is refused at the step that breaks the pattern.</summary>
    private static List<Grouped> Group(DenseNetwork network)
    {
        var layers = new List<Grouped>();
        IReadOnlyList<NetworkStep> steps = network.Steps;
        for (int s = 0; s < steps.Count; s++)
        {
            NetworkStep step = steps[s];
            if (step.Kind == StepKind.Activation)
            {
                string after = s == 0 ? "to the graph input" : $"right after {steps[s - 1].Describe()}";
                throw new OnnxImportException(OnnxImportError.NotAnAutoencoder,
                    $"node '{step.Node}' ({step.OpType}): an activation applied {after}; an EdgeAe layer is a dense product (Gemm, or MatMul + Add) followed by at most one activation",
                    step.Node, step.OpType);
            }

            NetworkStep? activation = s + 1 < steps.Count && steps[s + 1].Kind == StepKind.Activation ? steps[s + 1] : null;
            if (activation is not null)
            {
                s++;
            }

            layers.Add(new Grouped(step, activation, s + 1));
        }

        return layers;
    }

    private static int CodeLayer(DenseNetwork network, List<Grouped> layers, OnnxImportOptions options, List<string> notes)
    {
        string source = network.Source;
        string list = string.Join("; ", layers.Select((l, i) => l.Describe(i)));
        int last = layers.Count - 2;
        if (options.CodeLayer is int index)
        {
            if (options.CodeOutput is not null)
            {
                throw new OnnxImportException(OnnxImportError.InvalidOption, "give the code layer either by index or by output name, not both");
            }

            if (index < 0 || index > last)
            {
                throw new OnnxImportException(OnnxImportError.InvalidOption,
                    $"code layer {index} is out of range: the code is one of layers 0 to {last} (the last layer, {last + 1}, is the output); {list}");
            }

            notes.Add($"code: layer {index}, as given");
            return index;
        }

        if (options.CodeOutput is string name)
        {
            int found = LayerEndingAt(network, layers, name);
            if (found < 0)
            {
                string values = string.Join(", ", layers.Take(layers.Count - 1).Select((l, i) => $"layer {i}: '{EndName(network, l)}'"));
                string why = !network.Values.TryGetValue(name, out int step) ? "no value of the chain has that name"
                    : step == 0 ? "it is the graph input"
                    : step == layers[^1].EndStep ? "it is the output layer's output (the reconstruction)"
                    : "it lies inside a layer (before its activation)";
                throw new OnnxImportException(OnnxImportError.InvalidOption,
                    $"'{name}' is not the output of a layer before the output layer; {why}; layer outputs: {values}");
            }

            notes.Add($"code: layer {found}, the layer that produces '{name}'");
            return found;
        }

        if (network.Metadata.TryGetValue(CodeKey, out string? marked))
        {
            int found = LayerEndingAt(network, layers, marked);
            if (found < 0)
            {
                throw new OnnxImportException(OnnxImportError.NotAnAutoencoder, $"{source}: metadata {CodeKey} names '{marked}', which is not the output of a layer before the output layer");
            }

            notes.Add($"code: layer {found}, marked in the metadata ({CodeKey} = '{marked}')");
            return found;
        }

        NetworkOutput[] intermediate = network.Outputs.Where(o => o.Steps != network.Steps.Count).ToArray();
        if (intermediate.Length == 1)
        {
            int found = LayerEndingAt(network, layers, intermediate[0].Name);
            if (found >= 0)
            {
                notes.Add($"code: layer {found}, whose output '{intermediate[0].Name}' is a graph output beside the reconstruction");
                return found;
            }
        }

        if (layers.Count == 2)
        {
            notes.Add("code: layer 0 (the only layer before the output layer)");
            return 0;
        }

        throw new OnnxImportException(OnnxImportError.NotAnAutoencoder,
            $"{source}: the graph does not mark its code layer (a second graph output or metadata '{CodeKey}'); state it with --code-layer N (0 to {last}) or --code-output NAME; {list}");
    }

    /// <summary>The index of the layer (not the output layer) whose final value is named <paramref name="name"/>, or −1.</summary>
    private static int LayerEndingAt(DenseNetwork network, List<Grouped> layers, string name)
    {
        if (!network.Values.TryGetValue(name, out int step))
        {
            return -1;
        }

        for (int l = 0; l < layers.Count - 1; l++)
        {
            if (layers[l].EndStep == step)
            {
                return l;
            }
        }

        return -1;
    }

    private static string EndName(DenseNetwork network, Grouped layer)
        => network.Values.Where(v => v.Value == layer.EndStep).Select(v => v.Key).FirstOrDefault() ?? "?";

    private static LossKind Loss(DenseNetwork network, Grouped output, OnnxImportOptions options, List<string> notes)
    {
        ActivationKind activation = output.Kind;
        LossKind loss;
        if (options.Loss is LossKind given)
        {
            loss = given;
            notes.Add($"loss: {loss}, as given");
        }
        else if (network.Metadata.TryGetValue(LossKey, out string? stored))
        {
            if (!Enum.TryParse(stored, ignoreCase: false, out loss) || !Enum.IsDefined(loss))
            {
                throw new OnnxImportException(OnnxImportError.Malformed, $"{network.Source}: metadata {LossKey} is '{stored}'; expected BinaryCrossEntropy or SquaredError");
            }

            notes.Add($"loss: {loss}, from the metadata ({LossKey})");
        }
        else
        {
            loss = activation == ActivationKind.Sigmoid ? LossKind.BinaryCrossEntropy : LossKind.SquaredError;
            notes.Add(activation == ActivationKind.Sigmoid
                ? "loss: BinaryCrossEntropy, inferred from the Sigmoid output (ONNX stores no loss; a sigmoid output means inputs in [0, 1]); state --loss se for squared error"
                : $"loss: SquaredError, inferred from the {activation} output (ONNX stores no loss; binary cross-entropy needs a Sigmoid output)");
        }

        if (loss == LossKind.BinaryCrossEntropy && activation != ActivationKind.Sigmoid)
        {
            throw new OnnxImportException(OnnxImportError.NotAnAutoencoder,
                $"{network.Source}: binary cross-entropy needs a Sigmoid output, but the output layer's activation is {activation} ({output.Dense.Describe()}); use squared error",
                output.Dense.Node, output.Dense.OpType);
        }

        return loss;
    }

    /// <summary>Tied when every decoder layer reads its mirror's initializer, transposed (EdgeAe's only tying pattern).</summary>
    private static bool Tied(List<Grouped> layers, int code, List<string> notes)
    {
        bool shared = layers.Select(l => l.Dense.WeightSource).Where(s => s is not null).GroupBy(s => s).Any(g => g.Count() > 1);
        if (!shared)
        {
            return false;
        }

        bool mirrored = layers.Count == 2 * (code + 1);
        for (int t = 0; mirrored && t <= code; t++)
        {
            NetworkStep decoder = layers[code + 1 + t].Dense;
            NetworkStep mirror = layers[code - t].Dense;
            mirrored = decoder.WeightSource is not null && decoder.WeightSource == mirror.WeightSource
                && decoder.InputWidth == mirror.Width && decoder.Width == mirror.InputWidth
                && IsTranspose(decoder.Weights, mirror.Weights, mirror.InputWidth, mirror.Width);
        }

        notes.Add(mirrored
            ? "tied weights: every decoder layer reads its mirror encoder layer's initializer transposed"
            : "shared weights: some layers read the same initializer, but not in EdgeAe's tied pattern (each decoder layer its mirror's W, transposed); imported as separate copies");
        return mirrored;
    }

    private static bool IsTranspose(float[] decoder, float[] mirror, int rows, int columns)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                if (BitConverter.SingleToInt32Bits(mirror[(i * columns) + j]) != BitConverter.SingleToInt32Bits(decoder[(j * rows) + i]))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static void CheckFinite(NetworkStep dense, int layer, string source)
    {
        int w = Array.FindIndex(dense.Weights, v => !float.IsFinite(v));
        int b = Array.FindIndex(dense.Biases, v => !float.IsFinite(v));
        if (w >= 0 || b >= 0)
        {
            string which = w >= 0 ? $"W[{w / dense.Width}, {w % dense.Width}] = {dense.Weights[w].ToString(CultureInfo.InvariantCulture)}" : $"b[{b}] = {dense.Biases[b].ToString(CultureInfo.InvariantCulture)}";
            throw new OnnxImportException(OnnxImportError.UnsupportedTensor, $"{source}: layer {layer} ({dense.Describe()}) has a non-finite parameter: {which}", dense.Node, dense.OpType);
        }
    }
}
