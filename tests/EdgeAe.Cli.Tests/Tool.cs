namespace EdgeAe.Cli.Tests;

/// <summary>The result of one in-process run of the tool.</summary>
internal sealed record ToolRun(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs <c>edgeae</c> in process with captured writers; a temporary folder per instance.</summary>
internal sealed class Tool : IDisposable
{
    public Tool()
    {
        Folder = Path.Combine(Path.GetTempPath(), "edgeae-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        CacheFolder = Path.Combine(Folder, "cache");
    }

    public string Folder { get; }

    public string CacheFolder { get; }

    public string PathOf(string name) => Path.Combine(Folder, name);

    public ToolRun Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CommandLine.Run(args, output, error, CacheFolder, TestContext.Current.CancellationToken);
        return new ToolRun(code, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }
}

/// <summary>The built-in model trained once for 3 epochs; shared by the tests that need a weight file.</summary>
public sealed class TrainedDigits : IDisposable
{
    internal Tool Tool { get; } = new();

    internal ToolRun Training { get; }

    public string Weights { get; }

    public TrainedDigits()
    {
        Weights = Tool.PathOf("out/digits.eaw");
        Training = Tool.Run("train", "--epochs", "3", "--out", Weights);
    }

    public void Dispose() => Tool.Dispose();
}
