using System.ComponentModel;
using EdgeAe.Generators.Emitting;
using EdgeAe.Generators.Model;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

internal sealed class ExportSettings : CommonSettings
{
    [CommandOption("--model <FILE>")]
    [Description("A C# file declaring one [[Autoencoder]] class; default: the built-in DigitsAe.")]
    public string? Model { get; set; }

    [CommandOption("--target <NAME>")]
    [Description("Flavour of the generated code: desktop.")]
    [DefaultValue("desktop")]
    public string Target { get; set; } = "desktop";

    [CommandOption("--out <FILE>")]
    [Description("Where to write the generated C# (e.g. Model.g.cs); default: standard output.")]
    public string? Out { get; set; }

    public override ValidationResult Validate()
    {
        if (ExportCommand.Targets.ContainsKey(Target))
        {
            return base.Validate();
        }

        return ExportCommand.Unavailable.Contains(Target, StringComparer.OrdinalIgnoreCase)
            ? ValidationResult.Error($"--target {Target}: the firmware flavour is not available in this version of EdgeAe (available: {string.Join(", ", ExportCommand.Targets.Keys)})")
            : Invalid("--target", Target, $"expected one of: {string.Join(", ", ExportCommand.Targets.Keys)}");
    }
}

/// <summary>
/// <c>edgeae export</c>: runs the generator on the declaration and writes the emitted source of the
/// requested flavour (the same pure function of topology and flavour the generator uses).
/// </summary>
internal sealed class ExportCommand(CliEnvironment environment) : Command<ExportSettings>
{
    /// <summary>Flavours the generator emits, by --target name. A new flavour is one line here.</summary>
    public static readonly IReadOnlyDictionary<string, TargetFlavor> Targets = new Dictionary<string, TargetFlavor>(StringComparer.OrdinalIgnoreCase)
    {
        ["desktop"] = TargetFlavor.Desktop,
    };

    /// <summary>Flavours that are planned but not emitted yet (rejected with a clear message).</summary>
    public static readonly IReadOnlyList<string> Unavailable = ["nanoframework"];

    public override int Execute(CommandContext context, ExportSettings settings, CancellationToken cancellationToken)
    {
        string path = settings.Model ?? "DefaultModel.cs (built-in)";
        string source = settings.Model is null ? ModelHandle.BuiltInDeclaration : ModelCompiler.ReadDeclaration(settings.Model);
        GeneratorOutput output = ModelCompiler.Generate(source, settings.Model is null ? path : Path.GetFullPath(settings.Model));
        ModelCompiler.Check(output, path);
        TopologySpec spec = output.Specs.Single();
        string generated = ModelEmitter.Emit(spec, Targets[settings.Target]);
        if (settings.Out is null)
        {
            environment.Console.Profile.Out.Writer.Write(generated);
            return CommandLine.Success;
        }

        string outPath = Path.GetFullPath(settings.Out);
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        File.WriteAllText(outPath, generated);
        environment.Line($"{spec.FullName} ({settings.Target} flavour, {generated.Split('\n').Length:N0} lines) → {outPath}");
        return CommandLine.Success;
    }
}
