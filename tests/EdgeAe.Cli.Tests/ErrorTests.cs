using System.Text.RegularExpressions;

namespace EdgeAe.Cli.Tests;

/// <summary>Errors a user hits: one line (plus diagnostics), a non-zero exit code, no stack trace unless --verbose.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Fact]
    public void Missing_files_are_one_line()
    {
        AssertOneLine(_tool.Run("train", "--model", _tool.PathOf("Missing.cs")), 1, "model declaration not found");
        AssertOneLine(_tool.Run("train", "--data", _tool.PathOf("missing.csv"), "--no-plots"), 1, "data file not found");
        AssertOneLine(_tool.Run("eval", "--weights", _tool.PathOf("missing.eaw")), 1, "weight file not found");
        AssertOneLine(_tool.Run("inspect", _tool.PathOf("missing.eaw")), 1, "weight file not found");
    }

    [Fact]
    public void A_declaration_that_does_not_compile_shows_generator_and_compiler_diagnostics_with_file_and_line()
    {
        string model = _tool.PathOf("Bad.cs");
        File.WriteAllText(model, Declarations.Broken);
        ToolRun run = _tool.Run("train", "--model", model);
        Assert.Equal(1, run.ExitCode);
        string[] lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"edgeae: {model} does not compile (2 errors)", lines[0]);
        Assert.Contains(lines, l => l.StartsWith($"{model}:5:", StringComparison.Ordinal) && l.Contains("error EAE", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"{model}:6:", StringComparison.Ordinal) && l.Contains("error CS0029", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Data_of_the_wrong_width_is_one_line()
    {
        string data = _tool.PathOf("narrow.csv");
        File.WriteAllLines(data, ["1,2,3,4,5,6,7,8,9,10", "10,9,8,7,6,5,4,3,2,1"]);
        AssertOneLine(_tool.Run("train", "--data", data, "--no-plots"), 1, "narrow.csv has 10 values per sample but DigitsAe takes 64 inputs");
    }

    [Fact]
    public void A_corrupt_weight_file_is_one_line()
    {
        string weights = _tool.PathOf("w.eaw");
        Assert.Equal(0, _tool.Run("train", "--epochs", "1", "--out", weights, "--no-plots").ExitCode);
        byte[] bytes = File.ReadAllBytes(weights);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(weights, bytes);

        AssertOneLine(_tool.Run("inspect", weights), 1, "checksum: MISMATCH");
        AssertOneLine(_tool.Run("eval", "--weights", weights), 1, "Cannot read weights from");
    }

    [Theory]
    [InlineData("invalid value 'foo' for --optimizer", "train", "--optimizer", "foo")]
    [InlineData("invalid value 'blur:3' for --corruption", "train", "--corruption", "blur:3")]
    [InlineData("invalid value '-1' for --lr", "train", "--lr", "-1")]
    [InlineData("invalid value 'maybe' for --header", "train", "--header", "maybe")]
    [InlineData("invalid value '1.5' for --validation-split", "train", "--validation-split", "1.5")]
    [InlineData("invalid value 'abc' for --epochs (expected an integer)", "train", "--epochs", "abc")]
    [InlineData("invalid value 'x' for --threads (expected an integer)", "train", "--threads=x")]
    [InlineData("invalid value 'last' for --label-column (expected an integer)", "prepare", "--data", "d.csv", "--label-column", "last", "--out", "d.f32")]
    [InlineData("invalid value '1.5' for --seed (expected an integer)", "eval", "--weights", "w.eaw", "--seed", "1.5")]
    [InlineData("--seed goes with --corruption", "eval", "--weights", "w.eaw", "--seed", "3")]
    [InlineData("--seed goes with --validation-split", "calibrate", "--weights", "w.eaw", "--method", "percentile:99", "--out", "c.eaw", "--seed", "3")]
    [InlineData("--epochs needs a value (expected an integer)", "train", "--epochs")]
    [InlineData("--devices needs a value (expected an integer)", "simulate", "--devices", "--count", "3")]
    [InlineData("Unknown option 'bogus'", "train", "--bogus", "1")]
    [InlineData("invalid value 'fpga' for --target", "export", "--target", "fpga")]
    [InlineData("expected a file ending in .csv or .bin", "encode", "--weights", "w.eaw", "--out", "codes.txt")]
    public void Unknown_option_values_are_usage_errors(string message, params string[] args)
        => AssertOneLine(_tool.Run(args), 2, message);

    [Fact]
    public void Verbose_adds_the_stack_trace()
    {
        ToolRun run = _tool.Run("train", "--data", _tool.PathOf("missing.csv"), "--no-plots", "--verbose");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("   at ", run.Error);
    }

    [Fact]
    public void Every_command_has_help()
    {
        // Every command the tool's own help lists: a description with markup characters (a ']' in "(0, 1]") made
        // Spectre.Console fail to render detect's help.
        ToolRun help = _tool.Run("--help");
        Assert.Equal(0, help.ExitCode);
        string[] commands = [.. help.Output[help.Output.IndexOf("COMMANDS:", StringComparison.Ordinal)..]
            .Split('\n')
            .Select(line => Regex.Match(line, "^    ([a-z]+)[ <]"))
            .Where(match => match.Success)
            .Select(match => match.Groups[1].Value)];
        Assert.Equal(
            ["train", "prepare", "eval", "quantize", "encode", "reconstruct", "inspect", "compress", "decompress", "rd", "serve", "simulate", "calibrate", "detect", "export", "import"],
            commands);
        foreach (string command in commands)
        {
            ToolRun run = _tool.Run(command, "--help");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("USAGE:", run.Output);
            Assert.Contains($"edgeae {command}", run.Output);
            Assert.Contains("--verbose", run.Output);
        }
    }

    private static void AssertOneLine(ToolRun run, int exitCode, string message)
    {
        Assert.True(run.ExitCode == exitCode, run.ToString());
        string[] lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, run.ToString());
        Assert.StartsWith("edgeae: ", lines[0]);
        Assert.Contains(message, lines[0]);
        Assert.DoesNotContain("   at ", run.Error);
    }
}
