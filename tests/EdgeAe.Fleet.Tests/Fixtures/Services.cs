using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeAe.Fleet.Tests.Fixtures;

/// <summary>Helpers the server fixtures share: free ports, temporary folders, running a program as an unprivileged user.</summary>
internal static class Services
{
    /// <summary>True when the tests run as root: servers are then started as the package's service user (they refuse root or drop to it).</summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>A TCP port on 127.0.0.1 that is free now (the OS picks it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A new temporary folder; owned by <paramref name="owner"/> when running as root.</summary>
    public static string TempFolder(string prefix, string? owner)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        if (IsRoot && owner is not null)
        {
            Run("chown", [owner, folder]);
        }

        return folder;
    }

    /// <summary>Sets a file's permission bits (the tests run on Linux).</summary>
    public static void Chmod(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The fleet tests run on Linux.");
        }

        File.SetUnixFileMode(path, mode);
    }

    /// <summary>Deletes a folder, ignoring what is already gone.</summary>
    public static void Delete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    /// <summary>The start info of <paramref name="program"/>, run as <paramref name="user"/> through runuser when the tests run as root.</summary>
    public static ProcessStartInfo As(string? user, string program, IEnumerable<string> arguments)
    {
        ProcessStartInfo info = IsRoot && user is not null ? new ProcessStartInfo("runuser") : new ProcessStartInfo(program);
        if (IsRoot && user is not null)
        {
            foreach (string a in new[] { "-u", user, "--", program })
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        if (program == "dotnet")
        {
            // A child build must not inherit the MSBuild settings of the test host's own build.
            foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToArray())
            {
                info.Environment.Remove(name);
            }

            info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            info.Environment["DOTNET_NOLOGO"] = "1";
        }

        return info;
    }

    /// <summary>Runs a program to its end; throws with its output when it fails.</summary>
    public static string Run(string program, IEnumerable<string> arguments, string? user = null, TimeSpan? timeout = null)
    {
        (int code, string output) = RunCapture(program, arguments, timeout, user);
        return code == 0 ? output : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {code}:\n{output}");
    }

    /// <summary>Runs a program to its end; returns its exit code and output (stdout and stderr). Kills it after the timeout.</summary>
    public static (int ExitCode, string Output) RunCapture(string program, IEnumerable<string> arguments, TimeSpan? timeout = null, string? user = null)
    {
        using Process process = Process.Start(As(user, program, arguments))!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} did not finish in time:\n{output}");
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static void WaitForPort(int port, Process? process, Func<string> log, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process is { HasExited: true })
            {
                throw new InvalidOperationException($"the server exited with {process.ExitCode} before listening on {port}:\n{log()}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }

        throw new TimeoutException($"nothing listens on 127.0.0.1:{port} after {timeout.TotalSeconds} s:\n{log()}");
    }
}
