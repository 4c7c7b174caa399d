import BatonSQLite
import Glibc

/// `APP_DB=sqlite:PATH`: WAL mode with a busy timeout (5 s, in short waits), so several
/// slices (of one run or of several) share the file, through the SQLite wrapper baton's
/// store uses.
final class SQLiteAppDatabase: AppDatabase {
    let db: SQLiteConnection
    /// The background syncs of the WAL; nil when the database is not in WAL mode.
    let walSync: WALSync?
    var dialect: AppDialect { AppDialect(.sqlite) }

    init(path: String) throws(HandlerError) {
        do {
            try ParentDirectory.create(for: path)
            db = try SQLiteConnection(path: path)
            try Self.setUp(db)
            db.setShortBusyWaits(timeoutMs: 5000)
            // Background syncs and unsynced commits need the WAL (a file system without
            // shared memory leaves the database in its rollback journal).
            let wal = try db.scalarText("PRAGMA journal_mode")?.lowercased() == "wal"
            walSync = wal ? db.walPath.map(WALSync.init) : nil
        } catch {
            throw HandlerError("APP_DB sqlite:\(path): \(error.message)", hint: error.hint ?? "check the path and its permissions")
        }
    }

    /// Switches a new file to WAL. Several processes opening a new file at once can
    /// meet in SQLite's lock upgrade (one reading to change the journal mode while
    /// another writes), which answers busy at once, without the busy timeout (seen in
    /// AppDatabaseContract's concurrent opens): tried again after short pauses, for
    /// about as long as the busy timeout.
    private static func setUp(_ db: SQLiteConnection) throws(SQLiteError) {
        var attempt = 0
        while true {
            do {
                try db.executeScript("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL")
                return
            } catch where error.kind == .busy && attempt < 100 {
                attempt += 1
                usleep(useconds_t(min(50, 5 * attempt)) * 1000)
            }
        }
    }

    /// `PRAGMA synchronous`: `FULL` (the WAL fsynced at every commit) or `NORMAL` (the
    /// WAL written at every commit, fsynced at checkpoints: a commit survives the
    /// process's death, e.g. `kill -9`, but not the machine's, e.g. a power cut).
    private var synced = true

    func setSyncEveryCommit(_ on: Bool) throws(HandlerError) {
        guard on != synced else { return }
        _ = try execute(on ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", [])
        synced = on
    }

    func unsyncedCommitEpoch(environment: [String: String]) -> String? {
        walSync == nil ? nil : AppDB.bootId(environment: environment)
    }

    func syncInBackground() { walSync?.start() }

    func waitForSync() throws(HandlerError) { try walSync?.wait() }

    func execute(_ sql: String, _ args: [AppValue]) throws(HandlerError) -> Int {
        do {
            try db.execute(sql, args.map(Self.bind))
            return db.changes
        } catch {
            throw Self.wrap(error, sql)
        }
    }

    func query(_ sql: String, _ args: [AppValue]) throws(HandlerError) -> [AppRow] {
        do {
            return try db.query(sql, args.map(Self.bind)) { (s) throws(SQLiteError) in
                AppRow((0..<s.columnCount).map { Self.read(s.value($0)) })
            }
        } catch {
            throw Self.wrap(error, sql)
        }
    }

    func transaction<T>(_ body: () throws(HandlerError) -> T) throws(HandlerError) -> T {
        guard !db.isInTransaction else {
            throw HandlerError.nestedTransaction
        }
        var failure: HandlerError?
        do {
            let value: T? = try db.transaction { () throws(SQLiteError) -> T? in
                do throws(HandlerError) { return try body() } catch {
                    failure = error
                    // Any error rolls back: hand the wrapper one to do so.
                    throw SQLiteError(.conflict, location: "APP_DB", "rolled back: \(error.message)")
                }
            }
            if let value { return value }
        } catch {
            if let failure { throw failure }
            throw Self.wrap(error, "BEGIN")
        }
        throw failure ?? HandlerError("APP_DB transaction ended without a value")
    }

    /// One transaction (SQLite's write lock orders concurrent openers).
    func migrate(_ component: String, _ steps: [String]) throws(HandlerError) {
        _ = try execute(AppMigrations.createTable, [])
        try transaction { () throws(HandlerError) in
            try AppMigrations.apply(self, component, steps) { (step) throws(HandlerError) in
                do throws(SQLiteError) { try db.executeScript(step) } catch { throw Self.wrap(error, step) }
            }
        }
    }

    static func bind(_ v: AppValue) -> SQLiteValue {
        switch v {
        case .null: .null
        case let .integer(n): .integer(n)
        case let .real(d): .real(d)
        case let .text(s): .text(s)
        }
    }

    static func read(_ v: SQLiteValue) -> AppValue {
        switch v {
        case .null: .null
        case let .integer(n): .integer(n)
        case let .real(d): .real(d)
        case let .text(s): .text(s)
        case let .blob(b): .text(String(decoding: b, as: UTF8.self))
        }
    }

    static func wrap(_ error: SQLiteError, _ sql: String) -> HandlerError {
        let statement = sql.split(separator: "\n").first.map { String($0.prefix(80)) } ?? ""
        return HandlerError("APP_DB: \(error.message) (in: \(statement))", hint: error.hint)
    }
}
