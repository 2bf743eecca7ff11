using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using EdgeAe.Compression;
using EdgeAe.Data;
using EdgeAe.Fleet;
using EdgeAe.Fleet.Storage;
using EdgeAe.IO;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

/// <summary>Options serve and simulate share: the model and its weights, the broker, credentials, TLS, the topic.</summary>
internal class BrokerSettings : CommonSettings
{
    [CommandOption("--broker <URL>")]
    [Description("The MQTT broker: mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS. Credentials never go here: set EDGEAE_MQTT_USERNAME/EDGEAE_MQTT_PASSWORD or use --credentials.")]
    public string? Broker { get; set; }

    [CommandOption("--weights <FILE>")]
    [Description("The weight file the devices' packets were made with (its CRC-32 is the packets' model id).")]
    public string? Weights { get; set; }

    [CommandOption("--model <FILE>")]
    [Description("The C# declaration of the model; default: the built-in DigitsAe.")]
    public string? Model { get; set; }

    [CommandOption("--bits <N>")]
    [Description("8 or 16 bits per code value; default: the weight file's (train --code-bits).")]
    public int? Bits { get; set; }

    [CommandOption("--topic <FILTER>")]
    [Description("The topic filter devices publish under; its '+' level is the device id.")]
    [DefaultValue(DeviceTopics.DefaultFilter)]
    public string Topic { get; set; } = DeviceTopics.DefaultFilter;

    [CommandOption("--credentials <FILE>")]
    [Description("A file of 'username=…' and 'password=…' lines, readable by its owner only (chmod 600); default: EDGEAE_MQTT_USERNAME/EDGEAE_MQTT_PASSWORD, else anonymous.")]
    public string? Credentials { get; set; }

    [CommandOption("--ca-file <PEM>")]
    [Description("mqtts://: the certificate authority of the broker's certificate; default: the system's trust store.")]
    public string? CaFile { get; set; }

    [CommandOption("--client-cert <PEM>")]
    [Description("mqtts://: a client certificate, for brokers that require one (with --client-key).")]
    public string? ClientCertificate { get; set; }

    [CommandOption("--client-key <PEM>")]
    [Description("mqtts://: the private key of --client-cert.")]
    public string? ClientKey { get; set; }

    public override ValidationResult Validate()
        => Broker is null ? ValidationResult.Error("--broker <URL> is required (mqtt://HOST:PORT)")
            : Weights is null ? ValidationResult.Error("--weights <FILE> is required")
            : Bits is not (null or 8 or 16) ? Invalid("--bits", Bits.Value.ToString(CultureInfo.InvariantCulture), "expected 8 or 16")
            : Json ? ValidationResult.Error("--json: serve and simulate run until stopped and print statistics lines, not one JSON object")
            : Malformed(() => Fleet.BrokerOptions.CheckTlsOptions(BrokerEndpoint.Parse(Broker), CaFile, ClientCertificate, ClientKey))
                ?? Malformed(() => DeviceTopics.Parse(Topic))
                ?? base.Validate();

    /// <summary>
    /// A setting the fleet library finds malformed in itself (an address, a topic filter, TLS options that do not go
    /// together) is a usage error, exit code 2, like any bad option value; files and servers are checked when the
    /// command runs (exit code 1).
    /// </summary>
    protected static ValidationResult? Malformed(Action check)
    {
        try
        {
            check();
            return null;
        }
        catch (FleetConfigurationException e)
        {
            return ValidationResult.Error(e.Message);
        }
    }

    /// <summary>The broker options; configuration errors become one-line CLI errors.</summary>
    public BrokerOptions BrokerOptions()
        => FleetCli.Guard(() =>
        {
            var options = new BrokerOptions
            {
                Endpoint = BrokerEndpoint.Parse(Broker!),
                Credentials = BrokerCredentials.Resolve(Credentials),
                CaFile = CaFile,
                ClientCertificateFile = ClientCertificate,
                ClientKeyFile = ClientKey,
            };
            options.Validate();
            return options;
        });

    /// <summary>The model with the weight file's parameters, its packet codec and the file's normalisation.</summary>
    public (ModelHandle Handle, PacketCodec Codec, Normalization Normalization) LoadCodec(CliEnvironment environment)
    {
        if (!File.Exists(Weights))
        {
            throw new CliException($"weight file not found: {Weights}");
        }

        ModelHandle handle = ModelHandle.Resolve(Model, environment);
        IAutoencoder model = handle.CreateFor(Weights!);
        PacketCodec codec = CodecCli.Load(Weights!, model, Bits, out Normalization normalization);
        return (handle, codec, normalization);
    }
}

internal sealed class ServeSettings : BrokerSettings
{
    [CommandOption("--db <FILE|URL>")]
    [Description("Where rows go: a SQLite file (created when missing), or postgres://USER@HOST:PORT/DATABASE (password from PGPASSWORD or ~/.pgpass) when several serve instances share one store.")]
    public string? Db { get; set; }

    [CommandOption("--group <NAME>")]
    [Description("The shared-subscription group ($share/NAME/filter): instances of one group split the messages. Empty: a plain subscription.")]
    [DefaultValue("edgeae")]
    public string Group { get; set; } = "edgeae";

    [CommandOption("--client-id <ID>")]
    [Description("This instance's MQTT client id and persistent session; give every instance its own. Default: edgeae-serve-HOSTNAME.")]
    public string? ClientId { get; set; }

    [CommandOption("--threshold <SCORE>")]
    [Description("Flag a sample whose anomaly score is above this. Default: the threshold `edgeae calibrate` stored in the weight file; without either the flag is stored as NULL (unknown).")]
    public string? Threshold { get; set; }

    [CommandOption("--store-reconstruction")]
    [Description("Also store each reconstruction (InputSize float32, the data's original units).")]
    public bool StoreReconstruction { get; set; }

    [CommandOption("--batch <N>")]
    [Description("Most messages per transaction.")]
    [DefaultValue(1000)]
    public int Batch { get; set; } = 1000;

    [CommandOption("--inflight <N>")]
    [Description("Unacknowledged messages the broker may send ahead (MQTT 5 receive maximum, 1–65535); about 4 batches keeps every stage busy.")]
    [DefaultValue(4000)]
    public int Inflight { get; set; } = 4000;

    [CommandOption("--session-expiry <SECONDS>")]
    [Description("How long the broker keeps this instance's session and queues its messages while it is away.")]
    [DefaultValue(86400L)]
    public long SessionExpiry { get; set; } = 86400;

    [CommandOption("--stats <SECONDS>")]
    [Description("Print a statistics line this often; 0: only at the end.")]
    [DefaultValue(10)]
    public int Stats { get; set; } = 10;

    public float? ParsedThreshold { get; private set; }

    public override ValidationResult Validate()
    {
        if (Db is null)
        {
            return ValidationResult.Error("--db <FILE|URL> is required (a SQLite file or postgres://USER@HOST:PORT/DATABASE)");
        }

        if (Threshold is not null)
        {
            if (!TryParseFloat(Threshold, out float threshold))
            {
                return Invalid("--threshold", Threshold, "expected a finite number");
            }

            ParsedThreshold = threshold;
        }

        return Batch < 1 ? Invalid("--batch", Batch.ToString(CultureInfo.InvariantCulture), "expected a positive integer")
            : Inflight is < 1 or > ushort.MaxValue ? Invalid("--inflight", Inflight.ToString(CultureInfo.InvariantCulture), "expected 1 to 65535")
            : SessionExpiry is < 0 or > uint.MaxValue ? Invalid("--session-expiry", SessionExpiry.ToString(CultureInfo.InvariantCulture), "expected 0 to 4294967295 seconds")
            : Stats < 0 ? Invalid("--stats", Stats.ToString(CultureInfo.InvariantCulture), "expected 0 or more seconds")
            : (FleetStore.IsPostgres(Db) ? Malformed(() => PostgresFleetStore.ConnectionSettings(Db, Environment.GetEnvironmentVariable)) : null)
                ?? base.Validate();
    }

    private static bool TryParseFloat(string text, out float value)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
}

/// <summary><c>edgeae serve</c>: packets from MQTT into rows, until SIGINT or SIGTERM.</summary>
internal sealed class ServeCommand(CliEnvironment environment) : AsyncCommand<ServeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServeSettings settings, CancellationToken cancellationToken)
    {
        BrokerOptions broker = settings.BrokerOptions();
        DeviceTopics topics = FleetCli.Guard(() => DeviceTopics.Parse(settings.Topic));
        (ModelHandle handle, PacketCodec codec, Normalization normalization) = settings.LoadCodec(environment);
        var options = new ServeOptions
        {
            Broker = broker,
            ClientId = settings.ClientId ?? "edgeae-serve-" + Environment.MachineName.ToLowerInvariant(),
            Group = settings.Group,
            Topics = topics,
            SessionExpirySeconds = (uint)settings.SessionExpiry,
            ReceiveMaximum = (ushort)settings.Inflight,
            MaxBatch = settings.Batch,
            StatisticsInterval = TimeSpan.FromSeconds(settings.Stats),
        };
        float? threshold = FleetCli.Threshold(settings.ParsedThreshold, settings.Weights!);
        var processor = new PacketProcessor(codec, new ModelScorer(codec.Model), topics, threshold, settings.StoreReconstruction ? normalization : null);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(environment.Cancellation, cancellationToken);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        // A SQLite file this run creates is removed again if serve never connects (a refused broker, a stop before the
        // first connection): a failed command leaves what was there before.
        bool createsDatabase = !FleetStore.IsPostgres(settings.Db!) && !File.Exists(settings.Db!);
        IFleetStore store = await FleetCli.GuardAsync(() => FleetStore.OpenAsync(settings.Db!, stop.Token)).ConfigureAwait(false);
        FleetServer? server = null;
        try
        {
            TextWriter log = TextWriter.Synchronized(environment.Console.Profile.Out.Writer);
            log.WriteLine(FormattableString.Invariant($"serve: {handle.Name} {handle.Topology}, model id 0x{codec.ModelId:X4}, {codec.Quantizer.Bits}-bit packets of {codec.SequencedPacketLength} bytes ({codec.ScoredPacketLength} with the device's score, which then decides the flag); threshold {(threshold is { } t ? t.ToString("R", CultureInfo.InvariantCulture) + (settings.ParsedThreshold is null ? " (from the weight file)" : string.Empty) : "none (flag NULL)")}; storing in {store.Description} (schema {store.SchemaVersion})"));
            server = new FleetServer(options, processor, store, log);
            await FleetCli.GuardAsync(() => server.RunAsync(stop.Token)).ConfigureAwait(false);
            return CommandLine.Success;
        }
        finally
        {
            await store.DisposeAsync().ConfigureAwait(false);
            if (createsDatabase && (server is null || server.Counters.Connections == 0))
            {
                foreach (string suffix in new[] { "", "-wal", "-shm", "-journal" })
                {
                    File.Delete(settings.Db! + suffix);
                }
            }
        }

        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true; // stop cleanly: finish the batch in hand, then return
            stop.Cancel();
        }
    }
}

internal sealed class SimulateSettings : BrokerSettings
{
    [CommandOption("--devices <N>")]
    [Description("Number of simulated devices, each with its own connection and sequence numbers.")]
    public int? Devices { get; set; }

    [CommandOption("--count <M>")]
    [Description("Messages each device publishes, then simulate exits.")]
    public int? Count { get; set; }

    [CommandOption("--rate <R>")]
    [Description("Messages per second per device; 0: as fast as the broker acknowledges.")]
    [DefaultValue("0")]
    public string Rate { get; set; } = "0";

    [CommandOption("--data <FILE>")]
    [Description("The rows the devices send (IDX or CSV, optionally gzipped; normalised with the weight file's normalisation); default: the bundled UCI digits.")]
    public string? Data { get; set; }

    [CommandOption("--label-column <N>")]
    [Description("CSV: index of a label column to drop (negative counts from the end, -1 = last).")]
    public int? LabelColumn { get; set; }

    [CommandOption("--device-prefix <TEXT>")]
    [Description("Device ids are this prefix and a number: sim-0000, sim-0001, …")]
    [DefaultValue("sim-")]
    public string DevicePrefix { get; set; } = "sim-";

    [CommandOption("--first-sequence <N>")]
    [Description("Every device's first sequence number (to continue an earlier run without reusing numbers).")]
    [DefaultValue(0L)]
    public long FirstSequence { get; set; }

    [CommandOption("--wait-for-subscriber <SECONDS>")]
    [Description("How long a device publishes a message again that the broker dropped for want of a subscriber (serve not up yet) before simulate fails.")]
    [DefaultValue(30)]
    public int WaitForSubscriber { get; set; } = 30;

    [CommandOption("--device-score")]
    [Description("Publish scored (version-3) packets: each also carries the anomaly score of its row, computed as the device computes it; serve then flags by that score.")]
    public bool DeviceScore { get; set; }

    public double ParsedRate { get; private set; }

    public override ValidationResult Validate()
    {
        if (Devices is null)
        {
            return ValidationResult.Error("--devices <N> is required");
        }

        if (Count is null)
        {
            return ValidationResult.Error("--count <M> is required");
        }

        if (!double.TryParse(Rate, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || !(rate >= 0) || double.IsInfinity(rate))
        {
            return Invalid("--rate", Rate, "expected messages per second per device, 0 or more");
        }

        ParsedRate = rate;
        return Devices < 1 ? Invalid("--devices", Devices.Value.ToString(CultureInfo.InvariantCulture), "expected a positive integer")
            : Count < 0 ? Invalid("--count", Count.Value.ToString(CultureInfo.InvariantCulture), "expected 0 or more")
            : WaitForSubscriber < 0 ? Invalid("--wait-for-subscriber", WaitForSubscriber.ToString(CultureInfo.InvariantCulture), "expected 0 or more seconds")
            : FirstSequence is < 0 or > uint.MaxValue ? Invalid("--first-sequence", FirstSequence.ToString(CultureInfo.InvariantCulture), "expected 0 to 4294967295")
            : DevicePrefix.IndexOfAny(['/', '+', '#']) >= 0 ? Invalid("--device-prefix", DevicePrefix, "a device id cannot contain '/', '+' or '#'")
            : base.Validate();
    }
}

/// <summary><c>edgeae simulate</c>: a fleet of devices publishing real data rows as sequenced packets.</summary>
internal sealed class SimulateCommand(CliEnvironment environment) : AsyncCommand<SimulateSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SimulateSettings settings, CancellationToken cancellationToken)
    {
        BrokerOptions broker = settings.BrokerOptions();
        DeviceTopics topics = FleetCli.Guard(() => DeviceTopics.Parse(settings.Topic));
        (ModelHandle handle, PacketCodec codec, Normalization normalization) = settings.LoadCodec(environment);
        RawData raw = DataLoader.Load(settings.Data, new DataFileOptions(settings.LabelColumn, null), handle, environment);
        DataLoader.CheckWidth(raw, handle);
        Dataset data = Normalizer.Apply(raw.Data, normalization);

        // Each row is encoded once with the portable encoder (the firmware's arithmetic), and with --device-score scored
        // with the portable score (the firmware's Score, bit for bit); messages renumber those packets.
        int rows = Math.Min(data.Count, Math.Max(1, settings.Devices!.Value * settings.Count!.Value));
        int length = settings.DeviceScore ? codec.ScoredPacketLength : codec.SequencedPacketLength;
        var packets = new byte[rows][];
        for (int i = 0; i < rows; i++)
        {
            packets[i] = new byte[length];
            if (!settings.DeviceScore)
            {
                codec.Encode(data[i], 0, packets[i]);
                continue;
            }

            try
            {
                codec.Encode(data[i], 0, packets[i], out _);
            }
            catch (ArgumentException e) when (e.ParamName == "input")
            {
                // The codec refuses a non-finite score before writing (the packet length was checked above it).
                throw new CliException(FormattableString.Invariant($"row {i} of {raw.Name} has no finite anomaly score (a NaN or infinite value): a scored packet cannot carry it; fix the data or leave out --device-score"), inner: e);
            }
        }

        var options = new SimulateOptions
        {
            Broker = broker,
            Topics = topics,
            Devices = settings.Devices.Value,
            Count = settings.Count.Value,
            Rate = settings.ParsedRate,
            DevicePrefix = settings.DevicePrefix,
            FirstSequence = (uint)settings.FirstSequence,
            SubscriberWait = TimeSpan.FromSeconds(settings.WaitForSubscriber),
        };
        TextWriter log = TextWriter.Synchronized(environment.Console.Profile.Out.Writer);
        log.WriteLine(FormattableString.Invariant($"simulate: {options.Devices} devices × {options.Count} messages of {handle.Name} (model id 0x{codec.ModelId:X4}, {length}-byte {(settings.DeviceScore ? "scored" : "sequenced")} packets) from {rows} rows of {raw.Name}, {(options.Rate > 0 ? $"{options.Rate:0.###} msg/s per device" : "as fast as acknowledged")}, to {broker.Endpoint} under {topics.Filter}"));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(environment.Cancellation, cancellationToken);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
        {
            signal.Cancel = true;
            stop.Cancel();
        });
        var simulator = new FleetSimulator(options, packets, log);
        SimulateResult result = await FleetCli.GuardAsync(() => simulator.RunAsync(stop.Token)).ConfigureAwait(false);
        log.WriteLine(FormattableString.Invariant($"simulate: {result.Published} messages acknowledged by the broker in {result.Elapsed.TotalSeconds:0.00} s ({result.Rate:0} msg/s), {result.Retries} republished after a lost connection, {result.NoSubscribers} after the broker found no subscriber"));

        if (stop.IsCancellationRequested && result.Published < (long)options.Devices * options.Count)
        {
            environment.Error.WriteLine($"edgeae: interrupted after {result.Published} of {(long)options.Devices * options.Count} messages");
            return CommandLine.Cancelled;
        }

        return CommandLine.Success;
    }
}

/// <summary>Turns the fleet library's configuration errors into one-line CLI errors.</summary>
internal static class FleetCli
{
    /// <summary>The flag's threshold: <c>--threshold</c>, else the one <c>edgeae calibrate</c> stored in the weight file, else none.</summary>
    public static float? Threshold(float? option, string weightsPath) => option ?? WeightFile.ReadThreshold(weightsPath)?.Threshold;

    public static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (FleetConfigurationException e)
        {
            throw new CliException(e.Message, inner: e);
        }
    }

    public static async Task GuardAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (FleetConfigurationException e)
        {
            throw new CliException(e.Message, inner: e);
        }
    }

    public static async Task<T> GuardAsync<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (FleetConfigurationException e)
        {
            throw new CliException(e.Message, inner: e);
        }
    }
}
