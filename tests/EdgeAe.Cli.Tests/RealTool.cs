using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EdgeAe.Data;

namespace EdgeAe.Cli.Tests;

/// <summary>
/// Runs the real <c>edgeae</c> executable (the apphost copied next to the tests) as a child process in a temporary
/// folder with its own model cache: what a user's shell does, signals included.
/// </summary>
internal sealed class RealTool : IDisposable
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public RealTool()
    {
        Folder = Path.Combine(Path.GetTempPath(), "edgeae-cli-real", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>
    /// The apphost built next to the tests, or the one <c>EDGEAE_TOOL_UNDER_TEST</c> names (to run these tests against
    /// another build, e.g. an earlier commit's, and see which of them it fails).
    /// </summary>
    public static string Executable => Environment.GetEnvironmentVariable("EDGEAE_TOOL_UNDER_TEST") is { Length: > 0 } other
        ? other
        : Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "EdgeAe.Cli.exe" : "EdgeAe.Cli");

    public string CacheFolder => Path.Combine(Folder, "cache");

    public string PathOf(string name) => Path.Combine(Folder, name);

    public ToolRun Run(params string[] args) => Start(args).WaitForExit();

    public Running Start(params string[] args)
    {
        // On Linux through env --default-signal=INT (as the fleet tests start serve): a test run started in the
        // background by a non-interactive shell ignores SIGINT, a child inherits that, and the .NET runtime keeps a
        // signal that was ignored on entry ignored, so the interrupt tests could not interrupt the tool.
        var info = new ProcessStartInfo(OperatingSystem.IsLinux() ? "env" : Executable)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (OperatingSystem.IsLinux())
        {
            info.ArgumentList.Add("--default-signal=INT");
            info.ArgumentList.Add(Executable);
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["XDG_CACHE_HOME"] = CacheFolder;
        info.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return new Running(Process.Start(info)!);
    }

    /// <summary>The bundled digits as a CSV file of raw pixels (0–16), 64 columns, no header, no label.</summary>
    public string DigitsCsv(string name = "digits.csv", int count = 1797)
    {
        Dataset digits = BundledData.DigitsRaw();
        var text = new StringBuilder();
        for (int s = 0; s < Math.Min(count, digits.Count); s++)
        {
            text.AppendJoin(',', digits[s].ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture))).Append('\n');
        }

        string path = PathOf(name);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>An IDX file of <paramref name="count"/> random 8×8 images: enough samples for a slow first epoch.</summary>
    public string RandomImages(string name, int count)
    {
        var bytes = new byte[16 + (count * 64)];
        bytes[2] = 0x08;
        bytes[3] = 0x03;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        bytes[11] = 8;
        bytes[15] = 8;
        new Random(1).NextBytes(bytes.AsSpan(16));
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A hard link (ln): a second name of the same file.</summary>
    public static void HardLink(string existing, string link)
    {
        using Process ln = Process.Start("ln", [existing, link])!;
        ln.WaitForExit();
        Assert.Equal(0, ln.ExitCode);
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

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    /// <summary>A running edgeae process whose output is collected as it comes.</summary>
    internal sealed class Running
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly StringBuilder _error = new();
        private readonly Task _reading;

        public Running(Process process)
        {
            _process = process;
            _reading = Task.WhenAll(Pump(process.StandardOutput, _output), Pump(process.StandardError, _error));
        }

        public int Id => _process.Id;

        /// <summary>Waits until standard output or error holds <paramref name="text"/>; false when the process ended first.</summary>
        public bool WaitFor(string text)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Timeout)
            {
                lock (_output)
                {
                    if (_output.ToString().Contains(text, StringComparison.Ordinal) || _error.ToString().Contains(text, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }

                if (_process.HasExited)
                {
                    return false;
                }

                Thread.Sleep(5);
            }

            return false;
        }

        public void Signal(int signal) => Assert.Equal(0, Kill(_process.Id, signal));

        public ToolRun WaitForExit()
        {
            if (!_process.WaitForExit(Timeout))
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException("edgeae did not finish in time");
            }

            _reading.Wait();
            lock (_output)
            {
                return new ToolRun(_process.ExitCode, _output.ToString(), _error.ToString());
            }
        }

        private async Task Pump(StreamReader reader, StringBuilder into)
        {
            var buffer = new char[4096];
            int read;
            while ((read = await reader.ReadAsync(buffer)) > 0)
            {
                lock (_output)
                {
                    into.Append(buffer, 0, read);
                }
            }
        }
    }
}
