import BatonSQLite
import BatonStore

/// The schema, versioned by `PRAGMA user_version`: migration N takes a database from
/// version N-1 to N. Migrations only ever append; a released one is never edited.
///
/// Tables are STRICT (SQLite 3.37+), so a value of the wrong type is refused, not stored.
/// Times are Unix epoch milliseconds (INTEGER); `command` is a JSON array of strings.
enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: runs, their slices and reported items.
        """
        CREATE TABLE runs (
            id                TEXT PRIMARY KEY NOT NULL,
            job               TEXT NOT NULL,
            trigger_kind      TEXT NOT NULL,
            status            TEXT NOT NULL,
            scheduled_at      INTEGER NOT NULL,
            created_at        INTEGER NOT NULL,
            updated_at        INTEGER NOT NULL,
            finished_at       INTEGER,
            cursor            TEXT,
            next_slice        INTEGER NOT NULL DEFAULT 1,
            next_attempt      INTEGER NOT NULL DEFAULT 1,
            failed_attempts   INTEGER NOT NULL DEFAULT 0,
            slices_done       INTEGER NOT NULL DEFAULT 0,
            processed         INTEGER NOT NULL DEFAULT 0,
            succeeded         INTEGER NOT NULL DEFAULT 0,
            skipped           INTEGER NOT NULL DEFAULT 0,
            failed            INTEGER NOT NULL DEFAULT 0,
            total             INTEGER,
            message           TEXT,
            error             TEXT,
            params            TEXT NOT NULL DEFAULT '{}',
            payload           TEXT,
            command           TEXT,
            parent_run        TEXT,
            owner             TEXT,
            lease_expires_at  INTEGER,
            cancel_requested  INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX runs_job_created ON runs(job, created_at);
        CREATE INDEX runs_status ON runs(status);

        CREATE TABLE slices (
            run_id          TEXT NOT NULL REFERENCES runs(id),
            number          INTEGER NOT NULL,
            attempt         INTEGER NOT NULL,
            started_at      INTEGER NOT NULL,
            finished_at     INTEGER,
            cursor_in       TEXT,
            cursor_out      TEXT,
            outcome         TEXT NOT NULL,
            exit_code       INTEGER,
            signal          INTEGER,
            processed       INTEGER NOT NULL DEFAULT 0,
            succeeded       INTEGER NOT NULL DEFAULT 0,
            skipped         INTEGER NOT NULL DEFAULT 0,
            failed          INTEGER NOT NULL DEFAULT 0,
            error           TEXT,
            message         TEXT,
            truncated       INTEGER NOT NULL DEFAULT 0,
            retry_after_ms  INTEGER,
            log             TEXT NOT NULL DEFAULT '',
            owner           TEXT,
            PRIMARY KEY (run_id, number, attempt)
        ) STRICT;

        -- seq (the rowid) keeps reporting order: a new row always gets a larger one
        -- than every row still present.
        CREATE TABLE items (
            seq      INTEGER PRIMARY KEY,
            run_id   TEXT NOT NULL REFERENCES runs(id),
            slice    INTEGER NOT NULL,
            item_id  TEXT NOT NULL,
            status   TEXT NOT NULL,
            error    TEXT
        ) STRICT;
        CREATE INDEX items_run_status ON items(run_id, status);
        """,
        // 2: per-job state kept across restarts and shared by every process (pause).
        """
        CREATE TABLE job_state (
            job         TEXT PRIMARY KEY,
            paused      INTEGER NOT NULL DEFAULT 0,
            changed_at  INTEGER NOT NULL
        ) STRICT;
        """,
        // 3: every fire acted on, once: the key makes a fire happen exactly once across
        // ticks and daemons; skipped fires are kept too, so they never count as missed.
        """
        CREATE TABLE fires (
            job           TEXT NOT NULL,
            scheduled_at  INTEGER NOT NULL,
            kind          TEXT NOT NULL,
            run_id        TEXT,
            recorded_at   INTEGER NOT NULL,
            PRIMARY KEY (job, scheduled_at)
        ) STRICT;
        """,
        // 4: keys of webhook calls: `idem:K` (an Idempotency-Key, 24 h) and `sig:HEX` (a
        // signed request already seen, kept past the signature window to refuse replays).
        """
        CREATE TABLE request_keys (
            job         TEXT NOT NULL,
            key         TEXT NOT NULL,
            run_id      TEXT,
            expires_at  INTEGER NOT NULL,
            PRIMARY KEY (job, key)
        ) STRICT;
        CREATE INDEX request_keys_expiry ON request_keys(expires_at);
        """,
        // 5: the runs still to drive, oldest first, without reading the finished ones.
        """
        CREATE INDEX runs_unfinished ON runs(job, created_at, id) WHERE status IN ('running', 'queued');
        """,
        // 6: lock= names: held by one run at a time, across every process sharing the
        // store, until released, the run ends, or the holder stops renewing it.
        """
        CREATE TABLE locks (
            name        TEXT PRIMARY KEY NOT NULL,
            run_id      TEXT NOT NULL,
            owner       TEXT NOT NULL,
            expires_at  INTEGER NOT NULL
        ) STRICT;
        """,
        // 7: a run's retries (`baton show` links them; `baton retry` does not offer
        // items a retry already took).
        """
        CREATE INDEX runs_parent ON runs(parent_run) WHERE parent_run IS NOT NULL;
        """,
        // 8: AI spend (SPEC §3 `usage`) per slice and summed per run, for max-tokens= and
        // max-cost=.
        """
        ALTER TABLE runs ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
        ALTER TABLE slices ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE slices ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE slices ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
        """,
        // 9: history newest first, whole or by status, one page at a time (the dashboard,
        // `GET /runs?before=`), without sorting the table.
        """
        CREATE INDEX runs_created ON runs(created_at, id);
        CREATE INDEX runs_status_created ON runs(status, created_at, id);
        """,
        // 10: the ownership epoch (fencing token): every claim raises it, and every
        // write a driver makes names it, so a stale owner's writes are refused.
        """
        ALTER TABLE runs ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
        """,
        // 11: what the scheduler asks without scanning. A version on each job's state,
        // raised on every pause or unpause in commit order (the write lock serialises
        // them), so a daemon reads only what changed since it last looked; triggers keep
        // it, so every writer of job_state raises it.
        """
        ALTER TABLE job_state ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
        UPDATE job_state SET version = rowid;
        CREATE INDEX job_state_version ON job_state(version);
        CREATE TRIGGER job_state_version_insert AFTER INSERT ON job_state BEGIN
            UPDATE job_state SET version = (SELECT max(version) FROM job_state) + 1 WHERE job = NEW.job;
        END;
        CREATE TRIGGER job_state_version_update AFTER UPDATE OF paused, changed_at ON job_state BEGIN
            UPDATE job_state SET version = (SELECT max(version) FROM job_state) + 1 WHERE job = NEW.job;
        END;
        """,
        // 12: the daemons that use this store, each refreshing its row every few
        // seconds: who is alive, and whether their schedule files agree.
        """
        CREATE TABLE daemons (
            owner       TEXT PRIMARY KEY NOT NULL,
            host        TEXT NOT NULL,
            started_at  INTEGER NOT NULL,
            seen_at     INTEGER NOT NULL,
            schedules   TEXT NOT NULL,
            jobs        TEXT NOT NULL
        ) STRICT;
        """,
    ]

    /// The version this baton writes and understands.
    static var currentVersion: Int { migrations.count }

    /// `PRAGMA application_id` of a baton database ("BATN"), so `file(1)` and baton itself
    /// can tell one from another program's SQLite file.
    static let applicationID: Int32 = 0x4241_544E

    /// Brings the database to `currentVersion`. Several processes may open a new file at
    /// once: each migration runs inside `BEGIN IMMEDIATE`, and the version is read again
    /// under that write lock, so exactly one of them applies it and the others find it done.
    /// - Throws: `.tooNew` when the file comes from a newer baton, `.corrupt` when it is
    ///   another program's database; SQLite errors.
    static func migrate(_ db: StoreConnection) throws(StoreError) {
        if try usableVersion(db) == currentVersion { return }
        try db.transaction { () throws(StoreError) in
            let found = try usableVersion(db)
            if found == currentVersion { return }
            for script in migrations[found...] { try db.executeScript(script) }
            // PRAGMA takes no parameters; both values are our own integers.
            try db.executeScript("PRAGMA user_version = \(currentVersion); PRAGMA application_id = \(applicationID)")
        }
    }

    /// Wraps `PRAGMA user_version`.
    static func version(of db: StoreConnection) throws(StoreError) -> Int {
        Int(try db.scalarText("PRAGMA user_version") ?? "0") ?? 0
    }

    /// The schema version of a database baton may use. Refuses a newer baton's database,
    /// and another program's: one marked with another application id, or one with tables
    /// but no version (baton must not add its tables to it). One statement reads all three
    /// values from one snapshot: read apart, another process's migration could commit in
    /// between and its tables would look like a stranger's.
    static func usableVersion(_ db: StoreConnection) throws(StoreError) -> Int {
        let (version, id, tables) = try db.queryOne("""
            SELECT (SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id), \
            (SELECT count(*) FROM sqlite_schema)
            """) { row in (row.int(0), row.int(1), row.int(2)) } ?? (0, 0, 0)
        if (id != 0 && id != Int(applicationID)) || version < 0 || (version == 0 && tables > 0) { throw foreign(db) }
        if version > currentVersion {
            throw StoreError(.tooNew, location: db.path,
                             "the database has schema version \(version); this baton knows versions up to \(currentVersion)",
                             hint: "upgrade baton (a newer one wrote this file)")
        }
        return version
    }

    private static func foreign(_ db: StoreConnection) -> StoreError {
        StoreError(.corrupt, location: db.path, "an SQLite database of another program, not baton's",
                   hint: "point --state at a file of baton's own (baton creates it)")
    }
}
