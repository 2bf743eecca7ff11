using EdgeAe.Compression;
using EdgeAe.Fleet.Tests.Fixtures;

namespace EdgeAe.Fleet.Tests;

/// <summary>The weight file of the tool's built-in digits model, trained by the tool itself with an 8-bit codec.</summary>
public sealed class ToolWeights : IDisposable
{
    public ToolWeights()
    {
        Folder = Services.TempFolder("edgeae-fleet-tool", null);
        Weights = Path.Combine(Folder, "digits.eaw");
        (int code, string output) = CliProcess.Run(TimeSpan.FromMinutes(2), "train", "--epochs", "5", "--code-bits", "8", "--no-plots", "--out", Weights);
        Assert.True(code == 0, output);
    }

    public string Folder { get; }

    public string Weights { get; }

    /// <summary>Version-2 packets of the first digits under this file (the tool's DigitsAe and FleetDigitsAe share the topology).</summary>
    public byte[][] Packets(int rows = 200) => Harness.Packets(PacketCodec.Load(Weights, new FleetDigitsAe()), EdgeAe.Data.BundledData.Digits(), rows);

    public void Dispose() => Services.Delete(Folder);
}

/// <summary>edgeae serve as a process: killed with SIGKILL mid-run and restarted loses and duplicates nothing; SIGINT stops it cleanly.</summary>
public sealed class ProcessTests(ToolWeights tool, PostgresFixture postgres) : IClassFixture<ToolWeights>, IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_instance_killed_mid_run_and_restarted_loses_nothing_and_stores_nothing_twice()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        string db = postgres.Server.CreateDatabase();
        using var broker = new MosquittoBroker();
        string[] Serve(string id) => ["serve", "--broker", broker.Address, "--weights", tool.Weights, "--db", db, "--client-id", id, "--stats", "1", "--batch", "50"];
        CliProcess one = CliProcess.Start(Serve("serve-a"));
        using CliProcess two = CliProcess.Start(Serve("serve-b"));
        try
        {
            await one.WaitForOutputAsync("subscribed to", Start);
            await two.WaitForOutputAsync("subscribed to", Start);
            var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 20, count: 75, rate: 25), tool.Packets());
            Task<SimulateResult> publishing = simulator.RunAsync(TestContext.Current.CancellationToken);
            await Harness.EventuallyAsync(() => simulator.Published >= 500, TimeSpan.FromSeconds(60));
            one.Signal("KILL");
            Assert.NotEqual(0, one.WaitForExit(TimeSpan.FromSeconds(10)));
            string before = one.Output;
            one.Dispose();
            await Task.Delay(500, TestContext.Current.CancellationToken);
            one = CliProcess.Start(Serve("serve-a"));
            await one.WaitForOutputAsync("session resumed", Start);
            SimulateResult result = await publishing;
            Assert.Equal(1500, result.Published);
            await Harness.EventuallyAsync(() => Harness.Keys(db, postgres.Server).Count >= 1500, TimeSpan.FromSeconds(60), () => before + one.Output + two.Output);
            Harness.AssertExactlyOnce(Harness.Keys(db, postgres.Server), Enumerable.Range(0, 20).Select(simulator.DeviceId), 75);
            Assert.Contains("stored", before);
            Assert.Empty(Harness.DeadLetters(db, postgres.Server));
        }
        finally
        {
            one.Dispose();
        }
    }

    [Fact]
    public async Task SIGINT_stops_serve_cleanly_after_storing_what_it_received()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string folder = Services.TempFolder("edgeae-sigint", null);
        try
        {
            string db = Path.Combine(folder, "fleet.db");
            using CliProcess serve = CliProcess.Start("serve", "--broker", broker.Address, "--weights", tool.Weights, "--db", db, "--client-id", "serve-int", "--threshold", "0.3");
            await serve.WaitForOutputAsync("subscribed to", Start);
            var simulator = new FleetSimulator(Harness.Simulate(broker.Address, devices: 5, count: 40), tool.Packets());
            Assert.Equal(200, (await simulator.RunAsync(TestContext.Current.CancellationToken)).Published);
            await Harness.EventuallyAsync(() => Harness.Keys(db).Count >= 200, TimeSpan.FromSeconds(30), () => serve.Output);
            serve.Signal("INT");
            Assert.Equal(0, serve.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Contains("serve: stopped received 200, stored 200, duplicates 0, dead letters 0", serve.Output);
            Assert.Contains("threshold 0.3", serve.Output);
            Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 5).Select(simulator.DeviceId), 40);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Services.Delete(folder);
        }
    }

    [Fact]
    public async Task Serve_and_simulate_take_an_int8_weight_file_and_run_its_int8_model()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string folder = Services.TempFolder("edgeae-int8-fleet", null);
        try
        {
            // Devices running an int8 model send its codes; the server decodes and scores with the same int8 model.
            string int8 = Path.Combine(folder, "digits.int8.eaw"), db = Path.Combine(folder, "fleet.db");
            (int code, string output) = CliProcess.Run(TimeSpan.FromMinutes(2), "quantize", "--weights", tool.Weights, "--out", int8);
            Assert.True(code == 0, output);
            using CliProcess serve = CliProcess.Start("serve", "--broker", broker.Address, "--weights", int8, "--db", db, "--client-id", "serve-int8");
            await serve.WaitForOutputAsync("subscribed to", Start);
            (code, output) = CliProcess.Run(TimeSpan.FromMinutes(1), "simulate", "--broker", broker.Address, "--weights", int8, "--devices", "3", "--count", "20", "--device-prefix", "q-");
            Assert.True(code == 0, output);
            await Harness.EventuallyAsync(() => Harness.Keys(db).Count >= 60, TimeSpan.FromSeconds(30), () => serve.Output);
            serve.Signal("INT");
            Assert.Equal(0, serve.WaitForExit(TimeSpan.FromSeconds(20)));

            // A float32 server would dead-letter every packet (another model id); this one stores them all.
            Assert.Contains("serve: stopped received 60, stored 60, duplicates 0, dead letters 0", serve.Output);

            // The first device's first row: the int8 encoder's packet for the first digit, with the int8 model's score.
            var model = new FleetDigitsAe.Int8();
            PacketCodec codec = PacketCodec.Load(int8, model);
            byte[] first = Harness.Packets(codec, EdgeAe.Data.BundledData.Digits(), 1)[0];
            PacketFormat.Resequence(first, 0);
            var processor = new PacketProcessor(codec, new ModelScorer(model), DeviceTopics.Parse(DeviceTopics.DefaultFilter), threshold: null);
            SampleRow expected = processor.Process("devices/q-0000/ae", first, 0).Row!;
            using var connection = Harness.Connect(db);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT packet, score, code FROM edgeae_samples WHERE device = 'q-0000' AND sequence = 0";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal(first, (byte[])reader[0]);
            Assert.Equal(expected.Score, (float)reader.GetDouble(1));
            Assert.Equal(expected.Code, (byte[])reader[2]);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Services.Delete(folder);
        }
    }

    [Fact]
    public async Task Simulate_with_device_score_publishes_scored_packets_that_serve_stores_and_flags_by()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string folder = Services.TempFolder("edgeae-simulate-scored", null);
        try
        {
            string db = Path.Combine(folder, "fleet.db");
            using CliProcess serve = CliProcess.Start("serve", "--broker", broker.Address, "--weights", tool.Weights, "--db", db, "--client-id", "serve-scored", "--threshold", "0.2");
            await serve.WaitForOutputAsync("subscribed to", Start);
            (int code, string output) = CliProcess.Run(TimeSpan.FromMinutes(1), "simulate", "--broker", broker.Address, "--weights", tool.Weights, "--devices", "3", "--count", "10", "--device-prefix", "s-", "--device-score");
            Assert.True(code == 0, output);
            Assert.Contains("28-byte scored packets", output);
            await Harness.EventuallyAsync(() => Harness.Keys(db).Count >= 30, TimeSpan.FromSeconds(30), () => serve.Output);
            serve.Signal("INT");
            Assert.Equal(0, serve.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Contains("serve: stopped received 30, stored 30, duplicates 0, dead letters 0", serve.Output);

            // The first device's first row: the scored packet of the first digit, its device score the portable score.
            var model = new FleetDigitsAe();
            PacketCodec codec = PacketCodec.Load(tool.Weights, model);
            var first = new byte[codec.ScoredPacketLength];
            codec.Encode(EdgeAe.Data.BundledData.Digits()[0], 0, first, out float deviceScore);
            using var connection = Harness.Connect(db);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT packet, device_score, flag FROM edgeae_samples WHERE device = 's-0000' AND sequence = 0";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal(first, (byte[])reader[0]);
            Assert.Equal(deviceScore, (float)reader.GetDouble(1));
            Assert.Equal(deviceScore > 0.2f ? 1L : 0L, reader.GetInt64(2));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Services.Delete(folder);
        }
    }

    [Fact]
    public async Task Simulate_publishes_every_message_and_exits_0()
    {
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        using var broker = new MosquittoBroker();
        string folder = Services.TempFolder("edgeae-simulate", null);
        try
        {
            string db = Path.Combine(folder, "fleet.db");
            (_, PacketCodec codec) = (new FleetDigitsAe(), PacketCodec.Load(tool.Weights, new FleetDigitsAe()));
            await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-sim"), codec, db);
            (int code, string output) = CliProcess.Run(TimeSpan.FromMinutes(1), "simulate", "--broker", broker.Address, "--weights", tool.Weights, "--devices", "12", "--count", "30", "--device-prefix", "cli-");
            Assert.True(code == 0, output);
            Assert.Contains("simulate: 360 messages acknowledged by the broker", output);
            await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted >= 360, TimeSpan.FromSeconds(30), () => serve.Log);
            await serve.StopAsync();
            Harness.AssertExactlyOnce(Harness.Keys(db), Enumerable.Range(0, 12).Select(i => $"cli-{i:D4}"), 30);

            // The tool's packets are the codec's bytes for the bundled digits in order: check the first device's first row.
            byte[] first = tool.Packets(1)[0];
            PacketFormat.Resequence(first, 0);
            using var connection = Harness.Connect(db);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT packet FROM edgeae_samples WHERE device = 'cli-0000' AND sequence = 0";
            Assert.Equal(first, (byte[])command.ExecuteScalar()!);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Services.Delete(folder);
        }
    }
}
