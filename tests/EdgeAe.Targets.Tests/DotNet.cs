using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace EdgeAe.Targets.Tests;

/// <summary>The result of one <c>dotnet</c> child process.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Output, TimeSpan Elapsed)
{
    /// <summary>Lines MSBuild or the compiler reported as warnings (the "0 Warning(s)" summary excluded).</summary>
    public IReadOnlyList<string> WarningLines => Lines.Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase)
        && !l.TrimStart().StartsWith("0 Warning(s)", StringComparison.Ordinal)).Distinct().ToArray();

    public IReadOnlyList<string> ErrorLines => Lines.Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct().ToArray();

    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"$ {Command}\nexit {ExitCode} after {Elapsed.TotalSeconds:F1} s\n{Output}";
}

/// <summary>
/// Runs the .NET SDK's <c>dotnet</c> as a child process with output captured. MSBuild node reuse is off,
/// so no build node outlives the test, and MSBuild variables of the test host are not inherited.
/// </summary>
public static class DotNet
{
    public static string RepositoryRoot { get; } =
        typeof(DotNet).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EdgeAe.RepositoryRoot").Value!;

    private static string Executable => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>`dotnet build` (or pack, msbuild) with node reuse off and a quiet console logger.</summary>
    public static ProcessResult Build(string verb, string workingDirectory, params string[] arguments)
        => Run(workingDirectory, [verb, .. arguments, "-nodeReuse:false", "-v:minimal", "-clp:NoSummary"]);

    public static ProcessResult Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToArray())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish in 4 minutes:\n{output}");
        }

        process.WaitForExit();
        string command = "dotnet " + string.Join(' ', arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? '"' + a + '"' : a));
        lock (output)
        {
            return new ProcessResult(command, process.ExitCode, output.ToString(), stopwatch.Elapsed);
        }
    }

    /// <summary>A fresh temporary folder that stops MSBuild's upward search for Directory.Build.* files.</summary>
    public static string CreateIsolatedFolder(string purpose)
    {
        string folder = Path.Combine(Path.GetTempPath(), "edgeae-targets-tests", $"{purpose}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(folder);
        foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(folder, name), "<Project />\n");
        }

        return folder;
    }

    public static void DeleteQuietly(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
