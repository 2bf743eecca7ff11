using System.Net;
using System.Net.Sockets;

namespace EdgeAe.Cli.Tests;

/// <summary>serve and simulate refuse bad settings before any work, in one line (the broker-side behaviour is in EdgeAe.Fleet.Tests).</summary>
public sealed class FleetCommandTests(TrainedDigits trained) : IClassFixture<TrainedDigits>, IDisposable
{
    private readonly Tool _tool = new();

    public void Dispose() => _tool.Dispose();

    [Theory]
    [InlineData(2, "--broker <URL> is required", "serve", "--weights", "w.eaw", "--db", "f.db")]
    [InlineData(2, "--db <FILE|URL> is required", "serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw")]
    [InlineData(2, "--weights <FILE> is required", "serve", "--broker", "mqtt://127.0.0.1:1883", "--db", "f.db")]
    [InlineData(2, "invalid value 'high' for --threshold", "serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw", "--db", "f.db", "--threshold", "high")]
    [InlineData(2, "invalid value '70000' for --inflight", "serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw", "--db", "f.db", "--inflight", "70000")]
    [InlineData(2, "Unknown option 'password'", "serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw", "--db", "f.db", "--password", "x")]
    [InlineData(2, "--devices <N> is required", "simulate", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw", "--count", "3")]
    [InlineData(2, "--count <M> is required", "simulate", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw", "--devices", "3")]
    [InlineData(2, "invalid value 'fast' for --rate", "simulate", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw", "--devices", "3", "--count", "3", "--rate", "fast")]
    [InlineData(2, "invalid value 'a/b' for --device-prefix", "simulate", "--broker", "mqtt://127.0.0.1:1883", "--weights", "w.eaw", "--devices", "3", "--count", "3", "--device-prefix", "a/b")]
    public void Bad_options_are_usage_errors(int exitCode, string message, params string[] args)
    {
        ToolRun run = _tool.Run(args);
        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Contains(message, run.Error + run.Output);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void The_flag_threshold_defaults_to_the_calibrated_one_in_the_weight_file()
    {
        string calibrated = _tool.PathOf("calibrated.eaw");
        EdgeAe.IO.WeightFile.SaveWithThreshold(trained.Weights, calibrated, new EdgeAe.Anomaly.AnomalyThreshold(0.0625f, EdgeAe.Anomaly.CalibrationMethod.Parse("percentile:99"), 100));
        Assert.Null(Commands.FleetCli.Threshold(null, trained.Weights));
        Assert.Equal(0.0625f, Commands.FleetCli.Threshold(null, calibrated));
        Assert.Equal(0.5f, Commands.FleetCli.Threshold(0.5f, calibrated));
    }

    [Fact]
    public void Bad_addresses_credentials_and_unreachable_brokers_are_one_line()
    {
        string weights = trained.Weights;
        string db = _tool.PathOf("fleet.db");
        // A malformed setting is a usage error (exit code 2), named before anything is read or connected.
        AssertOneLine(_tool.Run("serve", "--broker", "tcp://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", db), "broker address 'tcp://127.0.0.1:1883' is not mqtt://HOST:PORT", 2);
        ToolRun secret = _tool.Run("serve", "--broker", "mqtt://fleet:hunter2@127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", db);
        AssertOneLine(secret, "carries credentials: put them in EDGEAE_MQTT_USERNAME/EDGEAE_MQTT_PASSWORD or a --credentials file", 2);
        Assert.DoesNotContain("hunter2", secret.Error);
        AssertOneLine(_tool.Run("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", "postgres://fleet:pw@127.0.0.1/x"), "--db carries a password: put it in PGPASSWORD or ~/.pgpass", 2);
        AssertOneLine(_tool.Run("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", "postgres://fleet@127.0.0.1/"), "names no database", 2);
        AssertOneLine(_tool.Run("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", "postgres://fleet@127.0.0.1/x?sslmode=always"), "--db sslmode 'always' is not", 2);
        AssertOneLine(_tool.Run("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", db, "--ca-file", "ca.pem"), "need a TLS broker address", 2);
        AssertOneLine(_tool.Run("simulate", "--broker", "mqtts://127.0.0.1:8883", "--weights", weights, "--bits", "8", "--devices", "1", "--count", "1", "--client-cert", "c.pem"), "--client-cert and --client-key go together", 2);
        AssertOneLine(_tool.Run("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", db, "--topic", "devices/#"), "topic filter 'devices/#' must have exactly one '+' level", 2);
        AssertOneLine(_tool.Run("simulate", "--broker", "mqtt://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--devices", "1", "--count", "1", "--topic", "devices/ae"), "topic filter 'devices/ae' must have exactly one '+' level", 2);

        // Files and servers are looked at when the command runs: a missing or unsafe file, a refused connection (exit code 1).
        AssertOneLine(_tool.Run("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", _tool.PathOf("missing.eaw"), "--db", db), "weight file not found");
        AssertOneLine(_tool.Run("serve", "--broker", "mqtts://127.0.0.1:8883", "--weights", weights, "--bits", "8", "--db", db, "--ca-file", _tool.PathOf("missing-ca.pem")), "file not found:");

        string credentials = _tool.PathOf("broker.credentials");
        File.WriteAllText(credentials, "username=a\npassword=b\n");
        Assert.SkipWhen(OperatingSystem.IsWindows(), "file modes are a Unix notion");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        }

        AssertOneLine(_tool.Run("serve", "--broker", "mqtt://127.0.0.1:1883", "--weights", weights, "--bits", "8", "--db", db, "--credentials", credentials), "can be read or written by other users; restrict it with chmod 600");

        int closed = ClosedPort();
        AssertOneLine(_tool.Run("serve", "--broker", $"mqtt://127.0.0.1:{closed}", "--weights", weights, "--bits", "8", "--db", db), $"cannot connect to the broker at mqtt://127.0.0.1:{closed}:");

        // The database serve created for the run is gone again, with its log; one that was there before stays.
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(db)!, "fleet.db*"));
        File.WriteAllBytes(db, []);
        AssertOneLine(_tool.Run("serve", "--broker", $"mqtt://127.0.0.1:{closed}", "--weights", weights, "--bits", "8", "--db", db), $"cannot connect to the broker at mqtt://127.0.0.1:{closed}:");
        Assert.True(File.Exists(db));
        AssertOneLine(_tool.Run("simulate", "--broker", $"mqtt://127.0.0.1:{closed}", "--weights", weights, "--bits", "8", "--devices", "2", "--count", "1"), $"cannot connect to the broker at mqtt://127.0.0.1:{closed}:");
    }

    [Fact]
    public void Simulate_with_device_scores_refuses_a_row_whose_score_is_not_finite_before_connecting()
    {
        // Squared error of values near float.MaxValue overflows: the score is +∞, which a scored packet cannot carry.
        string model = _tool.PathOf("Se.cs");
        File.WriteAllText(model, """
            namespace Demo;

            [Autoencoder(Input = 4, Loss = Loss.SquaredError, Seed = 7)]
            [Code(2, Activation.Tanh)]
            [Output(Activation.Linear)]
            public partial class SeAe;
            """);
        string small = _tool.PathOf("small.csv"), huge = _tool.PathOf("huge.csv"), weights = _tool.PathOf("se.eaw");
        File.WriteAllLines(small, Enumerable.Range(0, 40).Select(r => string.Join(',', Enumerable.Range(0, 4).Select(c => ((r + c) % 7 / 7.0).ToString(System.Globalization.CultureInfo.InvariantCulture)))));
        File.WriteAllLines(huge, ["0.5,0.5,0.5,0.5", "3e38,3e38,3e38,3e38"]);
        ToolRun trainedSe = _tool.Run("train", "--model", model, "--data", small, "--epochs", "1", "--code-bits", "8", "--no-plots", "--out", weights);
        Assert.True(trainedSe.ExitCode == 0, trainedSe.ToString());

        int closed = ClosedPort();
        AssertOneLine(_tool.Run("simulate", "--broker", $"mqtt://127.0.0.1:{closed}", "--weights", weights, "--model", model, "--data", huge, "--devices", "1", "--count", "2", "--device-score"),
            "row 1 of huge.csv has no finite anomaly score (a NaN or infinite value): a scored packet cannot carry it; fix the data or leave out --device-score");

        // Without --device-score the same rows are sequenced packets: the broker is the next problem.
        AssertOneLine(_tool.Run("simulate", "--broker", $"mqtt://127.0.0.1:{closed}", "--weights", weights, "--model", model, "--data", huge, "--devices", "1", "--count", "2"),
            $"cannot connect to the broker at mqtt://127.0.0.1:{closed}:");
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again when the listener is disposed
    }

    private static void AssertOneLine(ToolRun run, string message, int exitCode = 1)
    {
        Assert.True(run.ExitCode == exitCode, run.ToString());
        string[] lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, run.ToString());
        Assert.StartsWith("edgeae: ", lines[0]);
        Assert.Contains(message, lines[0]);
    }
}
