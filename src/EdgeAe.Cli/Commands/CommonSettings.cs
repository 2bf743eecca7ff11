using System.ComponentModel;
using System.Globalization;
using EdgeAe.Cli.Files;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

/// <summary>Options every command has.</summary>
internal class CommonSettings : CommandSettings
{
    [CommandOption("--verbose")]
    [Description("Print the stack trace of an error (and, with --model, where the compile time goes).")]
    public bool Verbose { get; set; }

    [CommandOption("--json")]
    [Description("Print the results as one JSON object on standard output (keys in docs/cli.md); everything for people goes to standard error.")]
    public bool Json { get; set; }

    /// <summary>The files the command reads and writes, checked before any work (<see cref="CommandFiles"/>).</summary>
    public virtual IEnumerable<FileArgument> Files => [];

    /// <summary>A parse error for an option value, as Spectre reports it (exit code 2).</summary>
    protected static ValidationResult Invalid(string option, string value, string expected)
        => ValidationResult.Error($"invalid value '{value}' for {option} ({expected})");
}

/// <summary>Options of the commands that take a model declaration and a data file.</summary>
internal class ModelDataSettings : CommonSettings
{
    [CommandOption("--model <FILE>")]
    [Description("A C# file declaring one [[Autoencoder]] class (docs/declaration.md); default: the built-in DigitsAe. Its code runs in this process (docs/cli.md, trust).")]
    public string? Model { get; set; }

    [CommandOption("--data <FILE>")]
    [Description("IDX images or CSV (optionally gzipped); default: the bundled UCI digits, for models of 64 inputs.")]
    public string? Data { get; set; }

    [CommandOption("--label-column <N>")]
    [Description("CSV: index of a label column to drop (negative counts from the end, -1 = last).")]
    public int? LabelColumn { get; set; }

    [CommandOption("--header <BOOL>")]
    [Description("CSV: true if the first row is a header, false if not; default: detected (a header when every cell is text).")]
    public string? Header { get; set; }

    [CommandOption("--delimiter <CHAR>")]
    [Description("CSV: the field separator: one character, or tab, space, comma, semicolon.")]
    [DefaultValue(",")]
    public string Delimiter { get; set; } = ",";

    [CommandOption("--skip-rows <N>")]
    [Description("CSV: lines to skip at the top before the header or the first row (a banner, comments).")]
    [DefaultValue(0)]
    public int SkipRows { get; set; }

    public DataFileOptions DataOptions => new(LabelColumn, ParseBool(Header), ParseDelimiter(Delimiter) ?? ',', SkipRows);

    /// <summary>The data files the CSV options apply to: <c>--data</c>, and in some commands a second one.</summary>
    protected virtual IEnumerable<string?> DataFiles => [Data];

    /// <summary>
    /// The CSV options for reading <paramref name="path"/>, marked as read by another file when another of
    /// <see cref="DataFiles"/> is CSV (so a cache or IDX file beside a CSV file does not refuse them).
    /// </summary>
    public DataFileOptions DataOptionsFor(string? path)
        => DataOptions with { ReadByAnotherFile = DataFiles.Any(file => file is not null && file != path && DataLoader.IsCsv(file)) };

    public override IEnumerable<FileArgument> Files =>
    [
        .. FileArgument.Declaration("--model", Model),
        FileArgument.Input("--data", Data, "data file"),
    ];

    public override ValidationResult Validate()
    {
        if (Header is not null && ParseBool(Header) is null)
        {
            return Invalid("--header", Header, "expected true or false");
        }

        if (ParseDelimiter(Delimiter) is null)
        {
            return Invalid("--delimiter", Delimiter, "expected one character that cannot be part of a number, or tab, space, comma, semicolon");
        }

        if (SkipRows < 0)
        {
            return Invalid("--skip-rows", SkipRows.ToString(CultureInfo.InvariantCulture), "expected 0 or more");
        }

        return base.Validate();
    }

    protected static bool? ParseBool(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "1" => true,
        "false" or "no" or "0" => false,
        _ => null,
    };

    /// <summary>The separator <paramref name="text"/> names, or null when it names none usable.</summary>
    protected static char? ParseDelimiter(string text) => text.ToLowerInvariant() switch
    {
        "tab" or "\\t" or "\t" => '\t',
        "space" => ' ',
        "comma" => ',',
        "semicolon" => ';',
        _ when text.Length == 1 && !char.IsAsciiDigit(text[0]) && text[0] is not ('.' or '-' or '+' or 'e' or 'E' or '\r' or '\n') => text[0],
        _ => null,
    };

    protected static bool TryParseFloat(string text, out float value)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
}

/// <summary>
/// The base of every command: before <see cref="Run"/>, the files the settings name are checked (<see cref="CommandFiles"/>)
/// and <c>--json</c> switches human output to standard error.
/// </summary>
internal abstract class EdgeAeCommand<TSettings>(CliEnvironment environment) : Command<TSettings>
    where TSettings : CommonSettings
{
    protected CliEnvironment Environment { get; } = environment;

    public sealed override int Execute(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        Environment.Json = settings.Json;
        Environment.Verbose = settings.Verbose;
        CommandFiles.Check(settings.Files);
        return Run(settings, cancellationToken);
    }

    protected abstract int Run(TSettings settings, CancellationToken cancellationToken);
}
