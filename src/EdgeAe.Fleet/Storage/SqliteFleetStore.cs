using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Win32.SafeHandles;
using SQLitePCL;

namespace EdgeAe.Fleet.Storage;

/// <summary>
/// The embedded store of one <c>serve</c> process: a SQLite file in WAL mode, one transaction per batch and prepared
/// statements reused across batches. Sample rows go in through one SQLite statement prepared once and bound by position
/// (<see cref="SqliteConnection.Handle"/>, SQLitePCLRaw's API under Microsoft.Data.Sqlite): 8 µs per row with its share
/// of the commit, against 25 µs for 32-row INSERTs through ADO.NET parameters — which binds every parameter by name on
/// every execution (batches of 1,000 rows, one machine).
/// </summary>
/// <remarks>
/// Durability is made off the writer's path. A commit appends the transaction to the write-ahead log
/// (<c>synchronous=NORMAL</c>: it survives a crash of the process at once); <see cref="FlushAsync"/> then makes every
/// commit so far survive a crash of the machine with one fsync of the log — what <c>synchronous=FULL</c> does inside
/// every commit — and copies the log into the database file (a passive checkpoint, on a second connection) once about
/// SQLite's own interval of log has accumulated. Run by <c>serve</c>'s acknowledgement stage while the next batch is
/// written, the two took half of the writer's time: a scratch run of 100,000 rows in batches of 1,000 took 8.6–9.5 µs per
/// row in the writer against 16.4–17.4 µs with both in the commit (<c>synchronous=FULL</c> and SQLite's own
/// checkpoints), for 1.12–1.15× the CPU time. Should the log never be idle when a checkpoint ends (a load that never
/// pauses), it would not start again from its beginning; once the writer's own commits have appended
/// <see cref="LogLimitFrames"/> pages since it last restarted the log (it counts them itself, SQLite's
/// <c>SQLITE_DBSTATUS_CACHE_WRITE</c> after each commit, so the bound does not depend on when the flusher runs), it copies
/// the rest and restarts the log (once per 64 MiB of log).
/// </remarks>
public sealed class SqliteFleetStore : IFleetStore
{
    private const string InsertSample = """
        INSERT INTO edgeae_samples (device, sequence, received_at, model_id, code, score, flag, packet, reconstruction, device_score)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (device, sequence) DO NOTHING
        """;

    /// <summary>The insert of a schema before <see cref="Schema.DeviceScoreVersion"/> (the migration tests write rows at older versions).</summary>
    private const string InsertSampleWithoutDeviceScore = """
        INSERT INTO edgeae_samples (device, sequence, received_at, model_id, code, score, flag, packet, reconstruction)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (device, sequence) DO NOTHING
        """;

    /// <summary>
    /// Row bytes committed between passive checkpoints: about SQLite's default interval of 1,000 log pages, a row costing
    /// 3–4 times its bytes in log pages (its B-tree pages are written again by every commit that touches them).
    /// </summary>
    internal const long CheckpointRowBytes = 1 << 20;

    private readonly SqliteConnection _connection;
    private readonly SqliteConnection _checkpointer;
    private readonly SafeFileHandle _log;
    private readonly sqlite3_stmt _insert;
    private readonly SqliteCommand _stored;
    private readonly SqliteCommand _dead;

    /// <summary>Held by a checkpoint: the flusher's, or the writer's with the batch that restarts the log.</summary>
    private readonly SemaphoreSlim _checkpointing = new(1, 1);
    private long _rowBytesSinceCheckpoint;
    private long _commits;
    private long _synced;

    /// <summary>Log pages the writer's commits appended since it last restarted the log (the writer's own count).</summary>
    private int _framesSinceRestart;
    private volatile string? _warning;

    private SqliteFleetStore(SqliteConnection connection, SqliteConnection checkpointer, SafeFileHandle log, string path, int version)
    {
        _connection = connection;
        _checkpointer = checkpointer;
        _log = log;
        Description = "SQLite " + path;
        SchemaVersion = version;
        Check(raw.sqlite3_prepare_v2(connection.Handle, version >= Schema.DeviceScoreVersion ? InsertSample : InsertSampleWithoutDeviceScore, out _insert));
        _stored = Command("SELECT packet FROM edgeae_samples WHERE device = $device AND sequence = $sequence", "$device", "$sequence");
        _dead = Command("""
            INSERT INTO edgeae_dead_letters (received_at, topic, device, reason, detail, payload)
            VALUES ($received_at, $topic, $device, $reason, $detail, $payload)
            """, "$received_at", "$topic", "$device", "$reason", "$detail", "$payload");
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public int SchemaVersion { get; }

    /// <summary>Log frames past which the writer checkpoints and restarts the log itself (16,384: 64 MiB of 4 KiB pages; tests set less).</summary>
    internal int LogLimitFrames { get; set; } = 16_384;

    /// <summary>
    /// Set when a checkpoint finds the log longer than <see cref="LogLimitFrames"/> and cannot copy all of it: another
    /// connection has held a snapshot since before the frames it leaves (a long query, an open transaction). SQLite can
    /// neither copy those frames nor start the log again while that reader lasts, so the log grows with every commit.
    /// Cleared by the first checkpoint that copies everything.
    /// </summary>
    public string? Warning => _warning;

    /// <summary>The writer's checkpoints that copied the whole log, so that its next batch started the log again (tests).</summary>
    internal int LogRestarts { get; private set; }

    /// <summary>Opens (creating when missing) the database at <paramref name="path"/> and migrates it.</summary>
    public static Task<SqliteFleetStore> OpenAsync(string path, CancellationToken cancellationToken)
        => OpenAsync(path, Schema.Sqlite.Length, cancellationToken);

    /// <summary>Opens and migrates up to the first <paramref name="migrations"/> steps (tests of the migration path).</summary>
    internal static async Task<SqliteFleetStore> OpenAsync(string path, int migrations, CancellationToken cancellationToken)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new FleetConfigurationException($"the folder of --db {path} does not exist");
        }

        string settings = new SqliteConnectionStringBuilder { DataSource = full, Pooling = false, DefaultTimeout = 30 }.ToString();
        var connection = new SqliteConnection(settings);
        var checkpointer = new SqliteConnection(settings);
        SafeFileHandle? log = null;
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA journal_mode = WAL", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA busy_timeout = 30000", cancellationToken).ConfigureAwait(false);
            int version = await MigrateAsync(connection, Schema.Sqlite[..migrations], full, cancellationToken).ConfigureAwait(false);

            // Commits append to the log without waiting for the disk; FlushAsync syncs and checkpoints (see the remarks).
            await ExecuteAsync(connection, "PRAGMA synchronous = NORMAL", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA wal_autocheckpoint = 0", cancellationToken).ConfigureAwait(false);
            await checkpointer.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(checkpointer, "PRAGMA synchronous = NORMAL", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(checkpointer, "PRAGMA busy_timeout = 30000", cancellationToken).ConfigureAwait(false);

            // SQLite's log of a database in WAL mode is the file of the same name with "-wal" appended; it exists while a
            // connection is open. Opened for writing only because Windows flushes no handle without it; never written.
            log = File.OpenHandle(full + "-wal", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            return new SqliteFleetStore(connection, checkpointer, log, full, version);
        }
        catch (SqliteException e)
        {
            log?.Dispose();
            await checkpointer.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new FleetConfigurationException($"cannot use {path} as a SQLite database: {e.Message}", e);
        }
        catch
        {
            log?.Dispose();
            await checkpointer.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task<WriteResult> WriteAsync(IReadOnlyList<SampleRow> rows, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(deadLetters);

        // The flusher's passive checkpoints run beside the writer, so the log is never idle when one ends and never starts
        // again from its beginning: under a load that never pauses it only grows. Once its commits have appended
        // LogLimitFrames pages, the writer copies the rest itself (little: the flusher has copied nearly all), with the
        // flusher's checkpoints held back until this batch's first write has started the log again. When a reader keeps
        // the copy from finishing (the flusher then warns), the writer tries again after another half of the limit.
        bool restart = _framesSinceRestart > LogLimitFrames;
        if (restart)
        {
            await _checkpointing.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (raw.sqlite3_wal_checkpoint_v2(_connection.Handle, "main", raw.SQLITE_CHECKPOINT_PASSIVE, out int frames, out int copied) == raw.SQLITE_OK
                && copied == frames)
            {
                _framesSinceRestart = 0;
                LogRestarts++;
            }
            else
            {
                _framesSinceRestart = LogLimitFrames / 2;
            }
        }

        try
        {
            return await WriteBatchAsync(rows, deadLetters, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (restart)
            {
                _checkpointing.Release();
            }
        }
    }

    private async Task<WriteResult> WriteBatchAsync(IReadOnlyList<SampleRow> rows, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        using var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        _stored.Transaction = _dead.Transaction = transaction;
        int inserted = 0, duplicates = 0, dead = 0;
        long bytes = 0;
        List<SampleRow>? stored = null;
        foreach (SampleRow row in rows)
        {
            // The statement runs on the transaction's connection, so it is part of the transaction; one change: a new row.
            if (Insert(row))
            {
                inserted++;
                bytes += row.Code.Length + row.Packet.Length + (row.Reconstruction?.Length ?? 0) + row.Device.Length + 32;
            }
            else
            {
                (stored ??= []).Add(row);
            }
        }

        foreach (SampleRow row in stored ?? [])
        {
            // Already stored (a redelivery, or the same key twice in this batch): the same bytes, or a reused number.
            _stored.Parameters[0].Value = row.Device;
            _stored.Parameters[1].Value = row.Sequence;
            byte[] packet = (byte[])_stored.ExecuteScalar()!;
            if (packet.AsSpan().SequenceEqual(row.Packet))
            {
                duplicates++;
            }
            else
            {
                InsertDead(FleetStoreText.SequenceReused(row, packet));
                dead++;
            }
        }

        foreach (DeadLetter letter in deadLetters)
        {
            InsertDead(letter);
            dead++;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        // The pages this commit appended to the log (SQLITE_DBSTATUS_CACHE_WRITE counts pages written to the log in WAL
        // mode; read and reset, so each commit reads its own).
        if (raw.sqlite3_db_status(_connection.Handle, raw.SQLITE_DBSTATUS_CACHE_WRITE, out int written, out _, 1) == raw.SQLITE_OK)
        {
            _framesSinceRestart += written;
        }

        Interlocked.Add(ref _rowBytesSinceCheckpoint, bytes);
        Interlocked.Increment(ref _commits);
        return new WriteResult(inserted, duplicates, dead);
    }

    /// <summary>
    /// Syncs the write-ahead log to the disk — every commit that returned before survives a crash of the machine — and,
    /// once about SQLite's checkpoint interval of rows has been committed since the last, copies the log into the database
    /// file on the store's second connection. May run while the next <see cref="WriteAsync"/> does; one call at a time.
    /// </summary>
    /// <exception cref="IOException">The sync failed: the commits since the last successful sync may be lost with the machine.</exception>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        // Nothing committed since the last sync began: those commits are on the disk already.
        long commits = Interlocked.Read(ref _commits);
        if (commits == _synced)
        {
            return Task.CompletedTask;
        }

        RandomAccess.FlushToDisk(_log);
        _synced = commits;

        // While a reader holds the log back, every flush looks again, so that the warning clears as soon as it has gone.
        if (Interlocked.Read(ref _rowBytesSinceCheckpoint) >= CheckpointRowBytes || _warning is not null)
        {
            Interlocked.Exchange(ref _rowBytesSinceCheckpoint, 0);

            // A failed checkpoint loses nothing (the log holds the rows); a lasting problem, such as a full disk, fails the
            // writer's next batches, which serve retries and logs.
            _checkpointing.Wait(cancellationToken);
            try
            {
                if (raw.sqlite3_wal_checkpoint_v2(_checkpointer.Handle, "main", raw.SQLITE_CHECKPOINT_PASSIVE, out int frames, out int copied) == raw.SQLITE_OK)
                {
                    // serve's own reads end with each batch (its writer's snapshot is always the newest), so a passive
                    // checkpoint copies the whole log unless another connection's snapshot is older than the log's end.
                    _warning = frames > LogLimitFrames && copied < frames ? LogHeldBack(frames, copied) : null;
                }
            }
            finally
            {
                _checkpointing.Release();
            }
        }

        return Task.CompletedTask;
    }

    private string LogHeldBack(int frames, int copied) => string.Create(CultureInfo.InvariantCulture,
        $"the write-ahead log of {Description} holds {frames:N0} pages, {frames - copied:N0} of which cannot be copied into the database: another connection has kept a snapshot since before them (a long query or an open transaction on the file), and the log grows with every batch until it ends");

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _insert.Dispose();
        _stored.Dispose();
        _dead.Dispose();
        _log.Dispose();
        _checkpointing.Dispose();

        // The last connection to close checkpoints the whole log into the database file and removes it.
        await _checkpointer.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Inserts <paramref name="row"/> unless its (device, sequence) is stored; true when it went in.</summary>
    private bool Insert(SampleRow row)
    {
        sqlite3_stmt s = _insert;
        try
        {
            Check(raw.sqlite3_bind_text(s, 1, row.Device));
            Check(raw.sqlite3_bind_int64(s, 2, row.Sequence));
            Check(raw.sqlite3_bind_int64(s, 3, row.ReceivedAtMicros));
            Check(raw.sqlite3_bind_int(s, 4, row.ModelId));
            Check(raw.sqlite3_bind_blob(s, 5, row.Code));
            Check(float.IsNaN(row.Score) ? raw.sqlite3_bind_null(s, 6) : raw.sqlite3_bind_double(s, 6, row.Score));
            Check(row.Flag is { } flag ? raw.sqlite3_bind_int(s, 7, flag ? 1 : 0) : raw.sqlite3_bind_null(s, 7));
            Check(raw.sqlite3_bind_blob(s, 8, row.Packet));
            Check(row.Reconstruction is { } reconstruction ? raw.sqlite3_bind_blob(s, 9, reconstruction) : raw.sqlite3_bind_null(s, 9));
            if (SchemaVersion >= Schema.DeviceScoreVersion)
            {
                Check(row.DeviceScore is { } deviceScore ? raw.sqlite3_bind_double(s, 10, deviceScore) : raw.sqlite3_bind_null(s, 10));
            }

            int result = raw.sqlite3_step(s);
            if (result != raw.SQLITE_DONE)
            {
                Check(result);
            }

            return raw.sqlite3_changes(_connection.Handle) == 1;
        }
        finally
        {
            raw.sqlite3_reset(s);
            raw.sqlite3_clear_bindings(s);
        }
    }

    /// <summary>Throws the <see cref="SqliteException"/> (a DbException: serve retries the batch) for a failed SQLite call.</summary>
    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, _connection.Handle);
        }
    }

    private void InsertDead(DeadLetter letter)
    {
        SqliteParameterCollection p = _dead.Parameters;
        p[0].Value = letter.ReceivedAtMicros;
        p[1].Value = letter.Topic;
        p[2].Value = (object?)letter.Device ?? DBNull.Value;
        p[3].Value = letter.Reason.ToString();
        p[4].Value = letter.Detail;
        p[5].Value = letter.Payload;
        _dead.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameters)
        {
            command.Parameters.Add(new SqliteParameter(name, null));
        }

        return command;
    }

    private static async Task<int> MigrateAsync(SqliteConnection connection, Migration[] migrations, string where, CancellationToken cancellationToken)
    {
        // BEGIN IMMEDIATE takes the write lock first, so two processes starting on one new file migrate one after the other.
        await ExecuteAsync(connection, "BEGIN IMMEDIATE", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, Schema.CreateVersionTable, cancellationToken).ConfigureAwait(false);
            using SqliteCommand current = connection.CreateCommand();
            current.CommandText = "SELECT COALESCE(MAX(version), 0) FROM edgeae_schema";
            int version = Convert.ToInt32(await current.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            foreach (Migration migration in Schema.Pending(Schema.Sqlite, version, where).Where(m => m.Version <= migrations[^1].Version))
            {
                foreach (string statement in migration.Statements)
                {
                    await ExecuteAsync(connection, statement, cancellationToken).ConfigureAwait(false);
                }

                using SqliteCommand record = connection.CreateCommand();
                record.CommandText = "INSERT INTO edgeae_schema (version, description, applied_at) VALUES ($v, $d, $t)";
                record.Parameters.AddWithValue("$v", migration.Version);
                record.Parameters.AddWithValue("$d", migration.Description);
                record.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                version = migration.Version;
            }

            await ExecuteAsync(connection, "COMMIT", cancellationToken).ConfigureAwait(false);
            return version;
        }
        catch
        {
            await ExecuteAsync(connection, "ROLLBACK", CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Texts both stores write.</summary>
internal static class FleetStoreText
{
    /// <summary>The dead letter for a row whose (device, sequence) is stored with another packet.</summary>
    public static DeadLetter SequenceReused(SampleRow row, byte[] stored) => new()
    {
        ReceivedAtMicros = row.ReceivedAtMicros,
        Topic = row.Topic,
        Device = row.Device,
        Reason = DeadLetterReason.SequenceReused,
        Detail = string.Create(CultureInfo.InvariantCulture, $"device {row.Device} sent sequence {row.Sequence} again with other content ({Convert.ToHexString(stored, 0, Math.Min(8, stored.Length))}… stored, {Convert.ToHexString(row.Packet, 0, Math.Min(8, row.Packet.Length))}… now); the first row is kept — the device's counter was reset"),
        Payload = row.Packet,
    };
}
