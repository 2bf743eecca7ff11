using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using EdgeAe.Fleet.Storage;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeAe.Fleet;

/// <summary>Settings of one <c>serve</c> instance (docs/fleet.md).</summary>
public sealed record ServeOptions
{
    /// <summary>The broker and how to reach it.</summary>
    public required BrokerOptions Broker { get; init; }

    /// <summary>
    /// This instance's MQTT client id: its persistent session on the broker (the messages in flight to it survive a
    /// crash and are redelivered when it reconnects under the same id). Every instance needs its own.
    /// </summary>
    public required string ClientId { get; init; }

    /// <summary>The shared-subscription group (<c>$share/GROUP/filter</c>): instances of one group split the messages; empty: a plain subscription.</summary>
    public string Group { get; init; } = "edgeae";

    /// <summary>The topic filter devices publish under.</summary>
    public DeviceTopics Topics { get; init; } = DeviceTopics.Parse(DeviceTopics.DefaultFilter);

    /// <summary>How long the broker keeps this instance's session (and queues its share of messages) while it is away.</summary>
    public uint SessionExpirySeconds { get; init; } = 24 * 3600;

    /// <summary>
    /// Unacknowledged messages the broker may have in flight to this instance (MQTT 5 receive maximum): enough for a
    /// batch in each of the three stages (decode, commit, sync and acknowledge) and one arriving.
    /// </summary>
    public ushort ReceiveMaximum { get; init; } = 4000;

    /// <summary>Most messages written in one transaction (a commit and its sync have a cost of their own: larger batches spread it thinner).</summary>
    public int MaxBatch { get; init; } = 1000;

    /// <summary>How often a statistics line is written to the log; zero: never.</summary>
    public TimeSpan StatisticsInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The subscription the instance makes: <c>$share/GROUP/FILTER</c>, or the filter alone without a group.</summary>
    public string Subscription => Group.Length == 0 ? Topics.Filter : $"$share/{Group}/{Topics.Filter}";
}

/// <summary>A batch that was committed, for observers (statistics, tests, the load run's latency figures).</summary>
/// <param name="Rows">The sample rows offered to the store (new ones and duplicates).</param>
/// <param name="DeadLetters">The dead letters the processor produced (sequence reuses found by the store are in <paramref name="Result"/> only).</param>
/// <param name="Result">What the store did.</param>
/// <param name="ReceivedAtTimestamp">When the batch's first message arrived, in <see cref="Stopwatch.GetTimestamp"/> units.</param>
/// <param name="CommittedAtTimestamp">When the commit returned, in <see cref="Stopwatch.GetTimestamp"/> units.</param>
public sealed record CommittedBatch(IReadOnlyList<SampleRow> Rows, IReadOnlyList<DeadLetter> DeadLetters, WriteResult Result, long ReceivedAtTimestamp, long CommittedAtTimestamp);

/// <summary>Running totals of one <see cref="FleetServer"/>; read them at any time.</summary>
public sealed class ServeCounters
{
    internal long _received, _inserted, _duplicates, _deadLettered, _batches, _acknowledged, _connections, _storeFailures;
    internal long _processTicks, _storeTicks, _flushTicks, _acknowledgeTicks;

    /// <summary>Messages received from the broker (redeliveries included).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>New sample rows committed.</summary>
    public long Inserted => Interlocked.Read(ref _inserted);

    /// <summary>Redelivered packets recognised as already stored.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Dead letters committed.</summary>
    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    /// <summary>Transactions committed.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Messages acknowledged to the broker (after their batch committed).</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Successful connections to the broker (1 + reconnections).</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Batches whose write failed and was retried.</summary>
    public long StoreFailures => Interlocked.Read(ref _storeFailures);

    /// <summary>Time the consumer spent decoding and scoring (where the time goes: with <see cref="StoreTime"/>, <see cref="FlushTime"/> and <see cref="AcknowledgeTime"/>).</summary>
    public TimeSpan ProcessTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _processTicks));

    /// <summary>Time the consumer spent writing and committing batches.</summary>
    public TimeSpan StoreTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _storeTicks));

    /// <summary>Time the consumer spent making committed batches durable (<see cref="IFleetStore.FlushAsync"/>), while the next batch was written.</summary>
    public TimeSpan FlushTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _flushTicks));

    /// <summary>Time the consumer spent sending acknowledgements.</summary>
    public TimeSpan AcknowledgeTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _acknowledgeTicks));
}

/// <summary>
/// The <c>serve</c> engine: subscribes through a shared subscription at QoS 1 with a persistent session, and for each
/// batch of received messages decodes, scores and stores them in one transaction, then acknowledges them — in the
/// order they arrived, and only after the commit, so a crash never loses a message (the broker redelivers what was not
/// acknowledged) and the store's (device, sequence) key keeps a redelivered message from being stored twice.
/// Reconnects after a lost connection; a failed write is retried, never dropped.
/// </summary>
public sealed class FleetServer
{
    /// <summary>A connection the broker closes sooner than this after accepting it counts towards <see cref="QuickClosesToStop"/>.</summary>
    private static readonly TimeSpan QuickClose = TimeSpan.FromSeconds(5);

    /// <summary>Quick clean closes in a row that stop serve (another instance with the same client id, see <see cref="RunAsync"/>).</summary>
    private const int QuickClosesToStop = 3;

    private readonly ServeOptions _options;
    private readonly PacketProcessor _processor;
    private readonly IFleetStore _store;
    private readonly TextWriter _log;
    private readonly Channel<Incoming> _incoming = Channel.CreateUnbounded<Incoming>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private int _generation;
    private volatile string? _storeWarning;

    /// <summary>A server that decodes with <paramref name="processor"/> and writes to <paramref name="store"/>; progress and problems go to <paramref name="log"/>.</summary>
    public FleetServer(ServeOptions options, PacketProcessor processor, IFleetStore store, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(processor);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfZero(options.ReceiveMaximum);
        _options = options;
        _processor = processor;
        _store = store;
        _log = log ?? TextWriter.Null;
    }

    /// <summary>Running totals.</summary>
    public ServeCounters Counters { get; } = new();

    /// <summary>Raised on the consumer after each committed batch, before its messages are acknowledged.</summary>
    public event Action<CommittedBatch>? BatchCommitted;

    /// <summary>
    /// Runs until <paramref name="stop"/> is cancelled: then finishes the batch in hand (commit and acknowledge),
    /// disconnects (the session stays for its expiry, so messages published meanwhile wait at the broker) and returns.
    /// Throws <see cref="FleetConfigurationException"/> when the first connection or the subscription is refused.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using IMqttClient client = new MqttClientFactory().CreateMqttClient();
        var lost = new TaskCompletionSource<MqttClientDisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += e =>
        {
            e.AutoAcknowledge = false;
            long now = Stopwatch.GetTimestamp();
            _incoming.Writer.TryWrite(new Incoming(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), UnixMicros(), now, e, Volatile.Read(ref _generation)));
            return Task.CompletedTask;
        };
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected)
            {
                // A failed connection attempt raises this too; only the loss of an established connection restarts the loop.
                Volatile.Read(ref lost).TrySetResult(e);
            }

            return Task.CompletedTask;
        };

        await ConnectAsync(client, first: true, stop).ConfigureAwait(false);
        using var consumerStop = new CancellationTokenSource();

        // The consumer stops with serve, and also when serve ends with an error (after the batch in hand, as on stop).
        using var consuming = CancellationTokenSource.CreateLinkedTokenSource(stop);
        Task consumer = ConsumeAsync(client, consuming.Token);
        Task statistics = ReportAsync(consumerStop.Token);
        long connectedAt = Stopwatch.GetTimestamp();
        int quickCloses = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                MqttClientDisconnectedEventArgs reason;
                try
                {
                    // The consumer ends early only when the store cannot make batches durable: serve stops (below, its error).
                    Task<MqttClientDisconnectedEventArgs> connection = Volatile.Read(ref lost).Task;
                    if (await Task.WhenAny(connection, consumer).WaitAsync(stop).ConfigureAwait(false) != connection)
                    {
                        break;
                    }

                    reason = await connection.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                if (reason.Reason == MqttClientDisconnectReason.SessionTakenOver)
                {
                    throw new FleetConfigurationException($"another client connected to {_options.Broker.Endpoint} with client id '{_options.ClientId}' and took this session over: give every serve instance its own --client-id");
                }

                // Mosquitto 2.0 closes the older of two connections with one client id without a reason code, so two instances
                // sharing an id would take the session from each other for ever: a connection closed cleanly by the broker
                // within seconds of being accepted, several times in a row, ends serve with the likely cause.
                quickCloses = reason.Exception is null && Stopwatch.GetElapsedTime(connectedAt) < QuickClose ? quickCloses + 1 : 0;
                if (quickCloses >= QuickClosesToStop)
                {
                    throw new FleetConfigurationException(string.Create(CultureInfo.InvariantCulture, $"the broker at {_options.Broker.Endpoint} closed this connection {quickCloses} times in a row within {QuickClose.TotalSeconds:0} s of accepting it, without giving a reason: most likely another client connected with client id '{_options.ClientId}' takes the session over each time (give every serve instance its own --client-id); otherwise see the broker's log"));
                }

                _log.WriteLine($"serve: lost the connection to {_options.Broker.Endpoint} ({reason.Reason}{(reason.Exception is null ? "" : ": " + reason.Exception.Message)}); reconnecting");
                Volatile.Write(ref lost, new TaskCompletionSource<MqttClientDisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously));
                await ConnectAsync(client, first: false, stop).ConfigureAwait(false);
                connectedAt = Stopwatch.GetTimestamp();
            }
        }
        finally
        {
            await consuming.CancelAsync().ConfigureAwait(false);
            try
            {
                await consumer.ConfigureAwait(false);
            }
            finally
            {
                await consumerStop.CancelAsync().ConfigureAwait(false);
                await statistics.ConfigureAwait(false);
                if (client.IsConnected)
                {
                    try
                    {
                        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
                    {
                        // Already gone: the session and the unacknowledged messages stay on the broker all the same.
                    }
                }

                _log.WriteLine(Summary("serve: stopped"));
            }
        }
    }

    /// <summary>Connects (the first time: or fails with a clear error), subscribes, and starts a new generation of acknowledgements.</summary>
    private async Task ConnectAsync(IMqttClient client, bool first, CancellationToken stop)
    {
        TimeSpan wait = TimeSpan.FromMilliseconds(100);
        while (!stop.IsCancellationRequested)
        {
            string problem;
            bool accepted = false;
            try
            {
                // Messages of the previous connection not yet acknowledged are redelivered by the broker on this one;
                // acknowledging them by their old packet ids would be wrong, so they are skipped by generation. The new
                // generation starts before the connection does: a resumed session delivers right after its CONNACK.
                Interlocked.Increment(ref _generation);
                MqttClientConnectResult result = await client.ConnectAsync(_options.Broker.ClientOptions(_options.ClientId, _options.SessionExpirySeconds, _options.ReceiveMaximum, coalesceWrites: true), stop).ConfigureAwait(false);
                if (result.ResultCode == MqttClientConnectResultCode.Success)
                {
                    accepted = true;

                    // Subscribed again also when the session was resumed: Mosquitto 2.0.11 (Debian 12) drops a durable
                    // client's shared subscriptions when it reconnects (fixed upstream in 2.0.12); elsewhere it is a no-op.
                    await SubscribeAsync(client, stop).ConfigureAwait(false);

                    Interlocked.Increment(ref Counters._connections);
                    _log.WriteLine($"serve: connected to {_options.Broker.Endpoint} as '{_options.ClientId}' (session {(result.IsSessionPresent ? "resumed" : "new")}), subscribed to {_options.Subscription}");
                    return;
                }

                problem = $"the broker refused the connection: {result.ResultCode}{(string.IsNullOrEmpty(result.ReasonString) ? "" : " (" + result.ReasonString + ")")}";
                if (result.ResultCode is MqttClientConnectResultCode.BadUserNameOrPassword or MqttClientConnectResultCode.NotAuthorized)
                {
                    throw new FleetConfigurationException($"{_options.Broker.Endpoint}: {problem}; credentials come from {_options.Broker.Credentials?.Source ?? $"nowhere (set {BrokerCredentials.UserVariable}/{BrokerCredentials.PasswordVariable} or --credentials FILE)"}");
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                || (e is InvalidOperationException && !first)) // "connect/disconnect is pending": the client is still closing the lost connection
            {
                if (accepted && !client.IsConnected)
                {
                    // The broker accepted this connection and closed it before the subscription was made: another client
                    // with this id took the session over (Mosquitto 2.0 gives no reason). That is no failure to connect:
                    // the connection loop sees the loss (DisconnectedAsync), reconnects, and after repeated quick closes
                    // stops with the likely cause.
                    return;
                }

                problem = Innermost(e);
            }

            if (first)
            {
                throw new FleetConfigurationException($"cannot connect to the broker at {_options.Broker.Endpoint}: {problem}");
            }

            _log.WriteLine($"serve: reconnecting to {_options.Broker.Endpoint} in {wait.TotalSeconds:0.#} s: {problem}");
            try
            {
                await Task.Delay(wait, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private async Task SubscribeAsync(IMqttClient client, CancellationToken stop)
    {
        MqttClientSubscribeOptions options = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(_options.Subscription).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
            .Build();
        MqttClientSubscribeResult result = await client.SubscribeAsync(options, stop).ConfigureAwait(false);
        MqttClientSubscribeResultCode code = result.Items.Single().ResultCode;
        if (code != MqttClientSubscribeResultCode.GrantedQoS1)
        {
            throw new FleetConfigurationException($"the broker at {_options.Broker.Endpoint} refused the subscription {_options.Subscription} at QoS 1: {code}");
        }
    }

    /// <summary>
    /// Three stages, each on its own task, so that decoding one batch, committing the one before and making the one before
    /// that durable (an fsync: the thread waits for the disk) and acknowledging it overlap: the first takes what has arrived
    /// (up to a batch) and decodes and scores it; the second stores it in one transaction; the third flushes the store
    /// (<see cref="IFleetStore.FlushAsync"/>) and acknowledges it — every batch committed meanwhile with one sync. Batches
    /// pass in order through channels, so acknowledgements keep arrival order and follow their commit and its sync.
    /// </summary>
    private async Task ConsumeAsync(IMqttClient client, CancellationToken stop)
    {
        var processed = Channel.CreateBounded<Batch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        // Committed batches wait unbounded for their sync (the broker's receive maximum bounds them): one sync serves all.
        var committed = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stop);
        Task storing = Task.Run(() => StoreLoopAsync(processed.Reader, committed.Writer, failed.Token), CancellationToken.None);
        Task acknowledging = Task.Run(() => AcknowledgeLoopAsync(client, committed.Reader, failed), CancellationToken.None);
        try
        {
            await ProcessLoopAsync(processed.Writer, failed.Token).ConfigureAwait(false);
        }
        finally
        {
            processed.Writer.TryComplete();
            await storing.ConfigureAwait(false);
            await acknowledging.ConfigureAwait(false);
        }
    }

    private async Task ProcessLoopAsync(ChannelWriter<Batch> output, CancellationToken stop)
    {
        ChannelReader<Incoming> reader = _incoming.Reader;
        var messages = new List<FleetMessage>(_options.MaxBatch);
        while (true)
        {
            try
            {
                if (!await reader.WaitToReadAsync(stop).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            long started = Stopwatch.GetTimestamp();
            var batch = new Batch(new List<Incoming>(_options.MaxBatch), new List<SampleRow>(_options.MaxBatch), []);
            while (batch.Messages.Count < _options.MaxBatch && reader.TryRead(out Incoming message))
            {
                batch.Messages.Add(message);
                messages.Add(new FleetMessage(message.Topic, message.Payload, message.ReceivedAtMicros));
            }

            // Decoded and scored a model batch at a time: the same rows as one message at a time, in less time.
            _processor.ProcessBatch(messages, batch.Rows, batch.DeadLetters);
            messages.Clear();

            Interlocked.Add(ref Counters._received, batch.Messages.Count);
            Interlocked.Add(ref Counters._processTicks, Stopwatch.GetTimestamp() - started);

            // Waits while the store stage is busy; a batch in hand when serve stops is still stored and acknowledged.
            await output.WriteAsync(batch, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task StoreLoopAsync(ChannelReader<Batch> input, ChannelWriter<Batch> output, CancellationToken stop)
    {
        try
        {
            await foreach (Batch batch in input.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                long started = Stopwatch.GetTimestamp();
                WriteResult? result = await StoreAsync(batch.Rows, batch.DeadLetters, stop).ConfigureAwait(false);
                if (result is null)
                {
                    continue; // stopped while the store was failing: nothing acknowledged, the broker redelivers it
                }

                long stored = Stopwatch.GetTimestamp();
                Interlocked.Add(ref Counters._storeTicks, stored - started);
                Interlocked.Add(ref Counters._inserted, result.Value.Inserted);
                Interlocked.Add(ref Counters._duplicates, result.Value.Duplicates);
                Interlocked.Add(ref Counters._deadLettered, result.Value.DeadLettered);
                Interlocked.Increment(ref Counters._batches);
                BatchCommitted?.Invoke(new CommittedBatch(batch.Rows, batch.DeadLetters, result.Value, batch.Messages[0].ReceivedAtTimestamp, stored));
                await output.WriteAsync(batch, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    /// <summary>
    /// Makes each committed batch durable, then acknowledges it. When the store cannot make a batch durable, nothing more
    /// is acknowledged: the consumer stops (<paramref name="failed"/>) and serve ends with the error; the broker delivers
    /// what was not acknowledged again, to this instance after a restart or to another member of the group.
    /// </summary>
    private async Task AcknowledgeLoopAsync(IMqttClient client, ChannelReader<Batch> input, CancellationTokenSource failed)
    {
        IOException? failure = null;
        var group = new List<Batch>();
        while (await input.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            // Every batch committed by now is made durable by one sync (a group commit), then acknowledged in order.
            while (input.TryRead(out Batch? batch))
            {
                group.Add(batch);
            }

            if (failure is null)
            {
                long started = Stopwatch.GetTimestamp();
                try
                {
                    await _store.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                    NoteStoreWarning(_store.Warning);
                    long flushed = Stopwatch.GetTimestamp();
                    Interlocked.Add(ref Counters._flushTicks, flushed - started);
                    foreach (Batch done in group)
                    {
                        await AcknowledgeAsync(client, done.Messages).ConfigureAwait(false);
                    }

                    Interlocked.Add(ref Counters._acknowledgeTicks, Stopwatch.GetTimestamp() - flushed);
                }
                catch (IOException e)
                {
                    failure = new IOException($"serve: {_store.Description} could not make committed rows durable ({Innermost(e)}); stopped without acknowledging them, the broker delivers them again", e);
                    _log.WriteLine(failure.Message);
                    await failed.CancelAsync().ConfigureAwait(false);
                }
            }

            // After a failure, batches still committed are not acknowledged either.
            group.Clear();
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>Writes one batch, retrying with a growing pause while the store fails; null when stopped first.</summary>
    private async Task<WriteResult?> StoreAsync(List<SampleRow> rows, List<DeadLetter> deadLetters, CancellationToken stop)
    {
        TimeSpan wait = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                // The write itself is not cancelled: a batch in hand is committed (or fails) before serve stops.
                return await _store.WriteAsync(rows, deadLetters, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or TimeoutException or InvalidOperationException)
            {
                Interlocked.Increment(ref Counters._storeFailures);
                _log.WriteLine($"serve: writing a batch of {rows.Count + deadLetters.Count} to {_store.Description} failed ({Innermost(e)}); retrying in {wait.TotalSeconds:0.#} s, nothing acknowledged");
            }

            try
            {
                await Task.Delay(wait, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }

            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }

    /// <summary>Acknowledges the batch in arrival order (MQTT requires PUBACKs in the order of the PUBLISHes).</summary>
    private async Task AcknowledgeAsync(IMqttClient client, List<Incoming> batch)
    {
        int generation = Volatile.Read(ref _generation);
        foreach (Incoming message in batch)
        {
            if (message.Generation != generation || !client.IsConnected)
            {
                continue; // received on an earlier connection: the broker redelivers it on this one (stored once all the same)
            }

            try
            {
                await message.Arguments.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
                Interlocked.Increment(ref Counters._acknowledged);
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return; // the connection dropped: the rest come again after the reconnection
            }
        }
    }

    private async Task ReportAsync(CancellationToken stop)
    {
        if (_options.StatisticsInterval <= TimeSpan.Zero)
        {
            return;
        }

        long before = 0;
        try
        {
            while (true)
            {
                await Task.Delay(_options.StatisticsInterval, stop).ConfigureAwait(false);
                long received = Counters.Received;
                double rate = (received - before) / _options.StatisticsInterval.TotalSeconds;
                before = received;
                _log.WriteLine(Summary(string.Create(CultureInfo.InvariantCulture, $"serve: {rate:0} msg/s;")));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string Summary(string head) => string.Create(CultureInfo.InvariantCulture,
        $"{head} received {Counters.Received}, stored {Counters.Inserted}, duplicates {Counters.Duplicates}, dead letters {Counters.DeadLettered}, batches {Counters.Batches}, acknowledged {Counters.Acknowledged}; time in decode+score {Counters.ProcessTime.TotalSeconds:0.00} s, store {Counters.StoreTime.TotalSeconds:0.00} s, sync {Counters.FlushTime.TotalSeconds:0.00} s, acknowledge {Counters.AcknowledgeTime.TotalSeconds:0.00} s{(_storeWarning is { } warning ? "; warning: " + warning : "")}");

    /// <summary>Logs the store's warning when it appears and when it clears (its current text goes with each statistics line).</summary>
    private void NoteStoreWarning(string? warning)
    {
        string? before = _storeWarning;
        _storeWarning = warning;
        if (before is null && warning is not null)
        {
            _log.WriteLine($"serve: warning: {warning}");
        }
        else if (before is not null && warning is null)
        {
            _log.WriteLine($"serve: the store's warning has cleared ({_store.Description})");
        }
    }

    private static long UnixMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e.Message;
    }

    private sealed record Batch(List<Incoming> Messages, List<SampleRow> Rows, List<DeadLetter> DeadLetters);

    private readonly record struct Incoming(string Topic, byte[] Payload, long ReceivedAtMicros, long ReceivedAtTimestamp, MqttApplicationMessageReceivedEventArgs Arguments, int Generation);
}
