using System.ComponentModel;
using EdgeAe.Cli.Files;
using EdgeAe.Generators.Baking;
using EdgeAe.Generators.Emitting;
using EdgeAe.Generators.Helpers;
using EdgeAe.Generators.Model;
using EdgeAe.IO;
using EdgeAe.Onnx;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal sealed class ExportSettings : CommonSettings
{
    [CommandOption("--model <FILE>")]
    [Description("A C# file declaring one [[Autoencoder]] class; default: the built-in DigitsAe.")]
    public string? Model { get; set; }

    [CommandOption("--target <NAME>")]
    [Description("Flavour of the generated code: desktop or nanoframework (firmware).")]
    [DefaultValue("desktop")]
    public string Target { get; set; } = "desktop";

    [CommandOption("--weights <FILE>")]
    [Description("A weight file (.eaw) to bake into the code, so the model needs no file at run time.")]
    public string? Weights { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("Where to write the generated C# (e.g. Model.g.cs); default: standard output.")]
    public string? Out { get; set; }

    [CommandOption("--onnx <FILE>")]
    [Description("Instead of C#: write the model of --weights as an ONNX graph (float32, or a QDQ graph for an int8 file) for ONNX Runtime; docs/onnx.md.")]
    public string? Onnx { get; set; }

    [CommandOption("--part <NAME>")]
    [Description("With --onnx: autoencoder (input → reconstruction and code), encoder (input → code) or decoder (code → reconstruction).")]
    [DefaultValue("autoencoder")]
    public string Part { get; set; } = "autoencoder";

    public OnnxGraphPart ParsedPart => Enum.TryParse(Part, ignoreCase: true, out OnnxGraphPart part) && Enum.IsDefined(part) ? part : (OnnxGraphPart)(-1);

    public override IEnumerable<FileArgument> Files =>
    [
        .. FileArgument.Declaration("--model", Model),
        FileArgument.Input("--weights", Weights, "weight file"),
        FileArgument.Output("--out", Out, "source file"),
        FileArgument.Output("--onnx", Onnx, "ONNX file"),
    ];

    public override ValidationResult Validate()
    {
        if (Json && Out is null && Onnx is null)
        {
            return ValidationResult.Error("--json needs --out or --onnx: without them the generated source is what export prints");
        }

        if (Onnx is not null && Weights is null)
        {
            return ValidationResult.Error("--onnx needs --weights <FILE> (the weight file holds the parameters to export)");
        }

        if (Onnx is not null && Out is not null)
        {
            return ValidationResult.Error("--out writes C# source and --onnx an ONNX graph; give one of them");
        }

        if (!Enum.IsDefined(ParsedPart) || int.TryParse(Part, out _))
        {
            return Invalid("--part", Part, "expected autoencoder, encoder or decoder");
        }

        return ExportCommand.Targets.ContainsKey(Target)
            ? base.Validate()
            : Invalid("--target", Target, $"expected one of: {string.Join(", ", ExportCommand.Targets.Keys)}");
    }
}

/// <summary>
/// <c>edgeae export</c>: runs the generator on the declaration and writes the emitted source of the
/// requested flavour (the same pure function of topology and flavour the generator uses); with <c>--onnx</c>,
/// writes the weight file's model as an ONNX graph instead.
/// </summary>
internal sealed class ExportCommand(CliEnvironment environment) : EdgeAeCommand<ExportSettings>(environment)
{
    /// <summary>Flavours the generator emits, by --target name. A new flavour is one line here.</summary>
    public static readonly IReadOnlyDictionary<string, TargetFlavor> Targets = new Dictionary<string, TargetFlavor>(StringComparer.OrdinalIgnoreCase)
    {
        ["desktop"] = TargetFlavor.Desktop,
        ["nanoframework"] = TargetFlavor.NanoFramework,
    };

    protected override int Run(ExportSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Onnx is not null)
        {
            return ExportOnnx(settings);
        }

        string path = settings.Model ?? "DefaultModel.cs (built-in)";
        string source = settings.Model is null ? ModelHandle.BuiltInDeclaration : ModelCompiler.ReadDeclaration(settings.Model);
        GeneratorOutput output = ModelCompiler.Generate(source, settings.Model is null ? path : Path.GetFullPath(settings.Model), flavor: Targets[settings.Target], weightsGiven: settings.Weights is not null);
        ModelCompiler.Check(output, path);
        TopologySpec spec = output.Specs.Single();
        BakedWeights? baked = settings.Weights is not null ? Bake(spec, settings.Weights) : output.Baked.GetValueOrDefault(spec.FullName);
        if (baked?.Int8 is { } int8 && Targets[settings.Target] == TargetFlavor.Desktop)
        {
            // An int8 file becomes firmware code; the desktop runs it through the model's Int8 companion at run time.
            string refusal = int8.DesktopRefusal.ToDiagnostic().GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            throw new CliException((settings.Weights is null ? refusal : AsOption(refusal, settings.Weights, baked.FileName)) + "; export it with --target nanoframework");
        }

        string generated = ModelEmitter.Emit(spec, Targets[settings.Target], baked);
        if (settings.Out is null)
        {
            Environment.OutputConsole.Profile.Out.Writer.Write(generated);
            return CommandLine.Success;
        }

        string outPath = Path.GetFullPath(settings.Out);
        OutputFile.WriteText(outPath, writer => writer.Write(generated));
        int lines = generated.Count(c => c == '\n') + (generated.EndsWith('\n') ? 0 : 1); // the source ends with a newline
        Environment.Line($"{spec.FullName} ({settings.Target} flavour{(baked is null ? string.Empty : $", {(baked.Int8 is null ? "float32" : "int8")} weights baked from " + baked.FileName)}, {lines:N0} lines) → {outPath}");
        Environment.WriteJson(new ExportReport("export", spec.FullName, settings.Target.ToLowerInvariant(), baked?.FileName, lines, outPath), ReportJson.Default.ExportReport);
        return CommandLine.Success;
    }

    /// <summary>
    /// The weight file as an ONNX graph. The file holds the topology, so no declaration is needed; with --model the
    /// file is first checked against the declaration (as baking checks it) and the graph is named after its class.
    /// </summary>
    private int ExportOnnx(ExportSettings settings)
    {
        string weights = settings.Weights!, onnx = settings.Onnx!;
        string? name = null;
        if (settings.Model is not null)
        {
            GeneratorOutput output = ModelCompiler.Generate(ModelCompiler.ReadDeclaration(settings.Model), Path.GetFullPath(settings.Model), weightsGiven: true);
            ModelCompiler.Check(output, settings.Model);
            TopologySpec spec = output.Specs.Single();
            Bake(spec, weights);
            name = spec.FullName;
        }

        var options = new OnnxExportOptions { Part = settings.ParsedPart, GraphName = name };
        byte[] bytes = OnnxExporter.ExportWeightFile(weights, options);
        OutputFile.Write(onnx, stream => stream.Write(bytes));
        WeightFileInfo info = WeightFile.Read(weights);
        (string inputs, string outputs) = options.Part switch
        {
            OnnxGraphPart.Encoder => (OnnxExporter.InputName, OnnxExporter.CodeName),
            OnnxGraphPart.Decoder => (OnnxExporter.CodeName, OnnxExporter.ReconstructionName),
            _ => (OnnxExporter.InputName, $"{OnnxExporter.ReconstructionName}', '{OnnxExporter.CodeName}"),
        };
        Environment.Line($"{name ?? weights}: {info.Topology} → {Path.GetFullPath(onnx)} (ONNX opset {options.Opset}, {(info.IsInt8 ? "int8 as a QDQ graph" : "float32")}, {options.Part.ToString().ToLowerInvariant()}: input '{inputs}' → output '{outputs}', {bytes.Length:N0} bytes)");
        Environment.WriteJson(new ExportReport("export", name ?? weights, "onnx-" + options.Part.ToString().ToLowerInvariant(), Path.GetFileName(weights), 0, Path.GetFullPath(onnx)), ReportJson.Default.ExportReport);
        return CommandLine.Success;
    }

    /// <summary>The weight file's parameters checked against the declaration exactly as the generator checks AdditionalFiles.</summary>
    private static BakedWeights Bake(TopologySpec spec, string weightsPath)
    {
        string name = Path.GetFileName(weightsPath);
        var content = new WeightFileContent(name, new EquatableArray<byte>(File.ReadAllBytes(weightsPath)), null);
        BakeResult result = WeightBaker.Bake(new BakeRequest(spec with { Weights = name }, null), new[] { content }.ToEquatableArray(), CancellationToken.None);
        if (result.Weights is null)
        {
            throw new CliException(string.Join("; ", result.Diagnostics.Select(d => AsOption(d.ToDiagnostic().GetMessage(System.Globalization.CultureInfo.InvariantCulture), weightsPath, name))));
        }

        return result.Weights;
    }

    /// <summary>
    /// A baking diagnostic about a file given with --weights: the generator's messages name the declaration's
    /// <c>[Autoencoder] Weights = "…"</c>, which the user did not write; the message names the option instead.
    /// </summary>
    private static string AsOption(string message, string weightsPath, string name)
    {
        string attribute = $"[Autoencoder] Weights = \"{name}\"";
        return message.StartsWith(attribute, StringComparison.Ordinal)
            ? $"--weights {weightsPath}" + message[attribute.Length..]
            : $"--weights {weightsPath}: " + message;
    }
}
