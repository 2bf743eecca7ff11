using System.Globalization;
using System.Text;

namespace EdgeAe.Onnx;

/// <summary>Writes the C# declaration of an imported model (docs/declaration.md): the attributes on a partial class.</summary>
internal static class DeclarationWriter
{
    public static string Write(AutoencoderData data, DenseNetwork network, OnnxImportOptions options, string weightsFileName, uint weightsChecksum, IReadOnlyList<string> notes)
    {
        var s = new StringBuilder();
        s.Append("// An EdgeAe autoencoder imported from ONNX by EdgeAe.Onnx (docs/onnx.md).\n");
        s.Append(CultureInfo.InvariantCulture, $"// Source: {Sanitize(Path.GetFileName(network.Source))}, graph '{Sanitize(network.GraphName)}', opset {network.Opset}{(network.Producer.Length > 0 ? ", written by " + Sanitize(network.Producer) : "")}.\n");
        s.Append(CultureInfo.InvariantCulture, $"// Topology: {data.Describe()}.\n");
        foreach (string note in notes)
        {
            s.Append("// ").Append(Sanitize(note)).Append(".\n");
        }

        weightsFileName = Sanitize(weightsFileName);
        // The CRC-32 ties the declaration to the file written with it: a weight file replaced since (or an import killed
        // between its two renames, docs/cli.md) shows another CRC-32 in edgeae inspect.
        s.Append(CultureInfo.InvariantCulture, $"// Weights: {weightsFileName}, written with this declaration: CRC-32 0x{weightsChecksum:X8} (edgeae inspect prints a weight file's).\n");
        s.Append("// Load them with WeightFile.Load, or --weights on the command line. To bake them into the code,\n");
        s.Append(CultureInfo.InvariantCulture, $"// add Weights = \"{weightsFileName}\" below and <AdditionalFiles Include=\"{weightsFileName}\" /> to the project.\n");
        s.Append("using EdgeAe;\n\n");
        bool scoped = !string.IsNullOrEmpty(options.Namespace);
        if (scoped)
        {
            s.Append("namespace ").Append(options.Namespace).Append(";\n\n");
        }

        s.Append(CultureInfo.InvariantCulture, $"[Autoencoder(Input = {data.InputSize}, Loss = Loss.{data.Loss}{(data.TiedWeights ? ", TiedWeights = true" : "")}, Seed = {options.Seed})]\n");
        for (int l = 0; l < data.Layers.Count; l++)
        {
            DenseLayer layer = data.Layers[l];
            string attribute = layer.Role switch
            {
                LayerRole.Encoder => $"[Encoder({layer.Width}, Activation.{layer.Activation})]",
                LayerRole.Code => $"[Code({layer.Width}, Activation.{layer.Activation})]",
                LayerRole.Decoder => $"[Decoder({layer.Width}, Activation.{layer.Activation})]",
                _ => $"[Output(Activation.{layer.Activation})]",
            };
            NetworkStep source = network.Steps.Where(st => st.Kind == StepKind.Dense).ElementAt(l);
            s.Append(attribute.PadRight(40)).Append(CultureInfo.InvariantCulture, $"// layer {l}: {layer.InputWidth}→{layer.Width}, {Sanitize(source.Describe())}\n");
        }

        s.Append("public partial class ").Append(options.ClassName).Append(";\n");
        return s.ToString();
    }

    /// <summary>A C# identifier from a file name: <c>my-model.cs</c> → <c>MyModel</c>, <c>1ae</c> → <c>Model1ae</c>.</summary>
    public static string ClassNameFor(string path)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        var name = new StringBuilder();
        bool upper = true;
        foreach (char c in stem)
        {
            if (char.IsLetterOrDigit(c) || c == '_')
            {
                name.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }
            else
            {
                upper = true;
            }
        }

        if (name.Length == 0 || char.IsDigit(name[0]))
        {
            name.Insert(0, "Model");
        }

        // loss.cs → LossModel: a class named Loss would hide EdgeAe.Loss in its own declaration.
        if (Hidden.Contains(name.ToString()))
        {
            name.Append("Model");
        }

        return name.ToString();
    }

    /// <summary>
    /// The names the declaration resolves through <c>using EdgeAe;</c>: a class or a namespace of that name in the
    /// declaration's scope would hide them (<c>Loss.SquaredError</c> would name a member of the class), and a class named
    /// <c>EdgeAe</c> hides the namespace itself, so such a declaration does not compile.
    /// </summary>
    public static readonly IReadOnlySet<string> Hidden = new HashSet<string>(StringComparer.Ordinal) { "EdgeAe", "Loss", "Activation" };

    /// <summary>Whether <paramref name="name"/> is a plain C# identifier that is not a keyword (letters, digits, '_').</summary>
    public static bool IsIdentifier(string name)
        => name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_') && !Keywords.Contains(name);

    // Node names come from the file: keep comments on one line.
    private static string Sanitize(string text) => new(text.Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c).ToArray());

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue", "decimal", "default",
        "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally", "fixed", "float", "for", "foreach", "goto",
        "if", "implicit", "in", "int", "interface", "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out",
        "override", "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc",
        "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    };
}
