using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.Fleet.Tests.Fixtures;

namespace EdgeAe.Fleet.Tests;

/// <summary>
/// The NativeAOT edge-gateway sample (targets/samples/EdgeGateway): published for linux-x64 and linux-arm64 with zero
/// trimming/AOT warnings, run natively and under qemu-user against a real Mosquitto, its packets stored by serve and
/// bit-identical to the desktop codec's. Opt-in with <c>EDGEAE_GATEWAY_AOT=1</c> (two AOT compilations, minutes);
/// .ci/run runs it as its own leg.
/// </summary>
public sealed class EdgeGatewayTests(ToolWeights tool) : IClassFixture<ToolWeights>, IDisposable
{
    /// <summary>The environment variable that enables these tests.</summary>
    public const string Variable = "EDGEAE_GATEWAY_AOT";

    private const int Rows = 60;
    private readonly string _folder = Services.TempFolder("edgeae-gateway", null);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Services.Delete(_folder);
    }

    [Fact]
    public async Task The_gateway_compiles_ahead_of_time_for_x64_and_arm64_without_warnings_and_its_packets_are_stored_bit_identical()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable(Variable) == "1", $"opt-in: set {Variable}=1 (NativeAOT for linux-x64 and linux-arm64; .ci/run does)");
        Assert.SkipUnless(MosquittoBroker.IsAvailable, MosquittoBroker.SkipMessage);
        foreach (string tool in new[] { "/usr/bin/clang", "/usr/bin/aarch64-linux-gnu-objcopy", "/usr/bin/aarch64-linux-gnu-ld.bfd", "/usr/bin/qemu-aarch64" })
        {
            Assert.SkipUnless(File.Exists(tool), $"needs {tool}: the Debian packages clang, gcc-aarch64-linux-gnu, zlib1g-dev:arm64 and qemu-user");
        }

        string x64 = Publish("linux-x64");
        string arm64 = Publish("linux-arm64");

        // Raw rows (pixels 0..16) as a device reads them; the gateway divides by 16 like the weight file's normalisation.
        Dataset raw = BundledData.DigitsRaw();
        string rows = Path.Combine(_folder, "rows.csv");
        File.WriteAllLines(rows, Enumerable.Range(0, Rows).Select(i => string.Join(',', raw[i].ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));

        using var broker = new MosquittoBroker();
        string db = Path.Combine(_folder, "gateway.db");
        var model = new FleetDigitsAe();
        PacketCodec codec = PacketCodec.Load(tool.Weights, model);
        await using ServeInstance serve = await ServeInstance.StartAsync(Harness.Serve(broker.Address, "serve-gateway"), codec, db);
        Run(broker.Address, x64, [], "gw-x64", rows);
        Run(broker.Address, "/usr/bin/qemu-aarch64", [arm64], "gw-arm64", rows, scored: true);
        await Harness.EventuallyAsync(() => serve.Server.Counters.Inserted >= 2 * Rows, TimeSpan.FromSeconds(60), () => serve.Log);
        await serve.StopAsync();
        Harness.AssertExactlyOnce(Harness.Keys(db), ["gw-x64", "gw-arm64"], Rows);

        // Both gateways wrote the desktop codec's bytes (the portable encoder, the firmware's arithmetic) for each row: the
        // x64 one sequenced packets, the ARM64 one scored packets, whose score serve stored as the device's.
        using var connection = Harness.Connect(db);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT device, sequence, packet, device_score FROM edgeae_samples";
        using var reader = command.ExecuteReader();
        var sequenced = new byte[codec.SequencedPacketLength];
        var scored = new byte[codec.ScoredPacketLength];
        Dataset normalised = BundledData.Digits();
        int compared = 0;
        while (reader.Read())
        {
            int sequence = (int)reader.GetInt64(1);
            bool arm64Row = reader.GetString(0) == "gw-arm64";
            float score = float.NaN;
            if (arm64Row)
            {
                codec.Encode(normalised[sequence], (uint)sequence, scored, out score);
            }
            else
            {
                codec.Encode(normalised[sequence], (uint)sequence, sequenced);
            }

            byte[] expected = arm64Row ? scored : sequenced;
            Assert.True(expected.AsSpan().SequenceEqual((byte[])reader.GetValue(2)), $"{reader.GetString(0)} sequence {sequence}");
            Assert.Equal(arm64Row, !reader.IsDBNull(3));
            if (arm64Row)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(score), BitConverter.SingleToInt32Bits((float)reader.GetDouble(3)));
            }

            compared++;
        }

        Assert.Equal(2 * Rows, compared);
    }

    private string Publish(string rid)
    {
        string output = Path.Combine(_folder, rid);
        string project = Path.Combine(RepositoryRoot, "targets", "samples", "EdgeGateway", "EdgeGateway.csproj");
        (int code, string log) = Services.RunCapture("dotnet", ["publish", project, "-c", "Release", "-r", rid, "-o", output, $"-p:DigitsWeights={tool.Weights}",
            "--artifacts-path", Path.Combine(_folder, "artifacts-" + rid), "-nodeReuse:false", "-v:minimal", "-clp:NoSummary"], TimeSpan.FromMinutes(8));
        Assert.True(code == 0, log);
        string[] warnings = log.Split('\n').Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase)).ToArray();
        Assert.True(warnings.Length == 0, "trimming/AOT warnings:\n" + string.Join('\n', warnings));
        string binary = Path.Combine(output, "EdgeGateway");
        long size = new FileInfo(binary).Length;
        string line = string.Create(CultureInfo.InvariantCulture, $"| edge gateway, NativeAOT {rid} | {size:N0} bytes ({size / 1048576.0:0.0} MiB), 0 warnings |");
        File.AppendAllText(Environment.GetEnvironmentVariable("EDGEAE_FLEET_LOAD_REPORT") ?? Path.Combine(Path.GetTempPath(), "edgeae-fleet-load.md"), line + Environment.NewLine);
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        return binary;
    }

    private void Run(string broker, string program, string[] prefix, string device, string rows, bool scored = false)
    {
        string[] packets = scored ? ["--packets", "scored"] : [];
        (int code, string output) = Services.RunCapture(program, [.. prefix, "--broker", broker, "--device", device, "--input", rows, "--state", Path.Combine(_folder, device + ".state"), .. packets], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, output);
        Assert.Contains($"{Rows} rows → {Rows} {(scored ? "scored " : "")}packets", output);
        Assert.Equal("1000", File.ReadAllText(Path.Combine(_folder, device + ".state")).Trim()); // one block of numbers reserved
    }

    private static string RepositoryRoot
    {
        get
        {
            string? folder = AppContext.BaseDirectory;
            while (folder is not null && !File.Exists(Path.Combine(folder, "EdgeAe.sln")))
            {
                folder = Path.GetDirectoryName(folder);
            }

            return folder ?? throw new InvalidOperationException("EdgeAe.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
