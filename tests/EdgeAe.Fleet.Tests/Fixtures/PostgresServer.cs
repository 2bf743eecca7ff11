using System.Globalization;
using Npgsql;

namespace EdgeAe.Fleet.Tests.Fixtures;

/// <summary>
/// A real PostgreSQL 15 server (Debian package <c>postgresql</c>) in a temporary data folder on a free 127.0.0.1 port,
/// made with initdb and started with pg_ctl by this fixture and always stopped. PostgreSQL refuses to run as root:
/// when the tests run as root, initdb and the server run as the package's <c>postgres</c> user (runuser).
/// Local connections are trusted; one database per test (<see cref="CreateDatabase"/>).
/// </summary>
public sealed class PostgresServer : IDisposable
{
    /// <summary>Where Debian installs PostgreSQL 15's programs.</summary>
    public const string BinFolder = "/usr/lib/postgresql/15/bin";

    /// <summary>The message of a test skipped for want of the server.</summary>
    public const string SkipMessage = "needs the Debian package postgresql (apt-get install -y postgresql)";

    private const string ServiceUser = "postgres";
    private int _databases;

    /// <summary>Creates a cluster and starts it.</summary>
    public PostgresServer()
    {
        Folder = Services.TempFolder("edgeae-postgres", Services.IsRoot ? ServiceUser : null);
        Port = Services.FreePort();
        string data = Path.Combine(Folder, "data");
        Services.Run(Path.Combine(BinFolder, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], User);
        Start();
    }

    /// <summary>True when PostgreSQL 15 is installed.</summary>
    public static bool IsAvailable => File.Exists(Path.Combine(BinFolder, "pg_ctl")) && File.Exists(Path.Combine(BinFolder, "initdb"));

    /// <summary>The temporary folder: data, socket, log.</summary>
    public string Folder { get; }

    /// <summary>The server's port on 127.0.0.1.</summary>
    public int Port { get; }

    private static string? User => Services.IsRoot ? ServiceUser : null;

    /// <summary>A new, empty database; returns its <c>--db</c> URL.</summary>
    public string CreateDatabase(string prefix = "fleet")
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"{prefix}_{Interlocked.Increment(ref _databases)}");
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        command.ExecuteNonQuery();
        return UrlOf(name);
    }

    /// <summary>The <c>--db</c> URL of database <paramref name="name"/>.</summary>
    public string UrlOf(string name) => string.Create(CultureInfo.InvariantCulture, $"postgres://postgres@127.0.0.1:{Port}/{name}");

    /// <summary>A connection string to <paramref name="database"/> for the tests' own queries.</summary>
    public string ConnectionString(string database) => string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false");

    /// <summary>Starts (or restarts) the server.</summary>
    public void Start()
        => Services.Run(Path.Combine(BinFolder, "pg_ctl"),
            ["-D", Path.Combine(Folder, "data"), "-l", Path.Combine(Folder, "server.log"), "-w", "-t", "60",
             "-o", string.Create(CultureInfo.InvariantCulture, $"-p {Port} -k {Folder} -c listen_addresses=127.0.0.1 -c max_connections=50"), "start"], User, TimeSpan.FromSeconds(90));

    /// <summary>Stops the server (fast shutdown) and removes its folder.</summary>
    public void Dispose()
    {
        try
        {
            Services.Run(Path.Combine(BinFolder, "pg_ctl"), ["-D", Path.Combine(Folder, "data"), "-m", "fast", "-w", "stop"], User);
        }
        catch (InvalidOperationException)
        {
            // Not running (a failed start): nothing to stop.
        }

        NpgsqlConnection.ClearAllPools();
        Services.Delete(Folder);
    }
}
