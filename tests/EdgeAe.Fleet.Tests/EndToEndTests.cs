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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Scored_packets_store_the_devices_score_and_are_flagged_by_it(bool postgresStore)
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        string db = postgresStore ? postgres.Server.CreateDatabase() : Path.Combine(_folder, "scored.db");
        using var broker = new MosquittoBroker();
        (FleetDigitsAe model, PacketCodec codec) = digits.Load();

        // Version-3 packets of the first 40 digits, as a device writes them, and a threshold at their median device score.
        float[] deviceScores = new float[40];
        byte[][] packets = Enumerable.Range(0, 40).Select(i =>
        {
            var packet = new byte[codec.ScoredPacketLength];
            codec.Encode(digits.Data[i], 0, packet, out deviceScores[i]);
            return packet;
        }).ToArray();
        float threshold = deviceScores.Order().ElementAt(20);
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-scored"), codec, db, threshold);

        // One device per row: its sequence-0 message is that row's packet. A version-2 device beside them is flagged as before.
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 40, count: 2), packets.Select(p => (byte[])p.Clone()).ToArray());
        Assert.Equal(80, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
        var v2 = new byte[codec.SequencedPacketLength];
        codec.Encode(digits.Data[0], 5, v2);
        await Harness.PublishRawAsync(broker.Address, [("devices/old-device/ae", v2)]);
        await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted >= 81, TimeSpan.FromSeconds(30), () => serve.Log);
        await serve.StopAsync();

        using var connection = Harness.Connect(db, postgresStore ? postgres.Server : null);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT device, sequence, score, device_score, flag FROM edgeae_samples ORDER BY device, sequence";
        using var reader = command.ExecuteReader();
        int rows = 0, disagree = 0;
        while (reader.Read())
        {
            rows++;
            string device = reader.GetString(0);
            float score = Convert.ToSingle(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture);
            bool flag = Convert.ToBoolean(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture);
            if (device == "old-device")
            {
                Assert.True(reader.IsDBNull(3));
                Assert.Equal(score > threshold, flag);
                continue;
            }

            // Device d's message k is row (d·7919 + k) mod 40 (FleetSimulator's order).
            int d = int.Parse(device["sim-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            int row = (int)(((long)d * 7919 + reader.GetInt64(1)) % 40);
            float stored = Convert.ToSingle(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(BitConverter.SingleToInt32Bits(deviceScores[row]), BitConverter.SingleToInt32Bits(stored));
            Assert.Equal(stored > threshold, flag);
            disagree += score > threshold != flag ? 1 : 0;
        }

        Assert.Equal(81, rows);
        Assert.True(disagree > 0, "the flags should follow the device's score, not the server's");
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
    public async Task Nothing_is_acknowledged_before_its_batch_commits_and_is_durable_and_a_failed_write_is_retried()
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

    [Fact]
    public async Task A_batch_the_store_cannot_make_durable_is_never_acknowledged_and_serve_stops_with_the_error()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string db = Path.Combine(_folder, "unsynced.db");
        (_, PacketCodec codec) = digits.Load();
        FlakyStore? flaky = null;
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-unsynced"), codec, db, wrapStore: s => flaky = new FlakyStore(s, failures: 0, flushFailsPast: 100));
        flaky!.Server = serve.Server;

        // The first 100 messages are made durable and acknowledged; the first sync that would cover more fails.
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 4, count: 25), digits.Packets());
        Assert.Equal(100, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
        await Harness.EventuallyAsync(() => serve.Server.Counters.Acknowledged >= 100, TimeSpan.FromSeconds(30), () => serve.Log);
        var more = new FleetSimulator(Harness.Simulate(broker.Address, devices: 4, count: 25) with { FirstSequence = 25 }, digits.Packets());
        Assert.Equal(100, (await more.RunAsync(TestContext.Current.CancellationToken)).Published);

        var e = await Assert.ThrowsAsync<IOException>(() => serve.Running.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        Assert.StartsWith($"serve: {flaky.Description} could not make committed rows durable (fsync: input/output error); stopped without acknowledging them", e.Message, StringComparison.Ordinal);
        Assert.Contains(e.Message, serve.Log, StringComparison.Ordinal);
        Assert.Empty(flaky.Violations);
        Assert.InRange(serve.Server.Counters.Acknowledged, 1, flaky.DurableMessages);
        Assert.True(serve.Server.Counters.Inserted > serve.Server.Counters.Acknowledged, "rows were committed and not acknowledged");

        // A restarted instance gets the unacknowledged messages again: every one is stored once.
        await serve.Store.DisposeAsync();
        await using ServeInstance again = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-unsynced"), codec, db);
        await Harness.EventuallyAsync(() => Harness.Keys(db).Count >= 200, TimeSpan.FromSeconds(60), () => again.Log);
        await again.StopAsync();
        Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 4).Select(simulator.DeviceId), 50);
    }

    [Fact]
    public async Task Two_instances_with_the_same_client_id_do_not_take_the_session_from_each_other_for_ever()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        (_, PacketCodec codec) = digits.Load();
        await using ServeInstance first = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-twin"), codec, Path.Combine(_folder, "twin-1.db"));
        await using ServeInstance second = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-twin"), codec, Path.Combine(_folder, "twin-2.db"));

        // Mosquitto 2.0 closes the older connection without a reason code; one of the two gives up with the likely cause.
        await Harness.EventuallyAsync(() => first.Running.IsCompleted || second.Running.IsCompleted, TimeSpan.FromSeconds(30), () => first.Log + "\n--- second:\n" + second.Log);
        ServeInstance stopped = first.Running.IsCompleted ? first : second;
        ServeInstance running = ReferenceEquals(stopped, first) ? second : first;
        var e = await Assert.ThrowsAsync<FleetConfigurationException>(() => stopped.Running);
        Assert.Contains("most likely another client connected with client id 'serve-twin' takes the session over each time (give every serve instance its own --client-id)", e.Message, StringComparison.Ordinal);
        Assert.Contains("serve: stopped", stopped.Log, StringComparison.Ordinal);

        // The other one keeps the session and serves.
        var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 2, count: 5), digits.Packets());
        Assert.Equal(10, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
        await Harness.EventuallyAsync(() => running.Server.Counters.Inserted >= 10, TimeSpan.FromSeconds(30), () => running.Log);
        Assert.False(running.Running.IsCompleted);
        await running.StopAsync();
    }

    [Fact]
    public async Task A_warning_of_the_store_is_logged_when_it_appears_carried_in_the_statistics_and_logged_when_it_clears()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        (_, PacketCodec codec) = digits.Load();
        WarningStore? store = null;
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-warning"), codec, Path.Combine(_folder, "warning.db"), wrapStore: s => store = new WarningStore(s));
        long sent = 0;

        // Each phase publishes and waits for its rows to be acknowledged: a flush ran after the warning changed.
        async Task PublishAsync(uint first)
        {
            var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 2, count: 5) with { FirstSequence = first }, digits.Packets());
            sent += (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published;
            await Harness.EventuallyAsync(() => serve.Server.Counters.Acknowledged >= sent, TimeSpan.FromSeconds(30), () => serve.Log);
        }

        await PublishAsync(0);
        Assert.DoesNotContain("warning:", serve.Log, StringComparison.Ordinal);
        store!.Warning = "the log is held back";
        await PublishAsync(5);
        await PublishAsync(10);
        Assert.Single(serve.Log.Split('\n'), l => l.Contains("serve: warning: the log is held back", StringComparison.Ordinal));
        store.Warning = null;
        await PublishAsync(15);
        Assert.Contains($"serve: the store's warning has cleared ({store.Description})", serve.Log, StringComparison.Ordinal);
        store.Warning = "again";
        await PublishAsync(20);
        await serve.StopAsync();
        Assert.Contains("serve: warning: again", serve.Log, StringComparison.Ordinal);
        Assert.Contains("; warning: again", serve.Log.Split('\n').Last(l => l.Contains("serve: stopped", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    /// <summary>A store whose <see cref="IFleetStore.Warning"/> the test sets.</summary>
    private sealed class WarningStore(IFleetStore inner) : IFleetStore
    {
        public string Description => inner.Description;

        public int SchemaVersion => inner.SchemaVersion;

        public string? Warning { get; set; }

        public Task<WriteResult> WriteAsync(IReadOnlyList<SampleRow> rows, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken) => inner.WriteAsync(rows, deadLetters, cancellationToken);

        public Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>
    /// A store that fails its first writes, or every flush once more than <paramref name="flushFailsPast"/> messages are
    /// committed, and checks at each call that nothing beyond the rows made durable was acknowledged.
    /// </summary>
    private sealed class FlakyStore(IFleetStore inner, int failures, long flushFailsPast = long.MaxValue) : IFleetStore
    {
        private long _committedMessages;
        private long _durableMessages;

        public FleetServer? Server { get; set; }

        public List<string> Violations { get; } = [];

        public long DurableMessages => Interlocked.Read(ref _durableMessages);

        public string Description => inner.Description;

        public int SchemaVersion => inner.SchemaVersion;

        public async Task<WriteResult> WriteAsync(IReadOnlyList<SampleRow> rows, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken)
        {
            CheckAcknowledged();
            if (failures-- > 0)
            {
                throw new Microsoft.Data.Sqlite.SqliteException("disk on fire", 10);
            }

            WriteResult result = await inner.WriteAsync(rows, deadLetters, cancellationToken);
            Interlocked.Add(ref _committedMessages, rows.Count + deadLetters.Count);
            return result;
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            CheckAcknowledged();
            long committed = Interlocked.Read(ref _committedMessages);
            if (committed > flushFailsPast)
            {
                throw new IOException("fsync: input/output error");
            }

            await inner.FlushAsync(cancellationToken);
            Interlocked.Exchange(ref _durableMessages, committed);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private void CheckAcknowledged()
        {
            long acknowledged = Server?.Counters.Acknowledged ?? 0;
            long durable = Interlocked.Read(ref _durableMessages);
            if (acknowledged > durable)
            {
                lock (Violations)
                {
                    Violations.Add($"{acknowledged} acknowledged with only {durable} durable");
                }
            }
        }
    }
}
