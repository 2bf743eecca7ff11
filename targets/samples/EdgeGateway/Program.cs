using System.Diagnostics;
using System.Globalization;
using EdgeAe.Compression;
using EdgeGateway;
using MQTTnet;
using MQTTnet.Protocol;

// An edge gateway: sensor rows in (CSV, 64 raw values per line: an 8×8 digit's pixels 0..16 for this model), sequenced
// packets out over MQTT at QoS 1. Options:
//   --broker mqtt://HOST:PORT | mqtts://HOST:PORT   (required; credentials from EDGEAE_MQTT_USERNAME/EDGEAE_MQTT_PASSWORD)
//   --device ID        this gateway's id: the topic's device level (required)
//   --input FILE       rows to read; default: stdin
//   --state FILE       where the next free sequence number is kept; default: edge-gateway.state
//   --topic PATTERN    default: devices/{device}/ae
//   --scale S          raw values are divided by S before encoding (the weight file's normalisation); default: 16
//   --ca-file PEM      mqtts:// with a private certificate authority
//   --count N          stop after N rows
//   --packets KIND     sequenced (version 2, default) or scored (version 3: also the model's anomaly score of the row)
// Exit codes: 0 done, 1 error (one line on stderr), 2 bad options.
try
{
    Options options = Options.Parse(args);
    return await Gateway.RunAsync(options);
}
catch (GatewayException e)
{
    Console.Error.WriteLine("edge-gateway: " + e.Message);
    return e.ExitCode;
}

/// <summary>A problem the user fixes: one line, an exit code.</summary>
internal sealed class GatewayException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The command line, parsed by hand (no reflection: the binary is trimmed and compiled ahead of time).</summary>
internal sealed record Options(Uri Broker, string Device, string? Input, string State, string Topic, float Scale, string? CaFile, long? Count, bool Scored)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new GatewayException($"expected --option value pairs, found '{args[i]}'", 2);
            }

            values[args[i][2..]] = args[i + 1];
        }

        string Take(string name, string? fallback = null)
        {
            if (values.Remove(name, out string? value))
            {
                return value;
            }

            return fallback ?? throw new GatewayException($"--{name} is required", 2);
        }

        string broker = Take("broker");
        if (!Uri.TryCreate(broker, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("mqtt" or "mqtts") || uri.UserInfo.Length > 0)
        {
            throw new GatewayException($"--broker '{(uri?.UserInfo.Length > 0 ? "(with credentials)" : broker)}' is not mqtt://HOST:PORT or mqtts://HOST:PORT (credentials go in EDGEAE_MQTT_USERNAME/EDGEAE_MQTT_PASSWORD)", 2);
        }

        string device = Take("device");
        if (device.Length == 0 || device.IndexOfAny(['/', '+', '#']) >= 0)
        {
            throw new GatewayException($"--device '{device}' must be a non-empty id without '/', '+' or '#'", 2);
        }

        string input = Take("input", "-");
        string scale = Take("scale", "16");
        string count = Take("count", "-1");
        if (!float.TryParse(scale, NumberStyles.Float, CultureInfo.InvariantCulture, out float s) || !(s > 0) || !float.IsFinite(s))
        {
            throw new GatewayException($"--scale '{scale}' is not a positive number", 2);
        }

        if (!long.TryParse(count, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) || n < -1)
        {
            throw new GatewayException($"--count '{count}' is not a number of rows", 2);
        }

        string packets = Take("packets", "sequenced");
        if (packets is not ("sequenced" or "scored"))
        {
            throw new GatewayException($"--packets '{packets}' is not sequenced or scored", 2);
        }

        var options = new Options(uri, device, input == "-" ? null : input, Take("state", "edge-gateway.state"),
            Take("topic", "devices/{device}/ae").Replace("{device}", device, StringComparison.Ordinal), s,
            values.Remove("ca-file", out string? ca) ? ca : null, n < 0 ? null : n, packets == "scored");
        if (values.Count > 0)
        {
            throw new GatewayException($"unknown option --{values.Keys.First()}", 2);
        }

        return options;
    }
}

/// <summary>
/// The device's sequence numbers, never reused across restarts: the state file holds the first number not yet
/// reserved; the gateway reserves a block of numbers at a time (one atomic file write per block, EdgeAe.IO.AtomicFile),
/// so a crash loses at most the rest of a block — a gap, never a repeat.
/// </summary>
internal sealed class SequenceBlock(string path, uint blockSize = 1000)
{
    private uint _next;
    private uint _end;

    public uint Next()
    {
        if (_next == _end)
        {
            Reserve();
        }

        return _next++;
    }

    private void Reserve()
    {
        uint first = 0;
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path).Trim();
            if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out first))
            {
                throw new GatewayException($"state file {path} does not hold a sequence number ('{text}'): fix or remove it only if this device's rows were never stored");
            }
        }

        if (first > uint.MaxValue - blockSize)
        {
            throw new GatewayException($"state file {path}: the 32-bit sequence numbers of this device are used up");
        }

        // Temporary file, flushed to disk, renamed over the old one: a crash leaves the old block or the new one.
        EdgeAe.IO.AtomicFile.WriteAllText(path, (first + blockSize).ToString(CultureInfo.InvariantCulture) + "\n");
        _next = first;
        _end = first + blockSize;
    }
}

internal static class Gateway
{
    public static async Task<int> RunAsync(Options options)
    {
        var model = new GatewayDigitsAe();
        PacketCodec codec = model.CreatePacketCodec();
        var sequences = new SequenceBlock(options.State);
        using IMqttClient client = new MqttClientFactory().CreateMqttClient();
        MqttClientOptions connection = ConnectionOptions(options);
        await ConnectAsync(client, connection, options, first: true);

        TextReader input = options.Input is null ? Console.In : new StreamReader(options.Input);
        var row = new float[GatewayDigitsAe.InputSize];
        var packet = new byte[options.Scored ? codec.ScoredPacketLength : codec.SequencedPacketLength];
        long rows = 0;
        uint firstSequence = 0;
        var clock = Stopwatch.StartNew();
        string? line;
        while ((options.Count is null || rows < options.Count) && (line = input.ReadLine()) is not null)
        {
            if (line.Trim().Length == 0)
            {
                continue;
            }

            Parse(line, rows + 1, options.Scale, row);
            uint sequence = sequences.Next();
            firstSequence = rows == 0 ? sequence : firstSequence;
            // The portable encoder (and score): the same bytes as the firmware's EncodePacket.
            if (options.Scored)
            {
                try
                {
                    codec.Encode(row, sequence, packet, out _);
                }
                catch (ArgumentException e)
                {
                    throw new GatewayException($"row {rows + 1}: {e.Message}");
                }
            }
            else
            {
                codec.Encode(row, sequence, packet);
            }

            await PublishAsync(client, connection, options, packet);
            rows++;
        }

        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"edge-gateway: {rows} rows → {rows} {(options.Scored ? "scored " : "")}packets of {packet.Length} bytes (model id 0x{codec.ModelId:X4}, sequences {firstSequence}–{firstSequence + rows - 1}) to {options.Topic} in {clock.Elapsed.TotalSeconds:0.00} s"));
        return 0;
    }

    private static void Parse(string line, long number, float scale, float[] row)
    {
        string[] fields = line.Split(',');
        if (fields.Length != row.Length)
        {
            throw new GatewayException($"row {number} has {fields.Length} values; this model takes {row.Length}");
        }

        for (int i = 0; i < fields.Length; i++)
        {
            if (!float.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
            {
                throw new GatewayException($"row {number}, value {i + 1}: '{fields[i].Trim()}' is not a number");
            }

            row[i] = value / scale;
        }
    }

    private static MqttClientOptions ConnectionOptions(Options options)
    {
        bool tls = options.Broker.Scheme == "mqtts";
        MqttClientOptionsBuilder builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Broker.IdnHost, options.Broker.IsDefaultPort || options.Broker.Port < 0 ? (tls ? 8883 : 1883) : options.Broker.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId("edgeae-gateway-" + options.Device)
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(10));
        string? user = Environment.GetEnvironmentVariable("EDGEAE_MQTT_USERNAME");
        if (!string.IsNullOrEmpty(user))
        {
            builder = builder.WithCredentials(user, Environment.GetEnvironmentVariable("EDGEAE_MQTT_PASSWORD"));
        }

        if (tls)
        {
            builder = builder.WithTlsOptions(t =>
            {
                t.UseTls().WithTargetHost(options.Broker.IdnHost);
                if (options.CaFile is not null)
                {
                    var authority = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
                    authority.ImportFromPemFile(options.CaFile);
                    t.WithTrustChain(authority);
                }
            });
        }

        return builder.Build();
    }

    private static async Task ConnectAsync(IMqttClient client, MqttClientOptions connection, Options options, bool first)
    {
        for (int attempt = 0; ; attempt++)
        {
            string problem;
            try
            {
                MqttClientConnectResult result = await client.ConnectAsync(connection);
                if (result.ResultCode == MqttClientConnectResultCode.Success)
                {
                    return;
                }

                problem = "the broker refused the connection: " + result.ResultCode;
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
            {
                problem = e.InnerException?.Message ?? e.Message;
            }

            if (first)
            {
                throw new GatewayException($"cannot connect to the broker at {options.Broker}: {problem}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 << Math.Min(attempt, 6))));
        }
    }

    /// <summary>Publishes until the broker has the packet and a subscriber for it: again after a lost connection or a "no matching subscribers".</summary>
    private static async Task PublishAsync(IMqttClient client, MqttClientOptions connection, Options options, byte[] packet)
    {
        MqttApplicationMessage message = new MqttApplicationMessageBuilder()
            .WithTopic(options.Topic)
            .WithPayload(packet.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var waiting = Stopwatch.StartNew();
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                if (!client.IsConnected)
                {
                    await ConnectAsync(client, connection, options, first: false);
                }

                MqttClientPublishResult result = await client.PublishAsync(message);
                if (result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
                {
                    if (!result.IsSuccess)
                    {
                        throw new GatewayException($"the broker refused a packet: {result.ReasonCode}");
                    }

                    return;
                }

                if (waiting.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new GatewayException($"the broker has had no subscriber for {options.Topic} for 30 s: is edgeae serve running?");
                }
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
            {
                // Lost the connection: reconnect and publish the same packet again (the server stores it once).
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 20 << Math.Min(attempt, 6))));
        }
    }
}
