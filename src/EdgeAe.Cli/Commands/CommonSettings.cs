using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

/// <summary>Options every command has.</summary>
internal class CommonSettings : CommandSettings
{
    [CommandOption("--verbose")]
    [Description("Print the stack trace of an error.")]
    public bool Verbose { get; set; }

    /// <summary>A parse error for an option value, as Spectre reports it (exit code 2).</summary>
    protected static ValidationResult Invalid(string option, string value, string expected)
        => ValidationResult.Error($"invalid value '{value}' for {option} ({expected})");
}

/// <summary>Options of the commands that take a model declaration and a data file.</summary>
internal class ModelDataSettings : CommonSettings
{
    [CommandOption("--model <FILE>")]
    [Description("A C# file declaring one [[Autoencoder]] class (docs/declaration.md); default: the built-in DigitsAe.")]
    public string? Model { get; set; }

    [CommandOption("--data <FILE>")]
    [Description("IDX images or CSV (optionally gzipped); default: the bundled UCI digits.")]
    public string? Data { get; set; }

    [CommandOption("--label-column <N>")]
    [Description("CSV: index of a label column to drop (negative counts from the end, -1 = last).")]
    public int? LabelColumn { get; set; }

    [CommandOption("--header <BOOL>")]
    [Description("CSV: true if the first row is a header, false if not; default: detected.")]
    public string? Header { get; set; }

    public DataFileOptions DataOptions => new(LabelColumn, ParseBool(Header));

    public override ValidationResult Validate()
    {
        if (Header is not null && ParseBool(Header) is null)
        {
            return Invalid("--header", Header, "expected true or false");
        }

        return base.Validate();
    }

    protected static bool? ParseBool(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "1" => true,
        "false" or "no" or "0" => false,
        _ => null,
    };

    protected static bool TryParseFloat(string text, out float value)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
}
