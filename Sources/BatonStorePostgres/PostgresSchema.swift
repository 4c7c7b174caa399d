import BatonPostgres
import BatonStore

/// The schema, versioned in the table `baton_schema`: migration N takes a database
/// from version N-1 to N. Migrations only ever append; a released one is never edited.
///
/// Version 1 is SQLite's schema version 11 (docs/store.md) in PostgreSQL's types: times
/// are Unix epoch milliseconds (BIGINT), flags BOOLEAN, the AI cost DOUBLE PRECISION.
/// Ids, job names and keys use the "C" collation: compared byte by byte as on SQLite
/// (name order, keyset pages), whatever the database's locale.
enum PostgresSchema {
    static let migrations: [String] = [
        // 1: everything SQLite's versions 1 to 11 hold.
        """
        CREATE TABLE runs (
            id                TEXT COLLATE "C" PRIMARY KEY,
            job               TEXT COLLATE "C" NOT NULL,
            trigger_kind      TEXT NOT NULL,
            status            TEXT NOT NULL,
            scheduled_at      BIGINT NOT NULL,
            created_at        BIGINT NOT NULL,
            updated_at        BIGINT NOT NULL,
            finished_at       BIGINT,
            cursor            TEXT,
            next_slice        INTEGER NOT NULL DEFAULT 1,
            next_attempt      INTEGER NOT NULL DEFAULT 1,
            failed_attempts   INTEGER NOT NULL DEFAULT 0,
            slices_done       INTEGER NOT NULL DEFAULT 0,
            processed         BIGINT NOT NULL DEFAULT 0,
            succeeded         BIGINT NOT NULL DEFAULT 0,
            skipped           BIGINT NOT NULL DEFAULT 0,
            failed            BIGINT NOT NULL DEFAULT 0,
            total             BIGINT,
            message           TEXT,
            error             TEXT,
            params            TEXT NOT NULL DEFAULT '{}',
            payload           TEXT,
            command           TEXT,
            parent_run        TEXT COLLATE "C",
            owner             TEXT,
            lease_expires_at  BIGINT,
            cancel_requested  BOOLEAN NOT NULL DEFAULT false,
            input_tokens      BIGINT NOT NULL DEFAULT 0,
            output_tokens     BIGINT NOT NULL DEFAULT 0,
            cost_usd          DOUBLE PRECISION NOT NULL DEFAULT 0,
            epoch             BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_job_created ON runs (job, created_at);
        CREATE INDEX runs_status ON runs (status);
        CREATE INDEX runs_unfinished ON runs (job, created_at, id) WHERE status IN ('running', 'queued');
        CREATE INDEX runs_parent ON runs (parent_run) WHERE parent_run IS NOT NULL;
        CREATE INDEX runs_created ON runs (created_at, id);
        CREATE INDEX runs_status_created ON runs (status, created_at, id);

        CREATE TABLE slices (
            run_id          TEXT COLLATE "C" NOT NULL REFERENCES runs (id),
            number          INTEGER NOT NULL,
            attempt         INTEGER NOT NULL,
            started_at      BIGINT NOT NULL,
            finished_at     BIGINT,
            cursor_in       TEXT,
            cursor_out      TEXT,
            outcome         TEXT NOT NULL,
            exit_code       INTEGER,
            signal          INTEGER,
            processed       BIGINT NOT NULL DEFAULT 0,
            succeeded       BIGINT NOT NULL DEFAULT 0,
            skipped         BIGINT NOT NULL DEFAULT 0,
            failed          BIGINT NOT NULL DEFAULT 0,
            error           TEXT,
            message         TEXT,
            truncated       BOOLEAN NOT NULL DEFAULT false,
            retry_after_ms  BIGINT,
            log             TEXT NOT NULL DEFAULT '',
            owner           TEXT,
            input_tokens    BIGINT NOT NULL DEFAULT 0,
            output_tokens   BIGINT NOT NULL DEFAULT 0,
            cost_usd        DOUBLE PRECISION NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, number, attempt)
        );

        -- seq keeps reporting order: a run's items come from one holder's commits, one
        -- after another, so a later commit's items always get larger numbers.
        CREATE TABLE items (
            seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            run_id   TEXT COLLATE "C" NOT NULL REFERENCES runs (id),
            slice    INTEGER NOT NULL,
            item_id  TEXT NOT NULL,
            status   TEXT NOT NULL,
            error    TEXT
        );
        CREATE INDEX items_run_status ON items (run_id, status);

        -- version: raised on every pause or unpause in commit order (setPaused takes an
        -- advisory lock for it), so a daemon reads only what changed since it looked.
        CREATE TABLE job_state (
            job         TEXT COLLATE "C" PRIMARY KEY,
            paused      BOOLEAN NOT NULL DEFAULT false,
            changed_at  BIGINT NOT NULL,
            version     BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX job_state_version ON job_state (version);

        -- Every fire acted on, once across every daemon: the key is the whole guarantee.
        CREATE TABLE fires (
            job           TEXT COLLATE "C" NOT NULL,
            scheduled_at  BIGINT NOT NULL,
            kind          TEXT NOT NULL,
            run_id        TEXT COLLATE "C",
            recorded_at   BIGINT NOT NULL,
            PRIMARY KEY (job, scheduled_at)
        );

        CREATE TABLE request_keys (
            job         TEXT COLLATE "C" NOT NULL,
            key         TEXT COLLATE "C" NOT NULL,
            run_id      TEXT COLLATE "C",
            expires_at  BIGINT NOT NULL,
            PRIMARY KEY (job, key)
        );
        CREATE INDEX request_keys_expiry ON request_keys (expires_at);

        CREATE TABLE locks (
            name        TEXT COLLATE "C" PRIMARY KEY,
            run_id      TEXT COLLATE "C" NOT NULL,
            owner       TEXT NOT NULL,
            expires_at  BIGINT NOT NULL
        );
        """,
        // 2: the daemons that use this database, each refreshing its row every few
        // seconds: who is alive, and whether their schedule files agree.
        """
        CREATE TABLE daemons (
            owner       TEXT COLLATE "C" PRIMARY KEY,
            host        TEXT NOT NULL,
            started_at  BIGINT NOT NULL,
            seen_at     BIGINT NOT NULL,
            schedules   TEXT NOT NULL,
            jobs        TEXT NOT NULL
        );
        """,
        // 3: the length of the lease its holder took, so that after a server restart
        // the holder gets that long (not the claimer's lease) to renew before a
        // takeover.
        """
        ALTER TABLE runs ADD COLUMN lease_ms BIGINT;
        """,
    ]

    /// The version this baton writes and understands.
    static var currentVersion: Int { migrations.count }

    /// Advisory lock keys, "BATN" and a number: one for migrations, one that orders
    /// pauses (job_state versions).
    static let migrationLock: Int64 = 0x4241_544E_0001
    static let jobStateLock: Int64 = 0x4241_544E_0002

    /// Brings the database to `currentVersion`. Several daemons may start at once: one
    /// at a time takes an advisory lock, reads the version in a transaction begun AFTER
    /// it holds the lock, and migrates in that transaction, so exactly one of them
    /// applies each migration and the others find it done.
    ///
    /// The lock is the session's (`pg_advisory_lock`, let go once the transaction has
    /// ended, or by the server if the connection dies), not the transaction's: a
    /// transaction that waited for `pg_advisory_xact_lock` keeps the catalog cache it
    /// began with (an advisory lock, unlike a table's, does not make the server read
    /// other sessions' catalog changes), does not see the tables the winner created,
    /// and fails creating them again (seen: 42P07 with six daemons starting together).
    /// - Throws: `.tooNew` for a newer baton's database, `.corrupt` when another
    ///   program's `runs` table is in the way; PostgreSQL's errors.
    static func migrate(_ db: PostgresConnection) throws(StoreError) {
        if try usableVersion(db) == currentVersion { return }
        do throws(PostgresError) { try db.execute("SELECT pg_advisory_lock($1)", [.integer(migrationLock)]) } catch {
            throw StoreError(error)
        }
        defer { _ = try? db.execute("SELECT pg_advisory_unlock($1)", [.integer(migrationLock)]) }
        try db.transaction { () throws(StoreError) in
            let found = try usableVersion(db)
            if found == currentVersion { return }
            do throws(PostgresError) {
                try db.executeScript("CREATE TABLE IF NOT EXISTS baton_schema (version INTEGER NOT NULL)")
                for script in migrations[found...] { try db.executeScript(script) }
                try db.execute("DELETE FROM baton_schema")
                try db.execute("INSERT INTO baton_schema (version) VALUES ($1)", [.int(currentVersion)])
            } catch {
                throw StoreError(error)
            }
        }
    }

    /// The schema version of a database baton may use (0: empty). Refuses a newer
    /// baton's, and one where another program keeps a `runs` table.
    static func usableVersion(_ db: PostgresConnection) throws(StoreError) -> Int {
        let row: (hasVersion: Bool, hasRuns: Bool)
        do throws(PostgresError) {
            let r = try db.execute("SELECT to_regclass('baton_schema') IS NOT NULL, to_regclass('runs') IS NOT NULL").row(0)
            row = (r.bool(0), r.bool(1))
        } catch { throw StoreError(error) }
        guard row.hasVersion else {
            if row.hasRuns {
                throw StoreError(.corrupt, location: db.location, "the database has a table runs that is not baton's",
                                 hint: "give baton a database (or a schema, with ?options=-csearch_path%3DNAME) of its own")
            }
            return 0
        }
        let version: Int
        do throws(PostgresError) { version = try db.execute("SELECT coalesce(max(version), 0) FROM baton_schema").row(0).int(0) } catch {
            throw StoreError(error)
        }
        if version > currentVersion {
            throw StoreError(.tooNew, location: db.location,
                             "the database has schema version \(version); this baton knows versions up to \(currentVersion)",
                             hint: "upgrade baton (a newer one migrated this database)")
        }
        return version
    }
}
