using System.ComponentModel;
using EdgeAe.Cli.Files;
using EdgeAe.Onnx;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal sealed class ImportSettings : CommonSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The ONNX model (.onnx) of a dense autoencoder (docs/onnx.md lists the supported subset).")]
    public string File { get; set; } = "";

    [CommandOption("--out <FILE>")]
    [Description("Where to write the EdgeAe declaration (C#, e.g. Model.cs); the class is named after the file unless --name is given.")]
    public string? Out { get; set; }

    [CommandOption("--weights <FILE>")]
    [Description("Where to write the weight file (.eaw) that goes with the declaration.")]
    public string? Weights { get; set; }

    [CommandOption("--code-layer <N>")]
    [Description("Index of the code layer among the dense layers (0 = the first); needed unless the graph marks its code (a second output, or EdgeAe metadata).")]
    public int? CodeLayer { get; set; }

    [CommandOption("--code-output <NAME>")]
    [Description("Or: the name of the value the code layer produces (a graph output or an intermediate value).")]
    public string? CodeOutput { get; set; }

    [CommandOption("--loss <NAME>")]
    [Description("bce (binary cross-entropy, needs a Sigmoid output) or se (squared error); default: bce for a Sigmoid output, se otherwise.")]
    public string? Loss { get; set; }

    [CommandOption("--name <CLASS>")]
    [Description("The declared class's name; default: from --out (Model.cs → Model).")]
    public string? Name { get; set; }

    [CommandOption("--namespace <NAME>")]
    [Description("The declaration's namespace; default: none.")]
    public string? Namespace { get; set; }

    public override IEnumerable<FileArgument> Files =>
    [
        FileArgument.Input("the ONNX file", File, "ONNX file"),
        FileArgument.Output("--out", Out, "declaration"),
        FileArgument.Output("--weights", Weights, "weight file"),
    ];

    public LossKind? ParsedLoss => Loss?.Trim().ToLowerInvariant() switch
    {
        "bce" or "binarycrossentropy" => LossKind.BinaryCrossEntropy,
        "se" or "mse" or "squarederror" => LossKind.SquaredError,
        _ => null,
    };

    public override ValidationResult Validate()
    {
        if (Out is null)
        {
            return ValidationResult.Error("--out <FILE> is required (the declaration, e.g. Model.cs)");
        }

        if (Weights is null)
        {
            return ValidationResult.Error("--weights <FILE> is required (the weight file, e.g. model.eaw)");
        }

        if (Loss is not null && ParsedLoss is null)
        {
            return Invalid("--loss", Loss, "expected bce or se");
        }

        if (CodeLayer is not null && CodeOutput is not null)
        {
            return ValidationResult.Error("give either --code-layer or --code-output, not both");
        }

        return base.Validate();
    }
}

/// <summary>
/// <c>edgeae import</c>: an ONNX dense autoencoder → an EdgeAe declaration and a weight file (both or neither), which
/// then train, evaluate, bake and export like any other model.
/// </summary>
internal sealed class ImportCommand(CliEnvironment environment) : EdgeAeCommand<ImportSettings>(environment)
{
    protected override int Run(ImportSettings settings, CancellationToken cancellationToken)
    {
        string declaration = settings.Out!, weights = settings.Weights!;
        var options = new OnnxImportOptions
        {
            CodeLayer = settings.CodeLayer,
            CodeOutput = settings.CodeOutput,
            Loss = settings.ParsedLoss,
            ClassName = settings.Name ?? DeclarationWriter.ClassNameFor(declaration),
            Namespace = settings.Namespace,
        };
        ImportedModel model;
        try
        {
            model = OnnxImporter.Import(settings.File, options, weights);
            foreach (string output in new[] { declaration, weights })
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            }

            model.Save(declaration, weights);
        }
        catch (OnnxImportException e)
        {
            throw new CliException(e.Message, inner: e);
        }

        Environment.Line($"{settings.File}: {model.Topology}; {model.ParameterCount:N0} parameters");
        for (int i = 0; i < model.Layers.Count; i++)
        {
            ImportedLayer l = model.Layers[i];
            Environment.Line($"  layer {i} ({l.Role.ToString().ToLowerInvariant()}): {l.InputWidth} → {l.Width} {l.Activation}, from {l.Node}");
        }

        foreach (string note in model.Notes)
        {
            Environment.Line("  " + note);
        }

        Environment.Line($"→ {Path.GetFullPath(declaration)} (class {model.ClassName}) and {Path.GetFullPath(weights)} (CRC-32 0x{model.WeightFileChecksum:X8}, packet model id 0x{model.PacketModelId:X4})");
        return CommandLine.Success;
    }
}
