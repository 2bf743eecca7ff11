using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EdgeAe.Fleet.Tests.Fixtures;

/// <summary>
/// A real Mosquitto broker (Debian package <c>mosquitto</c>) on a free 127.0.0.1 port with a generated configuration in a
/// temporary folder, persistence on (so a restart keeps sessions and queued messages), started here and always stopped.
/// Started as root it drops to the package's <c>mosquitto</c> user itself, so the folder is handed to that user.
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    /// <summary>Where Debian installs the broker.</summary>
    public const string Program = "/usr/sbin/mosquitto";

    /// <summary>The message of a test skipped for want of the broker.</summary>
    public const string SkipMessage = "needs the Debian package mosquitto (apt-get install -y mosquitto)";

    private const string ServiceUser = "mosquitto";
    private readonly string _extraConfiguration;
    private Process? _process;

    /// <summary>Starts a broker; <paramref name="configuration"/> adds lines (listeners, TLS, passwords) after the defaults.</summary>
    public MosquittoBroker(string configuration = "", bool listenPlain = true)
    {
        Folder = Services.TempFolder("edgeae-mosquitto", Services.IsRoot ? ServiceUser : null);
        Port = Services.FreePort();
        _extraConfiguration = configuration;
        ListenPlain = listenPlain;
        Start();
    }

    /// <summary>True when the broker is installed.</summary>
    public static bool IsAvailable => File.Exists(Program);

    /// <summary>The temporary folder: configuration, persistence database, log.</summary>
    public string Folder { get; }

    /// <summary>The plain MQTT listener's port (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Whether the plain listener on <see cref="Port"/> is configured.</summary>
    public bool ListenPlain { get; }

    /// <summary>The broker's address for <c>--broker</c>.</summary>
    public string Address => string.Create(CultureInfo.InvariantCulture, $"mqtt://127.0.0.1:{Port}");

    /// <summary>The broker's log so far (for failure messages).</summary>
    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log)";

    private string LogPath => Path.Combine(Folder, "mosquitto.log");

    /// <summary>Writes a file into the broker's folder (readable by the broker's user) and returns its path.</summary>
    public string WriteFile(string name, string content)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        HandOver(path);
        return path;
    }

    /// <summary>Starts the broker (again, after <see cref="Stop"/> or <see cref="Kill"/>: same port, same persistence).</summary>
    public void Start()
    {
        string config = Path.Combine(Folder, "mosquitto.conf");
        var text = new StringBuilder();
        text.AppendLine("per_listener_settings false");
        if (ListenPlain)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"listener {Port} 127.0.0.1"));
        }

        text.AppendLine("persistence true");
        text.AppendLine($"persistence_location {Folder}/");
        text.AppendLine("persistence_file mosquitto.db");
        // Queue every message for a subscriber that is away (the default 1000 would drop the rest): bounded by the tests' sizes.
        text.AppendLine("max_queued_messages 10000000");
        text.AppendLine($"log_dest file {LogPath}");
        text.AppendLine("log_type error");
        text.AppendLine("log_type warning");
        text.AppendLine("log_type notice");
        text.AppendLine("log_type information");
        text.AppendLine("connection_messages true");
        text.Append(_extraConfiguration);
        if (!_extraConfiguration.Contains("allow_anonymous", StringComparison.Ordinal))
        {
            text.AppendLine("allow_anonymous true");
        }

        File.WriteAllText(config, text.ToString());
        HandOver(config);
        ProcessStartInfo info = Services.As(null, Program, ["-c", config]);
        _process = Process.Start(info)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (ListenPlain)
        {
            Services.WaitForPort(Port, _process, () => Log, TimeSpan.FromSeconds(15));
        }
    }

    /// <summary>Waits for a port of an extra listener (TLS) to accept connections.</summary>
    public void WaitForListener(int port) => Services.WaitForPort(port, _process, () => Log, TimeSpan.FromSeconds(15));

    /// <summary>Stops the broker cleanly (SIGTERM: it saves its persistence database) and waits for it.</summary>
    public void Stop()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        Services.Run("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(15)))
        {
            _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Kills the broker (SIGKILL: nothing saved since the last autosave).</summary>
    public void Kill()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Stop();
        Services.Delete(Folder);
    }

    private static void HandOver(string path)
    {
        if (Services.IsRoot)
        {
            Services.Run("chown", [ServiceUser, path]);
        }
    }
}
