using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace EdgeAe.Fleet.Storage;

/// <summary>
/// The shared store of several <c>serve</c> processes: one PostgreSQL database. Each batch is one transaction with one
/// multi-row <c>INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING</c>; concurrent writers of the same
/// (device, sequence) — a message redelivered to another instance — are serialised by the primary key, and exactly
/// one row survives. Migrations run under an advisory lock, so instances starting together migrate once.
/// </summary>
public sealed class PostgresFleetStore : IFleetStore
{
    /// <summary>The environment variable with the database password (as for psql); a URL never carries one.</summary>
    public const string PasswordVariable = "PGPASSWORD";

    private const long MigrationLockKey = 0x45646765416546; // "EdgeAeF"

    private const string InsertSamples = """
        INSERT INTO edgeae_samples (device, sequence, received_at, model_id, code, score, flag, packet, reconstruction, device_score)
        SELECT d, s, t, m, c, sc, f, p, rc, ds FROM unnest(@device, @sequence, @received_at, @model_id, @code, @score, @flag, @packet, @reconstruction, @device_score) WITH ORDINALITY AS r(d, s, t, m, c, sc, f, p, rc, ds, n)
        ORDER BY n
        ON CONFLICT (device, sequence) DO NOTHING
        RETURNING device, sequence
        """;

    /// <summary>The insert of a schema before <see cref="Schema.DeviceScoreVersion"/> (the migration tests write rows at older versions).</summary>
    private const string InsertSamplesWithoutDeviceScore = """
        INSERT INTO edgeae_samples (device, sequence, received_at, model_id, code, score, flag, packet, reconstruction)
        SELECT d, s, t, m, c, sc, f, p, rc FROM unnest(@device, @sequence, @received_at, @model_id, @code, @score, @flag, @packet, @reconstruction) WITH ORDINALITY AS r(d, s, t, m, c, sc, f, p, rc, n)
        ORDER BY n
        ON CONFLICT (device, sequence) DO NOTHING
        RETURNING device, sequence
        """;

    private readonly NpgsqlDataSource _source;

    private PostgresFleetStore(NpgsqlDataSource source, string description, int version)
    {
        _source = source;
        Description = description;
        SchemaVersion = version;
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public int SchemaVersion { get; }

    /// <summary>Connects to the database <paramref name="url"/> names and migrates it.</summary>
    public static Task<PostgresFleetStore> OpenAsync(string url, CancellationToken cancellationToken)
        => OpenAsync(url, Schema.Postgres.Length, Environment.GetEnvironmentVariable, cancellationToken);

    /// <summary>Opens and migrates up to the first <paramref name="migrations"/> steps (tests of the migration path).</summary>
    internal static async Task<PostgresFleetStore> OpenAsync(string url, int migrations, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder settings = ConnectionSettings(url, environment);
        string description = string.Create(CultureInfo.InvariantCulture, $"PostgreSQL {settings.Host}:{settings.Port}/{settings.Database}");
        NpgsqlDataSource source = NpgsqlDataSource.Create(settings);
        try
        {
            int version = await MigrateAsync(source, Schema.Postgres[..migrations], description, cancellationToken).ConfigureAwait(false);
            return new PostgresFleetStore(source, description, version);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw new FleetConfigurationException($"cannot use {description} (user {settings.Username}): {OneLine(e.Message)}", e);
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The connection settings of <c>postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-ca|verify-full]</c>;
    /// the password comes from <see cref="PasswordVariable"/> or the user's <c>~/.pgpass</c>, never from the URL.
    /// </summary>
    public static NpgsqlConnectionStringBuilder ConnectionSettings(string url, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(environment);
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || !FleetStore.IsPostgres(url) || uri.Host.Length == 0)
        {
            throw new FleetConfigurationException($"--db '{url}' is not postgres://USER@HOST:PORT/DATABASE");
        }

        string[] user = uri.UserInfo.Split(':', 2);
        if (user.Length == 2)
        {
            throw new FleetConfigurationException($"--db carries a password: put it in {PasswordVariable} or ~/.pgpass, never on the command line");
        }

        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            throw new FleetConfigurationException($"--db '{url}' names no database: expected postgres://USER@HOST:PORT/DATABASE");
        }

        var settings = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
            Username = user[0].Length > 0 ? Uri.UnescapeDataString(user[0]) : environment("PGUSER") ?? environment("USER") ?? "postgres",
            ApplicationName = "edgeae serve",
            Timeout = 15,
            CommandTimeout = 60,
            NoResetOnClose = true,

            // A commit returns after its log record is on the disk even where the database's default says otherwise: serve
            // acknowledges a message as soon as its row is committed (FlushAsync has nothing left to do).
            Options = "-c synchronous_commit=on",
        };
        string? password = environment(PasswordVariable);
        if (!string.IsNullOrEmpty(password))
        {
            settings.Password = password;
        }

        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            settings.SslMode = kv[0] == "sslmode" ? value switch
            {
                "disable" => SslMode.Disable,
                "allow" => SslMode.Allow,
                "prefer" => SslMode.Prefer,
                "require" => SslMode.Require,
                "verify-ca" => SslMode.VerifyCA,
                "verify-full" => SslMode.VerifyFull,
                _ => throw new FleetConfigurationException($"--db sslmode '{value}' is not disable, allow, prefer, require, verify-ca or verify-full"),
            }
            : throw new FleetConfigurationException($"--db option '{kv[0]}' is not supported (only sslmode)");
        }

        return settings;
    }

    /// <summary>Returns at once: the store's sessions commit with <c>synchronous_commit=on</c>, so a commit is on the disk when it returns.</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A setting as the store's sessions see it (<c>SHOW</c>; tests).</summary>
    internal async Task<string> SettingAsync(string name, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = _source.CreateCommand("SHOW " + name);
        return (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc/>
    public async Task<WriteResult> WriteAsync(IReadOnlyList<SampleRow> rows, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(deadLetters);
        await using NpgsqlConnection connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int inserted = 0, duplicates = 0;
        var dead = new List<DeadLetter>(deadLetters);
        if (rows.Count > 0)
        {
            // Every writer inserts in (device, sequence) order, so two transactions with overlapping keys wait for each
            // other instead of deadlocking (each holding one key the other needs).
            rows = rows.OrderBy(r => r.Device, StringComparer.Ordinal).ThenBy(r => r.Sequence).ToArray();
            var fresh = new HashSet<(string, long)>();
            await using (var insert = new NpgsqlCommand(SchemaVersion >= Schema.DeviceScoreVersion ? InsertSamples : InsertSamplesWithoutDeviceScore, connection, transaction))
            {
                insert.Parameters.Add(Array("device", NpgsqlDbType.Text, rows.Select(r => r.Device).ToArray()));
                insert.Parameters.Add(Array("sequence", NpgsqlDbType.Bigint, rows.Select(r => r.Sequence).ToArray()));
                insert.Parameters.Add(Array("received_at", NpgsqlDbType.TimestampTz, rows.Select(r => DateTime.UnixEpoch.AddTicks(r.ReceivedAtMicros * 10)).ToArray()));
                insert.Parameters.Add(Array("model_id", NpgsqlDbType.Integer, rows.Select(r => r.ModelId).ToArray()));
                insert.Parameters.Add(Array("code", NpgsqlDbType.Bytea, rows.Select(r => r.Code).ToArray()));
                insert.Parameters.Add(Array("score", NpgsqlDbType.Real, rows.Select(r => (float?)(float.IsNaN(r.Score) ? null : r.Score)).ToArray()));
                insert.Parameters.Add(Array("flag", NpgsqlDbType.Boolean, rows.Select(r => r.Flag).ToArray()));
                insert.Parameters.Add(Array("packet", NpgsqlDbType.Bytea, rows.Select(r => r.Packet).ToArray()));
                insert.Parameters.Add(Array("reconstruction", NpgsqlDbType.Bytea, rows.Select(r => r.Reconstruction).ToArray()));
                if (SchemaVersion >= Schema.DeviceScoreVersion)
                {
                    insert.Parameters.Add(Array("device_score", NpgsqlDbType.Real, rows.Select(r => r.DeviceScore).ToArray()));
                }
                await using NpgsqlDataReader reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    fresh.Add((reader.GetString(0), reader.GetInt64(1)));
                }
            }

            inserted = fresh.Count;
            SampleRow[] conflicts = rows.Where(r => !fresh.Remove((r.Device, r.Sequence))).ToArray();
            if (conflicts.Length > 0)
            {
                Dictionary<(string, long), byte[]> stored = await StoredPacketsAsync(connection, transaction, conflicts, cancellationToken).ConfigureAwait(false);
                foreach (SampleRow row in conflicts)
                {
                    byte[] packet = stored[(row.Device, row.Sequence)];
                    if (packet.AsSpan().SequenceEqual(row.Packet))
                    {
                        duplicates++;
                    }
                    else
                    {
                        dead.Add(FleetStoreText.SequenceReused(row, packet));
                    }
                }
            }
        }

        if (dead.Count > 0)
        {
            await using var insertDead = new NpgsqlCommand(
                """
                INSERT INTO edgeae_dead_letters (received_at, topic, device, reason, detail, payload)
                SELECT * FROM unnest(@received_at, @topic, @device, @reason, @detail, @payload)
                """, connection, transaction);
            insertDead.Parameters.Add(Array("received_at", NpgsqlDbType.TimestampTz, dead.Select(d => DateTime.UnixEpoch.AddTicks(d.ReceivedAtMicros * 10)).ToArray()));
            insertDead.Parameters.Add(Array("topic", NpgsqlDbType.Text, dead.Select(d => d.Topic).ToArray()));
            insertDead.Parameters.Add(Array("device", NpgsqlDbType.Text, dead.Select(d => d.Device).ToArray()));
            insertDead.Parameters.Add(Array("reason", NpgsqlDbType.Text, dead.Select(d => d.Reason.ToString()).ToArray()));
            insertDead.Parameters.Add(Array("detail", NpgsqlDbType.Text, dead.Select(d => d.Detail).ToArray()));
            insertDead.Parameters.Add(Array("payload", NpgsqlDbType.Bytea, dead.Select(d => d.Payload).ToArray()));
            await insertDead.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new WriteResult(inserted, duplicates, dead.Count);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static async Task<Dictionary<(string, long), byte[]>> StoredPacketsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SampleRow[] rows, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            """
            SELECT s.device, s.sequence, s.packet FROM edgeae_samples s
            JOIN unnest(@device, @sequence) AS k(device, sequence) ON s.device = k.device AND s.sequence = k.sequence
            """, connection, transaction);
        select.Parameters.Add(Array("device", NpgsqlDbType.Text, rows.Select(r => r.Device).ToArray()));
        select.Parameters.Add(Array("sequence", NpgsqlDbType.Bigint, rows.Select(r => r.Sequence).ToArray()));
        var stored = new Dictionary<(string, long), byte[]>();
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            stored[(reader.GetString(0), reader.GetInt64(1))] = (byte[])reader.GetValue(2);
        }

        return stored;
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType element, T[] values)
        => new(name, NpgsqlDbType.Array | element) { Value = values };

    private static async Task<int> MigrateAsync(NpgsqlDataSource source, Migration[] migrations, string where, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        async Task Execute(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // One migrating instance at a time (the lock ends with the transaction); PostgreSQL's DDL is transactional.
        await Execute(string.Create(CultureInfo.InvariantCulture, $"SELECT pg_advisory_xact_lock({MigrationLockKey})")).ConfigureAwait(false);
        await Execute(Schema.CreateVersionTable).ConfigureAwait(false);
        int version;
        await using (var current = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM edgeae_schema", connection, transaction))
        {
            version = Convert.ToInt32(await current.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        foreach (Migration migration in Schema.Pending(Schema.Postgres, version, where).Where(m => m.Version <= migrations[^1].Version))
        {
            foreach (string statement in migration.Statements)
            {
                await Execute(statement).ConfigureAwait(false);
            }

            await using var record = new NpgsqlCommand("INSERT INTO edgeae_schema (version, description, applied_at) VALUES (@v, @d, @t)", connection, transaction);
            record.Parameters.AddWithValue("v", migration.Version);
            record.Parameters.AddWithValue("d", migration.Description);
            record.Parameters.AddWithValue("t", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            version = migration.Version;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return version;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
