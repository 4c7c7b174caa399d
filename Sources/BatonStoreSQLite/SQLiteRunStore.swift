import BatonSQLite
import BatonStore
import Dispatch
import Glibc
import Synchronization

/// The embedded `RunStore` (SPEC §5, `sqlite:PATH`): one SQLite file in WAL mode, safe
/// for several baton processes on one machine.
///
/// The connection lives on one dedicated serial `DispatchQueue`: every method hops
/// there through a checked continuation, so `sqlite3_step` (which may wait up to the
/// busy timeout for another process) never runs on Swift's cooperative pool. Writes
/// take the write lock up front (`BEGIN IMMEDIATE`) and retry a few times when another
/// process holds it past the busy timeout. See docs/store.md.
public final class SQLiteRunStore: RunStore {
    /// How hard a commit is made durable (`PRAGMA synchronous`).
    public enum Synchronous: String, Sendable {
        /// fsync on every commit: a committed slice survives a power cut. The default.
        case full = "FULL"
        /// fsync at checkpoints only: a power cut may lose the last commits (never a
        /// crash of baton itself), in exchange for faster commits.
        case normal = "NORMAL"
    }

    /// The database file, as given.
    public let path: String
    private let queue: DispatchQueue
    private let box: TablesBox
    /// Starts answered without a round trip (see ChainedStarts).
    let chained = ChainedStarts()
    /// Slice commits gathered while the store's thread is busy (see CommitGroups).
    let groups = CommitGroups()

    /// Opens (creating the file and its parent directory when missing) and migrates the
    /// database at `path`. Blocks while it opens (up to `busyTimeout` per lock wait, when
    /// another process is migrating the same file): call it at start-up.
    /// - Parameters:
    ///   - synchronous: `.full` (default) or `.normal`; see `Synchronous`.
    ///   - busyTimeout: how long one statement waits for another process's lock
    ///     (`PRAGMA busy_timeout`) before a write is retried or `.busy` thrown.
    /// - Throws: `StoreError`: `.cantOpen` or `.readOnly` (with a hint naming the
    ///   directory to create or fix), `.corrupt` (not a baton database), `.tooNew`
    ///   (written by a newer baton), `.io` when WAL mode cannot be enabled.
    public init(path: String, synchronous: Synchronous = .full, busyTimeout: Duration = .seconds(5)) throws(StoreError) {
        self.path = path
        self.queue = DispatchQueue(label: "baton.store.sqlite")
        let tables = try Self.open(path: path, synchronous: synchronous, busyTimeout: busyTimeout)
        self.box = TablesBox(tables, path: path)
    }

    /// Opens the store a `--state` URL names: `sqlite:PATH` (`sqlite:var/baton.db`,
    /// `sqlite:/srv/baton.db`; `sqlite:///srv/baton.db` is the same as the latter).
    /// - Throws: `.cantOpen` for another scheme or an empty path; as `init(path:)`.
    public static func open(url: String, synchronous: Synchronous = .full) throws(StoreError) -> SQLiteRunStore {
        let path: String
        do { path = try SQLiteURL.path(url, setting: "the store URL", example: "sqlite:var/baton.db") } catch {
            throw StoreError(.cantOpen, location: url, error.message, hint: error.hint)
        }
        return try SQLiteRunStore(path: path, synchronous: synchronous)
    }

    /// Closes the connection once the operations already started have finished
    /// (`sqlite3_close_v2(3)`), checkpointing the WAL when this was the file's last
    /// connection. Later calls fail with `.io` "the store is closed". Releasing the store
    /// closes it too; this lets a shutdown wait for it.
    public func close() async {
        let box = self.box
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                box.close()
                continuation.resume()
            }
        }
    }

    deinit {
        // Queued after every operation still in flight; they hold the box, not the store.
        queue.async { [box] in box.close() }
    }

    private static func open(path: String, synchronous: Synchronous, busyTimeout: Duration) throws(StoreError) -> SQLiteRunTables {
        let db = try StoreConnection(path: path)
        do throws(StoreError) {
            let (seconds, attoseconds) = busyTimeout.components
            let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
            // busy_timeout first: enabling WAL and migrating wait for other processes.
            try db.executeScript("PRAGMA busy_timeout = \(milliseconds)")
            // Several processes opening a new file at once can meet in SQLite's lock
            // upgrade (one switching the journal mode while another migrates), which
            // answers busy at once, without the busy timeout: set up again after short
            // pauses, for about as long as the busy timeout.
            let deadline = ContinuousClock.now + busyTimeout
            var pause = 2
            while true {
                do throws(StoreError) {
                    try setUp(db, path: path, synchronous: synchronous)
                    return SQLiteRunTables(db: db, synchronous: synchronous)
                } catch where error.kind == .busy && ContinuousClock.now < deadline {
                    usleep(useconds_t(pause) * 1000)
                    pause = min(50, pause * 2)
                }
            }
        } catch {
            db.close()
            throw error
        }
    }

    /// Refuses another program's database or a newer baton's without touching it, then
    /// switches to WAL, sets the pragmas and migrates.
    private static func setUp(_ db: StoreConnection, path: String, synchronous: Synchronous) throws(StoreError) {
        _ = try SQLiteSchema.usableVersion(db)
        let mode = try db.scalarText("PRAGMA journal_mode = WAL")
        guard mode?.lowercased() == "wal" else {
            throw StoreError(.io, location: path, "SQLite kept journal mode \(mode ?? "unknown") instead of wal",
                             hint: "WAL creates \(path)-wal and \(path)-shm: keep the file in a writable directory on a"
                                 + " local file system (not NFS)")
        }
        try db.executeScript("PRAGMA synchronous = \(synchronous.rawValue); PRAGMA foreign_keys = ON")
        try SQLiteSchema.migrate(db)
    }

    /// Queues `body` on the store's queue without waiting for it: it runs before any
    /// operation queued later. Only for writes whose failure is kept for later.
    func performLater(_ body: @escaping @Sendable (SQLiteRunTables) -> Void) {
        let box = self.box
        groups.close()
        queue.async { _ = box.run { tables throws(StoreError) in body(tables) } }
    }

    /// Queues the flush of the next commit group (see CommitGroups); a closed store
    /// answers each of its commits with that failure.
    func queueFlush(_ groups: CommitGroups) {
        let box = self.box
        queue.async {
            let ops = groups.next()
            if case let .failure(error) = box.run({ tables throws(StoreError) in Self.flush(ops, tables) }) {
                for op in ops { op.done.resume(returning: .failure(error)) }
            }
        }
    }

    /// Runs `body` on the store's queue and hands its result back to the caller's task.
    func perform<T: Sendable>(_ body: @escaping @Sendable (SQLiteRunTables) throws(StoreError) -> T)
        async throws(StoreError) -> T {
        let box = self.box
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StoreError>, Never>) in
            queue.async { continuation.resume(returning: box.run(body)) }
        }
        return try result.get()
    }
}

/// The connection, reachable from the store's queue only; the mutex is never contended
/// (one serial queue), it only carries the non-Sendable connection across to that queue.
private final class TablesBox: Sendable {
    private let tables: Mutex<SQLiteRunTables?>
    private let path: String

    init(_ tables: sending SQLiteRunTables, path: String) {
        self.tables = Mutex(tables)
        self.path = path
    }

    func run<T: Sendable>(_ body: @Sendable (SQLiteRunTables) throws(StoreError) -> T) -> Result<T, StoreError> {
        tables.withLock { tables in
            guard let tables else {
                return .failure(StoreError(.io, location: path, "the store is closed"))
            }
            return Result { () throws(StoreError) in try body(tables) }
        }
    }

    func close() {
        tables.withLock { tables in
            tables?.db.close()
            tables = nil
        }
    }
}
