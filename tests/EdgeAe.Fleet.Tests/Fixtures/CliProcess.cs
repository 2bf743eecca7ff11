using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EdgeAe.Fleet.Tests.Fixtures;

/// <summary>
/// The edgeae tool as a separate process (the build copies it next to the tests), for what only a process can show:
/// SIGKILL in the middle of a batch, SIGINT. Started through <c>env --default-signal=INT</c> because a shell that
/// runs the tests in the background hands its children SIGINT ignored, and an ignored signal cannot be caught.
/// </summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CliProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The tool's apphost in the test output folder.</summary>
    public static string ToolPath => Path.Combine(AppContext.BaseDirectory, "EdgeAe.Cli");

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>edgeae <paramref name="arguments"/></c>.</summary>
    public static CliProcess Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add(ToolPath);
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return new CliProcess(Process.Start(info)!);
    }

    /// <summary>Runs <c>edgeae <paramref name="arguments"/></c> to its end and returns exit code and output.</summary>
    public static (int ExitCode, string Output) Run(TimeSpan timeout, params string[] arguments)
    {
        using CliProcess process = Start(arguments);
        int code = process.WaitForExit(timeout);
        return (code, process.Output);
    }

    /// <summary>Waits until the output contains <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout)
        => Harness.EventuallyAsync(() => Output.Contains(text, StringComparison.Ordinal) || HasExited, timeout, () => Output)
            .ContinueWith(t =>
            {
                t.GetAwaiter().GetResult();
                if (!Output.Contains(text, StringComparison.Ordinal))
                {
                    Assert.Fail($"edgeae exited before printing '{text}':\n{Output}");
                }
            }, TaskScheduler.Default);

    /// <summary>Sends a signal (INT, TERM, KILL).</summary>
    public void Signal(string name) => Services.Run("kill", ["-" + name, Id.ToString(CultureInfo.InvariantCulture)]);

    /// <summary>Waits for the end; returns the exit code (kills it after <paramref name="timeout"/> and fails).</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"edgeae did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
