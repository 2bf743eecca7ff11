using System.Data.Common;
using System.Diagnostics;
using EdgeAe.Compression;
using EdgeAe.Fleet.Storage;
using Microsoft.Data.Sqlite;
using MQTTnet;
using MQTTnet.Protocol;
using Npgsql;

namespace EdgeAe.Fleet.Tests.Fixtures;

/// <summary>One in-process <see cref="FleetServer"/> with its store, running until stopped.</summary>
public sealed class ServeInstance : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _log;

    private ServeInstance(FleetServer server, IFleetStore store, StringWriter log)
    {
        Server = server;
        Store = store;
        _log = log;
    }

    public FleetServer Server { get; }

    public IFleetStore Store { get; }

    public Task Running { get; private set; } = Task.CompletedTask;

    /// <summary>What the server logged so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a server of <paramref name="model"/> on <paramref name="options"/>' broker writing to <paramref name="db"/>; returns once it has subscribed.</summary>
    public static async Task<ServeInstance> StartAsync(ServeOptions options, PacketCodec codec, string db, float? threshold = null, Func<IFleetStore, IFleetStore>? wrapStore = null)
    {
        IFleetStore store = await FleetStore.OpenAsync(db, CancellationToken.None);
        if (wrapStore is not null)
        {
            store = wrapStore(store);
        }

        var processor = new PacketProcessor(codec, new ModelScorer(codec.Model), options.Topics, threshold);
        var log = new StringWriter();
        var server = new FleetServer(options with { StatisticsInterval = TimeSpan.Zero }, processor, store, new LockedWriter(log));
        var instance = new ServeInstance(server, store, log);
        instance.Running = Task.Run(() => server.RunAsync(instance._stop.Token));
        await Harness.EventuallyAsync(() => server.Counters.Connections >= 1 || instance.Running.IsCompleted, TimeSpan.FromSeconds(20), () => instance.Log);
        if (instance.Running.IsFaulted)
        {
            await instance.Running; // rethrows the start-up error
        }

        return instance;
    }

    /// <summary>Stops the server (it finishes the batch in hand) and closes the store.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Running.WaitAsync(TimeSpan.FromSeconds(30));
        await Store.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            try
            {
                await StopAsync();
            }
            catch (Exception) when (Running.IsFaulted)
            {
                // The test already saw (or asserts on) the failure.
            }
        }

        _stop.Dispose();
    }
}

/// <summary>Writes lines to a <see cref="StringWriter"/> under its lock (the server logs from several threads).</summary>
internal sealed class LockedWriter(StringWriter inner) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        lock (inner)
        {
            inner.Write(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (inner)
        {
            inner.WriteLine(value);
        }
    }
}

/// <summary>Shared helpers of the end-to-end tests.</summary>
public static class Harness
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="describe"/> after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"condition not met after {timeout.TotalSeconds} s{(describe is null ? "" : ":\n" + describe())}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Version-2 packets of the first <paramref name="rows"/> samples of <paramref name="data"/> (sequence 0; the simulator renumbers them).</summary>
    public static byte[][] Packets(PacketCodec codec, EdgeAe.Data.Dataset data, int rows)
        => Enumerable.Range(0, Math.Min(rows, data.Count)).Select(i =>
        {
            var packet = new byte[codec.SequencedPacketLength];
            codec.Encode(data[i], 0, packet);
            return packet;
        }).ToArray();

    /// <summary>Serve options for the broker at <paramref name="address"/>.</summary>
    public static ServeOptions Serve(string address, string clientId, string group = "edgeae") => new()
    {
        Broker = new BrokerOptions { Endpoint = BrokerEndpoint.Parse(address) },
        ClientId = clientId,
        Group = group,
        SessionExpirySeconds = 600,
    };

    /// <summary>Simulate options for the broker at <paramref name="address"/>.</summary>
    public static SimulateOptions Simulate(string address, int devices, int count, double rate = 0, string prefix = "sim-") => new()
    {
        Broker = new BrokerOptions { Endpoint = BrokerEndpoint.Parse(address) },
        Devices = devices,
        Count = count,
        Rate = rate,
        DevicePrefix = prefix,
    };

    /// <summary>Publishes raw payloads at QoS 1 from one client (malformed traffic).</summary>
    public static async Task PublishRawAsync(string address, IEnumerable<(string Topic, byte[] Payload)> messages)
    {
        using IMqttClient client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new BrokerOptions { Endpoint = BrokerEndpoint.Parse(address) }.ClientOptions("edgeae-test-raw-" + Guid.NewGuid().ToString("N")[..8], 0, 100), CancellationToken.None);
        foreach ((string topic, byte[] payload) in messages)
        {
            await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), CancellationToken.None);
        }

        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
    }

    /// <summary>A connection to a <c>--db</c> value (SQLite path or PostgreSQL URL on <paramref name="postgres"/>).</summary>
    public static DbConnection Connect(string db, PostgresServer? postgres = null)
        => FleetStore.IsPostgres(db) ? new NpgsqlConnection(postgres!.ConnectionString(db[(db.LastIndexOf('/') + 1)..])) : new SqliteConnection($"Data Source={db};Pooling=False");

    /// <summary>The (device, sequence) keys stored in <paramref name="db"/>.</summary>
    public static List<(string Device, long Sequence)> Keys(string db, PostgresServer? postgres = null)
    {
        using DbConnection connection = Connect(db, postgres);
        connection.Open();
        using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT device, sequence FROM edgeae_samples";
        using DbDataReader reader = command.ExecuteReader();
        var keys = new List<(string, long)>();
        while (reader.Read())
        {
            keys.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return keys;
    }

    /// <summary>Dead letters per reason in <paramref name="db"/>.</summary>
    public static Dictionary<string, long> DeadLetters(string db, PostgresServer? postgres = null)
    {
        using DbConnection connection = Connect(db, postgres);
        connection.Open();
        using DbCommand command = connection.CreateCommand();
        command.CommandText = "SELECT reason, COUNT(*) FROM edgeae_dead_letters GROUP BY reason";
        using DbDataReader reader = command.ExecuteReader();
        var counts = new Dictionary<string, long>();
        while (reader.Read())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>Asserts that <paramref name="keys"/> are exactly devices × [first, first + count), each once.</summary>
    public static void AssertExactlyOnce(IReadOnlyCollection<(string Device, long Sequence)> keys, IEnumerable<string> devices, int count, long first = 0)
    {
        var expected = devices.SelectMany(d => Enumerable.Range(0, count).Select(k => (d, first + k))).ToHashSet();
        var distinct = keys.ToHashSet();
        Assert.Equal(keys.Count, distinct.Count); // the primary key makes this hold; checked all the same
        int missing = expected.Count(k => !distinct.Contains(k));
        int extra = distinct.Count(k => !expected.Contains(k));
        Assert.True(missing == 0 && extra == 0, $"{missing} of {expected.Count} expected rows missing, {extra} unexpected rows");
    }
}
