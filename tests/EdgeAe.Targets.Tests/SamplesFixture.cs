using EdgeAe.Cli;

namespace EdgeAe.Targets.Tests;

/// <summary>
/// Once per test run: `edgeae train` (in process, 5 epochs) writes a weight file into a temporary folder,
/// one `dotnet build` builds both samples under targets/samples against it (outputs in the same folder via
/// --artifacts-path, so the repository's bin/obj are never touched), and the desktop sample is run.
/// </summary>
public sealed class SamplesFixture : IDisposable
{
    public SamplesFixture()
    {
        Folder = DotNet.CreateIsolatedFolder("samples");
        Weights = Path.Combine(Folder, "weights", "digits.eaw");

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        using var trainOutput = new StringWriter();
        using var trainError = new StringWriter();
        int trained = CommandLine.Run(["train", "--epochs", "5", "--out", Weights, "--no-plots"], trainOutput, trainError, Path.Combine(Folder, "cache"));
        if (trained != 0)
        {
            throw new InvalidOperationException($"edgeae train failed with exit code {trained}:\n{trainOutput}\n{trainError}");
        }

        Training = stopwatch.Elapsed;
        string samples = Path.Combine(DotNet.RepositoryRoot, "targets", "samples");
        string solution = Path.Combine(Folder, "samples.slnx");
        File.WriteAllText(solution, $"""
            <Solution>
              <Project Path="{Path.Combine(samples, "DigitsDesktop", "DigitsDesktop.csproj")}" />
              <Project Path="{Path.Combine(samples, "DigitsFirmware", "DigitsFirmware.csproj")}" />
            </Solution>
            """);
        Artifacts = Path.Combine(Folder, "artifacts");
        Build = DotNet.Build("build", Folder, solution, "--artifacts-path", Artifacts, $"-p:DigitsWeights={Weights}");
        if (Build.ExitCode == 0)
        {
            DesktopRun = DotNet.Run(Folder, Path.Combine(Artifacts, "bin", "DigitsDesktop", "debug", "DigitsDesktop.dll"));
        }
    }

    public string Folder { get; }

    /// <summary>The weight file `edgeae train` wrote.</summary>
    public string Weights { get; }

    public string Artifacts { get; }

    /// <summary>How long `edgeae train` took in process.</summary>
    public TimeSpan Training { get; }

    public ProcessResult Build { get; }

    public ProcessResult? DesktopRun { get; }

    public string FirmwareAssembly => Path.Combine(Artifacts, "bin", "DigitsFirmware", "debug", "DigitsFirmware.dll");

    public void Dispose() => DotNet.DeleteQuietly(Folder);
}
