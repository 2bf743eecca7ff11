namespace EdgeAe.Fleet.Storage;

/// <summary>What one <see cref="IFleetStore.WriteAsync"/> did, in one committed transaction.</summary>
/// <param name="Inserted">New sample rows.</param>
/// <param name="Duplicates">Rows already stored with the same packet (a redelivery): not stored again.</param>
/// <param name="DeadLettered">Dead letters written, including <see cref="DeadLetterReason.SequenceReused"/> ones found in this batch.</param>
public readonly record struct WriteResult(int Inserted, int Duplicates, int DeadLettered);

/// <summary>
/// Where <c>serve</c> keeps samples and dead letters (docs/fleet.md, "Schema"). Each write is one transaction, committed
/// before it returns; <see cref="FlushAsync"/> then makes it durable, and the caller acknowledges the messages only after
/// that. A row whose (device, sequence) is already stored
/// is not written again — counted as a duplicate when its packet is the same bytes, dead-lettered as
/// <see cref="DeadLetterReason.SequenceReused"/> when it differs. Not thread-safe: one writer per store object
/// (several processes may share one PostgreSQL database).
/// </summary>
public interface IFleetStore : IAsyncDisposable
{
    /// <summary>What and where, for messages: "SQLite /data/fleet.db", "PostgreSQL host:5432/fleet".</summary>
    string Description { get; }

    /// <summary>The schema version after the migrations of <see cref="FleetStore.OpenAsync"/>.</summary>
    int SchemaVersion { get; }

    /// <summary>Writes <paramref name="rows"/> and <paramref name="deadLetters"/> in one transaction and commits it.</summary>
    Task<WriteResult> WriteAsync(IReadOnlyList<SampleRow> rows, IReadOnlyList<DeadLetter> deadLetters, CancellationToken cancellationToken);

    /// <summary>
    /// Makes every write that has returned survive a crash of the machine (a store whose commits already do returns at
    /// once). May run while the next <see cref="WriteAsync"/> does; one call at a time.
    /// </summary>
    /// <exception cref="IOException">The store cannot tell that those writes are on the disk: do not acknowledge them.</exception>
    Task FlushAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A condition of the store that its operator should act on, in one line, or null: for SQLite, a log that keeps
    /// growing because another connection holds an old snapshot. Current as of the last <see cref="FlushAsync"/>;
    /// <c>serve</c> logs it when it appears and when it clears, and adds it to its statistics line while it lasts.
    /// </summary>
    string? Warning => null;
}

/// <summary>Opens the store a <c>--db</c> value names, creating or migrating its schema.</summary>
public static class FleetStore
{
    /// <summary>
    /// <c>postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…]</c> (or <c>postgresql://</c>) opens PostgreSQL, anything else is
    /// a SQLite file path (created when missing). The schema is created on first use and migrated to the newest version.
    /// </summary>
    public static async Task<IFleetStore> OpenAsync(string db, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(db);
        return IsPostgres(db)
            ? await PostgresFleetStore.OpenAsync(db, cancellationToken).ConfigureAwait(false)
            : await SqliteFleetStore.OpenAsync(db, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when <paramref name="db"/> is a PostgreSQL URL rather than a SQLite path.</summary>
    public static bool IsPostgres(string db)
        => db.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || db.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);
}

/// <summary>One step of the schema: applied once, in order, recorded in <c>edgeae_schema</c>.</summary>
/// <param name="Version">1, 2, …: the schema version after this step.</param>
/// <param name="Description">What it does, stored with it.</param>
/// <param name="Statements">The SQL statements, run in one transaction with the version record.</param>
internal sealed record Migration(int Version, string Description, string[] Statements);

/// <summary>The migrations, each written for both databases (the tables are the same; column types differ where the engines do).</summary>
internal static class Schema
{
    /// <summary>The newest schema version this EdgeAe writes.</summary>
    public static int Latest => Sqlite[^1].Version;

    /// <summary>The first schema version with <c>edgeae_samples.device_score</c> (a store opened at an older one, in the migration tests, writes rows without it).</summary>
    public const int DeviceScoreVersion = 3;

    /// <summary>
    /// SQLite: times as INTEGER microseconds since the Unix epoch (UTC), flags as 0/1/NULL. A rowid table with a unique
    /// (device, sequence) index: rows of a few hundred bytes (code and packet) insert 3–4× faster than into a
    /// WITHOUT ROWID table keyed by (device, sequence), measured in a batch of 500 with its commit.
    /// </summary>
    public static readonly Migration[] Sqlite =
    [
        new(1, "samples and dead letters",
        [
            """
            CREATE TABLE edgeae_samples (
                id INTEGER PRIMARY KEY,
                device TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                received_at INTEGER NOT NULL,
                model_id INTEGER NOT NULL,
                code BLOB NOT NULL,
                score REAL,
                flag INTEGER,
                packet BLOB NOT NULL,
                reconstruction BLOB,
                UNIQUE (device, sequence)
            )
            """,
            """
            CREATE TABLE edgeae_dead_letters (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                received_at INTEGER NOT NULL,
                topic TEXT NOT NULL,
                device TEXT,
                reason TEXT NOT NULL,
                detail TEXT NOT NULL,
                payload BLOB NOT NULL
            )
            """,
        ]),
        new(2, "indexes by receive time and by dead-letter reason",
        [
            "CREATE INDEX edgeae_samples_received_at ON edgeae_samples (received_at)",
            "CREATE INDEX edgeae_dead_letters_reason ON edgeae_dead_letters (reason, received_at)",
        ]),
        new(3, DeviceScoreStep, ["ALTER TABLE edgeae_samples ADD COLUMN device_score REAL"]),
    ];

    /// <summary>PostgreSQL: times as timestamptz, flags as boolean.</summary>
    public static readonly Migration[] Postgres =
    [
        new(1, "samples and dead letters",
        [
            """
            CREATE TABLE edgeae_samples (
                device text NOT NULL,
                sequence bigint NOT NULL,
                received_at timestamptz NOT NULL,
                model_id integer NOT NULL,
                code bytea NOT NULL,
                score real,
                flag boolean,
                packet bytea NOT NULL,
                reconstruction bytea,
                PRIMARY KEY (device, sequence)
            )
            """,
            """
            CREATE TABLE edgeae_dead_letters (
                id bigserial PRIMARY KEY,
                received_at timestamptz NOT NULL,
                topic text NOT NULL,
                device text,
                reason text NOT NULL,
                detail text NOT NULL,
                payload bytea NOT NULL
            )
            """,
        ]),
        new(2, "indexes by receive time and by dead-letter reason",
        [
            "CREATE INDEX edgeae_samples_received_at ON edgeae_samples (received_at)",
            "CREATE INDEX edgeae_dead_letters_reason ON edgeae_dead_letters (reason, received_at)",
        ]),
        new(3, DeviceScoreStep, ["ALTER TABLE edgeae_samples ADD COLUMN device_score real"]),
    ];

    /// <summary>
    /// Step 3: the device's score of its input from version-3 packets (NULL for rows before it and for version-2 packets).
    /// Adding a nullable column without a default rewrites no row in either database.
    /// </summary>
    private const string DeviceScoreStep = "the device's anomaly score of its input (packet version 3)";

    /// <summary>The table of applied migrations (both databases accept this statement).</summary>
    public const string CreateVersionTable = "CREATE TABLE IF NOT EXISTS edgeae_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)";

    /// <summary>The migrations after <paramref name="current"/>; throws when the database is newer than this EdgeAe.</summary>
    public static IEnumerable<Migration> Pending(Migration[] migrations, int current, string where)
    {
        if (current > migrations[^1].Version)
        {
            throw new FleetConfigurationException($"{where} has schema version {current}, newer than this edgeae knows ({migrations[^1].Version}): run a newer edgeae, or use another database");
        }

        return migrations.Where(m => m.Version > current);
    }
}
