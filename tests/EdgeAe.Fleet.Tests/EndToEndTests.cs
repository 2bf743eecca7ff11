using EdgeAe.Compression;
using EdgeAe.Fleet.Storage;
using EdgeAe.Fleet.Tests.Fixtures;

namespace EdgeAe.Fleet.Tests;

/// <summary>
/// serve and simulate against a real Mosquitto (and PostgreSQL where several instances share a store): every published
/// message stored exactly once, bad traffic dead-lettered with its reason, sessions that outlive a server or a broker.
/// </summary>
public sealed class EndToEndTests(TrainedDigits digits, PostgresFixture postgres) : IClassFixture<TrainedDigits>, IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _folder = Services.TempFolder("edgeae-e2e", null);

    public void Dispose() => Services.Delete(_folder);

    [Fact]
    public async Task Every_message_is_stored_exactly_once_and_malformed_ones_are_dead_lettered_with_their_reason()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string db = Path.Combine(_folder, "fleet.db");
        (_, PacketCodec codec) = digits.Load();
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-1"), codec, db, threshold: 0.3f);

        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 20, count: 25), digits.Packets());
        Task<SimulateResult> publishing = simulator.RunAsync(TestContext.Current.CancellationToken);

        // Malformed traffic mixed in, from other "devices": each kind of failure the issue names, and then some.
        byte[] good = digits.Packets(1)[0];
        List<(string, byte[])> bad = [];
        for (int i = 0; i < 40; i++)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[8 + (i % 16)] ^= (byte)(1 << (i % 8));
            byte[] foreign = (byte[])good.Clone();
            foreign[1] ^= 0x5A;
            foreign[^1] = PacketFormat.Crc8(foreign.AsSpan(0, foreign.Length - 1));
            byte[] future = (byte[])good.Clone();
            future[0] = 0x41;
            future[^1] = PacketFormat.Crc8(future.AsSpan(0, future.Length - 1));
            bad.Add(($"devices/bad-{i % 3}/ae", good[..(i % good.Length)]));
            bad.Add(($"devices/bad-{i % 3}/ae", flipped));
            bad.Add(($"devices/bad-{i % 3}/ae", foreign));
            bad.Add(($"devices/bad-{i % 3}/ae", future));
            bad.Add(($"devices/{new string('x', DeviceTopics.MaxDeviceIdLength + 1 + i)}/ae", good)); // an id too long to store
        }

        await Harness.PublishRawAsync(broker.Address, bad);
        SimulateResult result = await publishing;
        Assert.Equal(500, result.Published);
        Assert.Equal(0, result.NoSubscribers); // serve was subscribed throughout
        await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted + serve.Server.Counters.DeadLettered >= 500 + bad.Count, TimeSpan.FromSeconds(30), () => serve.Log);
        await serve.StopAsync();

        Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 20).Select(simulator.DeviceId), 25);
        Dictionary<string, long> dead = Harness.DeadLetters(db);
        Assert.Equal(new Dictionary<string, long>
        {
            ["Truncated"] = 40,
            ["ChecksumMismatch"] = 40,
            ["ModelMismatch"] = 40,
            ["UnsupportedVersion"] = 40,
            ["UnknownTopic"] = 40,
        }, dead);
        Assert.Equal(serve.Server.Counters.Received, serve.Server.Counters.Acknowledged);
        Assert.Contains("stopped", serve.Log);
    }

    [Fact]
    public async Task Instances_of_one_share_group_split_the_messages_and_store_each_once_in_PostgreSQL()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        string db = postgres.Server.CreateDatabase();
        using var broker = new MosquittoBroker();
        (_, PacketCodec codec1) = digits.Load();
        (_, PacketCodec codec2) = digits.Load();
        await using ServeInstance one = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-1"), codec1, db);
        await using ServeInstance two = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-2"), codec2, db);
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 10, count: 60), digits.Packets());
        Assert.Equal(600, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
        await Harness.EventuallyAsync(() => one.Server.Counters.Inserted + two.Server.Counters.Inserted >= 600, TimeSpan.FromSeconds(30), () => one.Log + two.Log);
        await one.StopAsync();
        await two.StopAsync();

        Harness.AssertExactlyOnce(Harness.Keys(db, postgres.Server), Enumerable.Range(0, 10).Select(simulator.DeviceId), 60);
        Assert.True(one.Server.Counters.Received > 0 && two.Server.Counters.Received > 0, $"the broker should share the messages: {one.Server.Counters.Received} and {two.Server.Counters.Received}");
        Assert.Equal(600, one.Server.Counters.Received + two.Server.Counters.Received);
    }

    [Fact]
    public async Task Messages_published_while_serve_is_away_wait_in_its_session_and_are_stored_when_it_returns()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string db = Path.Combine(_folder, "away.db");
        (_, PacketCodec codec) = digits.Load();
        ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-away"), codec, db);
        await serve.StopAsync();

        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 5, count: 40), digits.Packets());
        SimulateResult result = await simulator.RunAsync(TestContext.Current.CancellationToken);
        Assert.Equal((200, 0), (result.Published, result.NoSubscribers)); // the session's subscription receives them

        await using ServeInstance back = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-away"), codec, db);
        await Harness.EventuallyAsync(() => back.Server.Counters.Inserted >= 200, TimeSpan.FromSeconds(30), () => back.Log);
        await back.StopAsync();
        Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 5).Select(simulator.DeviceId), 40);
        Assert.Contains("session resumed", back.Log);
    }

    [Fact]
    public async Task A_broker_restart_mid_run_loses_nothing()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string db = Path.Combine(_folder, "restart.db");
        (_, PacketCodec codec) = digits.Load();
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-restart"), codec, db);
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 10, count: 60, rate: 40), digits.Packets());
        Task<SimulateResult> publishing = simulator.RunAsync(TestContext.Current.CancellationToken);
        await Harness.EventuallyAsync(() => simulator.Published >= 150, TimeSpan.FromSeconds(30));
        broker.Stop();
        await Task.Delay(300, TestContext.Current.CancellationToken);
        broker.Start();
        SimulateResult result = await publishing.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(600, result.Published);
        await Harness.EventuallyAsync(() => Harness.Keys(db).Count >= 600, TimeSpan.FromSeconds(30), () => $"{Harness.Keys(db).Count} rows; no subscribers {result.NoSubscribers}; received {serve.Server.Counters.Received}, acknowledged {serve.Server.Counters.Acknowledged}, duplicates {serve.Server.Counters.Duplicates}\n" + serve.Log + broker.Log);
        await serve.StopAsync();
        Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 10).Select(simulator.DeviceId), 60);
        Assert.True(serve.Server.Counters.Connections >= 2, serve.Log);
    }

    [Fact]
    public async Task Simulate_publishes_a_dropped_message_again_and_gives_up_clearly_when_nobody_subscribes()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        var lonely = new FleetSimulator(Harness.Simulate(broker.Address, devices: 2, count: 3) with { SubscriberWait = TimeSpan.FromSeconds(1) }, digits.Packets());
        var e = await Assert.ThrowsAsync<FleetConfigurationException>(() => lonely.RunAsync(TestContext.Current.CancellationToken));
        Assert.Equal($"the broker at {broker.Address} has had no subscriber for devices/sim-0000/ae for 1 s: start serve (or create its session) before simulate", e.Message.Replace("sim-0001", "sim-0000", StringComparison.Ordinal));

        // Serve subscribing while a device is being told "no subscriber": the message is published again and stored.
        string db = Path.Combine(_folder, "late.db");
        (_, PacketCodec codec) = digits.Load();
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 2, count: 5), digits.Packets());
        Task<SimulateResult> publishing = simulator.RunAsync(TestContext.Current.CancellationToken);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-late"), codec, db);
        SimulateResult result = await publishing;
        Assert.True(result.NoSubscribers > 0);
        await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted >= 10, TimeSpan.FromSeconds(30), () => serve.Log);
        await serve.StopAsync();
        Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 2).Select(simulator.DeviceId), 5);
    }

    [Fact]
    public async Task Nothing_is_acknowledged_before_its_batch_commits_and_a_failed_write_is_retried()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string db = Path.Combine(_folder, "failing.db");
        (_, PacketCodec codec) = digits.Load();
        FlakyStore? flaky = null;
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-flaky"), codec, db, wrapStore: s => flaky = new FlakyStore(s, failures: 3));
        flaky!.Server = serve.Server;
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 4, count: 50), digits.Packets());
        Assert.Equal(200, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
        await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted >= 200, TimeSpan.FromSeconds(60), () => serve.Log);
        await serve.StopAsync();
        Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 4).Select(simulator.DeviceId), 50);
        Assert.Equal(3, serve.Server.Counters.StoreFailures);
        Assert.Contains("failed (disk on fire); retrying", serve.Log);
        Assert.Empty(flaky.Violations);
    }

    /// <summary>A store that fails its first writes and checks, at each write, that nothing beyond the committed rows was acknowledged.</summary>
    private sealed class FlakyStore(IFleetStore inner, int failures) : IFleetStore
    {
        private long _committedMessages;

        public FleetServer? Server { get; set; }

        public List<string> Violations { get; } = [];

        public string Description => inner.Description;

        public int SchemaVersion => inner.SchemaVersion;

        public async Task<WriteResult> WriteAsync(IReadOnlyList<SampleRow> rows, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken)
        {
            long acknowledged = Server?.Counters.Acknowledged ?? 0;
            if (acknowledged > _committedMessages)
            {
                Violations.Add($"{acknowledged} acknowledged with only {_committedMessages} committed");
            }

            if (failures-- > 0)
            {
                throw new Microsoft.Data.Sqlite.SqliteException("disk on fire", 10);
            }

            WriteResult result = await inner.WriteAsync(rows, deadLetters, cancellationToken);
            _committedMessages += rows.Count + deadLetters.Count;
            return result;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
