namespace EdgeAe.Fleet;

/// <summary>
/// A user name and password for the broker, from the environment (<see cref="UserVariable"/>,
/// <see cref="PasswordVariable"/>) or from a file of <c>username=…</c> and <c>password=…</c> lines that only its owner
/// may read (like <c>~/.pgpass</c>). Never from the command line, where other users see them in the process list.
/// </summary>
public sealed class BrokerCredentials
{
    /// <summary>The environment variable with the broker user name.</summary>
    public const string UserVariable = "EDGEAE_MQTT_USERNAME";

    /// <summary>The environment variable with the broker password.</summary>
    public const string PasswordVariable = "EDGEAE_MQTT_PASSWORD";

    private BrokerCredentials(string userName, string? password, string source)
    {
        UserName = userName;
        Password = password;
        Source = source;
    }

    /// <summary>The user name.</summary>
    public string UserName { get; }

    /// <summary>The password, or null for a user name alone.</summary>
    public string? Password { get; }

    /// <summary>Where they came from (the variable names or the file), for messages; never the secret itself.</summary>
    public string Source { get; }

    /// <summary>
    /// The credentials of <paramref name="file"/> when given, else of the environment, else null (anonymous).
    /// Throws <see cref="FleetConfigurationException"/> for a file that is missing, readable by others or malformed,
    /// and for a password without a user name.
    /// </summary>
    public static BrokerCredentials? Resolve(string? file, Func<string, string?>? environment = null)
        => file is not null ? FromFile(file) : FromEnvironment(environment ?? Environment.GetEnvironmentVariable);

    /// <summary>The credentials in <see cref="UserVariable"/> and <see cref="PasswordVariable"/>, or null when neither is set.</summary>
    public static BrokerCredentials? FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? user = environment(UserVariable);
        string? password = environment(PasswordVariable);
        if (string.IsNullOrEmpty(user))
        {
            return string.IsNullOrEmpty(password) ? null
                : throw new FleetConfigurationException($"{PasswordVariable} is set but {UserVariable} is not: the broker needs a user name with the password");
        }

        return new BrokerCredentials(user, string.IsNullOrEmpty(password) ? null : password, $"the environment ({UserVariable}/{PasswordVariable})");
    }

    /// <summary>The credentials in <paramref name="path"/>: <c>username=…</c> and optional <c>password=…</c> lines, <c>#</c> comments.</summary>
    public static BrokerCredentials FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FleetConfigurationException($"credentials file not found: {path}");
        }

        if (!OperatingSystem.IsWindows())
        {
            UnixFileMode mode = File.GetUnixFileMode(path);
            const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
            if ((mode & Others) != 0)
            {
                throw new FleetConfigurationException($"credentials file {path} can be read or written by other users; restrict it with chmod 600 {path}");
            }
        }

        string? user = null;
        string? password = null;
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            string key = equals < 0 ? line : line[..equals].Trim();
            string value = equals < 0 ? string.Empty : line[(equals + 1)..].Trim();
            switch (key)
            {
                case "username" when equals > 0:
                    user = value;
                    break;
                case "password" when equals > 0:
                    password = value;
                    break;
                default:
                    throw new FleetConfigurationException($"credentials file {path}, line {number}: expected username=… or password=… (found '{(equals < 0 ? "a line without '='" : key)}')");
            }
        }

        if (string.IsNullOrEmpty(user))
        {
            throw new FleetConfigurationException($"credentials file {path} has no username=… line");
        }

        return new BrokerCredentials(user, string.IsNullOrEmpty(password) ? null : password, path);
    }
}
