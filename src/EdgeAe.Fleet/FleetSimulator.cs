using System.Diagnostics;
using System.Globalization;
using EdgeAe.Compression;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeAe.Fleet;

/// <summary>Settings of <c>simulate</c>: how many devices, how many messages each, how fast.</summary>
public sealed record SimulateOptions
{
    /// <summary>The broker and how to reach it.</summary>
    public required BrokerOptions Broker { get; init; }

    /// <summary>The topic pattern: each device publishes to the filter with its id in place of <c>+</c>.</summary>
    public DeviceTopics Topics { get; init; } = DeviceTopics.Parse(DeviceTopics.DefaultFilter);

    /// <summary>Number of devices, each with its own MQTT connection.</summary>
    public required int Devices { get; init; }

    /// <summary>Messages each device publishes.</summary>
    public required int Count { get; init; }

    /// <summary>Messages per second per device; 0: as fast as the broker acknowledges.</summary>
    public double Rate { get; init; }

    /// <summary>Device ids are this prefix and a zero-padded number: <c>sim-0000</c>, <c>sim-0001</c>, …</summary>
    public string DevicePrefix { get; init; } = "sim-";

    /// <summary>The first sequence number of every device (continue a previous run with its end).</summary>
    public uint FirstSequence { get; init; }

    /// <summary>Connections opened at once while starting up.</summary>
    public int ConnectConcurrency { get; init; } = 32;

    /// <summary>
    /// How long a device keeps publishing a message again that the broker acknowledged with "no matching subscribers"
    /// (dropped: serve not subscribed yet, or between a reconnection and its new subscription) before the run fails.
    /// </summary>
    public TimeSpan SubscriberWait { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>What a simulation did.</summary>
/// <param name="Published">Messages the broker acknowledged and delivered to a subscription (each device's sequence numbers, once each).</param>
/// <param name="NoSubscribers">Times the broker acknowledged a message with "no matching subscribers" (it dropped it); each was published again.</param>
/// <param name="Retries">Messages published again after a lost connection (the server stores them once).</param>
/// <param name="Elapsed">From the first connection to the last acknowledgement.</param>
public readonly record struct SimulateResult(long Published, long NoSubscribers, long Retries, TimeSpan Elapsed)
{
    /// <summary>Published messages per second over <see cref="Elapsed"/>.</summary>
    public double Rate => Elapsed > TimeSpan.Zero ? Published / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// A load generator that publishes as a fleet of devices would: each device its own MQTT connection, version-2 (or
/// version-3, scored) packets with its own sequence numbers at QoS 1, each packet republished after a lost connection
/// until the broker acknowledges it. The packets are the codec's bytes for real data rows — the same bytes the
/// firmware's <c>EncodePacket(input, sequence, packet)</c> (or <c>EncodePacket(input, sequence, packet, out score)</c>)
/// writes (each row is encoded once; each message is that packet with the message's sequence number and a fresh check
/// byte, <see cref="PacketFormat.Resequence"/>: neither the code nor the score depends on the number).
/// </summary>
public sealed class FleetSimulator
{
    private readonly SimulateOptions _options;
    private readonly byte[][] _packets;
    private readonly TextWriter _log;
    private long _published, _noSubscribers, _retries;

    /// <summary>A simulator publishing <paramref name="packets"/> (version-2 or version-3 packets of data rows, any sequence number), device after device through the rows.</summary>
    public FleetSimulator(SimulateOptions options, IReadOnlyList<byte[]> packets, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(packets);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Devices, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Count);
        if (!(options.Rate >= 0) || double.IsInfinity(options.Rate))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Rate, "The rate is messages per second per device, 0 or more.");
        }

        if (packets.Count == 0 || packets.Any(p => p is null || p.Length == 0
            || PacketFormat.VersionOf(p[0]) is not (PacketFormat.SequencedVersion or PacketFormat.ScoredVersion)
            || p.Length < PacketFormat.OverheadOf(PacketFormat.VersionOf(p[0]))))
        {
            throw new ArgumentException("Expected at least one version-2 (sequenced) or version-3 (scored) packet.", nameof(packets));
        }

        _options = options;
        _packets = packets.ToArray();
        _log = log ?? TextWriter.Null;
    }

    /// <summary>Raised just before a message is published the first time (device id, sequence number, <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public event Action<string, uint, long>? Publishing;

    /// <summary>Messages acknowledged so far.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>The device id of device number <paramref name="index"/>.</summary>
    public string DeviceId(int index) => _options.DevicePrefix + index.ToString(_options.Devices > 10000 ? "D6" : "D4", CultureInfo.InvariantCulture);

    /// <summary>Connects every device, publishes every message, disconnects; stops early when <paramref name="stop"/> is cancelled.</summary>
    public async Task<SimulateResult> RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var clients = new IMqttClient[_options.Devices];
        var factory = new MqttClientFactory();
        try
        {
            using (var gate = new SemaphoreSlim(_options.ConnectConcurrency))
            {
                await Task.WhenAll(Enumerable.Range(0, _options.Devices).Select(async d =>
                {
                    await gate.WaitAsync(stop).ConfigureAwait(false);
                    try
                    {
                        clients[d] = factory.CreateMqttClient();
                        await ConnectAsync(clients[d], d, first: true, stop).ConfigureAwait(false);
                    }
                    finally
                    {
                        gate.Release();
                    }
                })).ConfigureAwait(false);
            }

            _log.WriteLine($"simulate: {_options.Devices} devices connected to {_options.Broker.Endpoint} in {clock.Elapsed.TotalSeconds:0.0} s");
            clock.Restart();
            long start = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, _options.Devices).Select(d => Task.Run(() => RunDeviceAsync(clients[d], d, start, stop), stop))).ConfigureAwait(false);
            TimeSpan elapsed = clock.Elapsed;
            return new SimulateResult(Published, Interlocked.Read(ref _noSubscribers), Interlocked.Read(ref _retries), elapsed);
        }
        finally
        {
            foreach (IMqttClient? client in clients)
            {
                if (client is null)
                {
                    continue;
                }

                try
                {
                    if (client.IsConnected)
                    {
                        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
                {
                }

                client.Dispose();
            }
        }
    }

    private async Task RunDeviceAsync(IMqttClient client, int device, long start, CancellationToken stop)
    {
        string id = DeviceId(device);
        string topic = _options.Topics.TopicOf(id);
        double period = _options.Rate > 0 ? 1.0 / _options.Rate : 0;
        double phase = period * device / _options.Devices; // spread the devices over one period
        for (int k = 0; k < _options.Count && !stop.IsCancellationRequested; k++)
        {
            if (period > 0)
            {
                double due = phase + (k * period) - Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (due > 0.001)
                {
                    await Task.Delay(TimeSpan.FromSeconds(due), stop).ConfigureAwait(false);
                }
            }

            uint sequence = unchecked(_options.FirstSequence + (uint)k);
            byte[] packet = (byte[])_packets[(int)(((long)device * 7919 + k) % _packets.Length)].Clone();
            PacketFormat.Resequence(packet, sequence);
            MqttApplicationMessage message = new MqttApplicationMessageBuilder()
                .WithTopic(topic)
                .WithPayload(packet)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            Publishing?.Invoke(id, sequence, Stopwatch.GetTimestamp());
            long? undeliveredSince = null;
            for (int attempt = 0; ; attempt++)
            {
                if (attempt > 0 && undeliveredSince is null)
                {
                    Interlocked.Increment(ref _retries);
                }

                try
                {
                    if (!client.IsConnected)
                    {
                        await ConnectAsync(client, device, first: false, stop).ConfigureAwait(false);
                    }

                    MqttClientPublishResult result = await client.PublishAsync(message, stop).ConfigureAwait(false);
                    if (result.ReasonCode == MqttClientPublishReasonCode.NoMatchingSubscribers)
                    {
                        // The broker dropped it: nobody subscribed (yet). Not delivered, so published again shortly.
                        Interlocked.Increment(ref _noSubscribers);
                        undeliveredSince ??= Stopwatch.GetTimestamp();
                        if (Stopwatch.GetElapsedTime(undeliveredSince.Value) > _options.SubscriberWait)
                        {
                            throw new FleetConfigurationException($"the broker at {_options.Broker.Endpoint} has had no subscriber for {topic} for {_options.SubscriberWait.TotalSeconds:0} s: start serve (or create its session) before simulate");
                        }

                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 20 << Math.Min(attempt, 6))), stop).ConfigureAwait(false);
                        continue;
                    }

                    if (!result.IsSuccess)
                    {
                        throw new FleetConfigurationException($"the broker refused a message of {id} on {topic}: {result.ReasonCode} {result.ReasonString}");
                    }

                    Interlocked.Increment(ref _published);
                    break;
                }
                catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Exceptions.MqttClientNotConnectedException or OperationCanceledException or InvalidOperationException && !stop.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 << Math.Min(attempt, 5))), stop).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ConnectAsync(IMqttClient client, int device, bool first, CancellationToken stop)
    {
        string clientId = "edgeae-" + DeviceId(device);
        for (int attempt = 0; ; attempt++)
        {
            string problem;
            try
            {
                // Publishers keep no session: what a device has not had acknowledged, it publishes again itself.
                MqttClientConnectResult result = await client.ConnectAsync(_options.Broker.ClientOptions(clientId, 0, 16), stop).ConfigureAwait(false);
                if (result.ResultCode == MqttClientConnectResultCode.Success)
                {
                    return;
                }

                problem = $"the broker refused the connection: {result.ResultCode}";
                if (result.ResultCode is MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized)
                {
                    throw new FleetConfigurationException($"{_options.Broker.Endpoint}: {problem}; credentials come from {_options.Broker.Credentials?.Source ?? $"nowhere (set {BrokerCredentials.UserVariable}/{BrokerCredentials.PasswordVariable} or --credentials FILE)"}");
                }
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                || (e is OperationCanceledException && !stop.IsCancellationRequested) || (e is InvalidOperationException && !first))
            {
                problem = e.InnerException?.Message ?? e.Message;
            }

            if (first)
            {
                throw new FleetConfigurationException($"cannot connect to the broker at {_options.Broker.Endpoint}: {problem}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 << Math.Min(attempt, 5))), stop).ConfigureAwait(false);
        }
    }
}
