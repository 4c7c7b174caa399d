import CSQLite
import Glibc

/// One SQLite connection and its cache of prepared statements.
///
/// Opened with `SQLITE_OPEN_NOMUTEX`, so it is NOT thread-safe: it must be used from one
/// serial queue at a time, which `SQLiteRunStore` guarantees. Errors come out as
/// `SQLiteError` with the database path as their location; the methods that run a
/// caller's closure throw the caller's own error type (`SQLiteFailure`).
public final class SQLiteConnection {
    public let path: String
    private var handle: OpaquePointer?
    /// Prepared statements by SQL text, prepared once and reset after each use.
    private var statements: [String: SQLiteStatement] = [:]

    /// Wraps `sqlite3_open_v2(3)` with `SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
    /// SQLITE_OPEN_NOMUTEX` and turns on extended result codes. A failed open closes the
    /// handle SQLite allocates even then; a file SQLite could only open read-only (it
    /// falls back silently when the file is write-protected) is refused as `.readOnly`.
    /// - Throws: `SQLiteError` (`.cantOpen`, `.readOnly`, …).
    public init(path: String) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError.sqlite(rc, db: db, path: path, call: "sqlite3_open_v2")
            sqlite3_close_v2(db)
            throw error
        }
        sqlite3_extended_result_codes(db, 1)
        if sqlite3_db_readonly(db, "main") == 1 {
            sqlite3_close_v2(db)
            throw SQLiteError(.readOnly, location: path, "the database file is write-protected (opened read-only)",
                              hint: SQLiteError.readOnlyHint(path: path), code: SQLITE_READONLY)
        }
        self.handle = db
    }

    deinit {
        close()
    }

    private var db: OpaquePointer {
        guard let handle else { preconditionFailure("SQLiteConnection used after close: \(path)") }
        return handle
    }

    /// Finalizes every cached statement, then wraps `sqlite3_close_v2(3)`. Idempotent.
    public func close() {
        guard let handle else { return }
        for statement in statements.values { statement.finalize() }
        statements.removeAll()
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    /// Runs `body` with the cached statement for `sql` (prepared on first use), bound to
    /// `values`, and resets it afterwards whatever happens.
    public func withStatement<T, E: SQLiteFailure>(_ sql: String, _ values: [SQLiteValue],
                                                   _ body: (SQLiteStatement) throws(E) -> T) throws(E) -> T {
        let statement: SQLiteStatement
        if let cached = statements[sql] {
            statement = cached
        } else {
            do { statement = try SQLiteStatement(db: db, path: path, sql: sql) } catch { throw E(error) }
            statements[sql] = statement
        }
        defer { statement.reset() }
        do { try statement.bind(values) } catch { throw E(error) }
        return try body(statement)
    }

    /// Runs a statement that returns no rows (or whose rows do not matter) to its end.
    public func execute(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) {
        try withStatement(sql, values) { (statement) throws(SQLiteError) in
            while try statement.step() {}
        }
    }

    /// Runs a query and decodes every row with `row`.
    public func query<T, E: SQLiteFailure>(_ sql: String, _ values: [SQLiteValue] = [],
                                           row: (SQLiteStatement) throws(E) -> T) throws(E) -> [T] {
        try withStatement(sql, values) { (statement) throws(E) in
            var rows: [T] = []
            while try Self.step(statement, E.self) { rows.append(try row(statement)) }
            return rows
        }
    }

    /// The first row of a query, decoded, or nil when there is none.
    public func queryOne<T, E: SQLiteFailure>(_ sql: String, _ values: [SQLiteValue] = [],
                                              row: (SQLiteStatement) throws(E) -> T) throws(E) -> T? {
        try withStatement(sql, values) { (statement) throws(E) in
            try Self.step(statement, E.self) ? try row(statement) : nil
        }
    }

    /// `step()` with its failure as the caller's error type.
    private static func step<E: SQLiteFailure>(_ statement: SQLiteStatement, _: E.Type) throws(E) -> Bool {
        do { return try statement.step() } catch { throw E(error) }
    }

    /// Wraps `sqlite3_exec(3)` for uncached statements without results: DDL, PRAGMAs.
    public func executeScript(_ sql: String) throws(SQLiteError) {
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw SQLiteError.sqlite(rc, db: db, path: path, call: "sqlite3_exec") }
    }

    /// The first column of the first row of an uncached statement, as text: for PRAGMAs
    /// that answer (`journal_mode`, `user_version`).
    public func scalarText(_ sql: String) throws(SQLiteError) -> String? {
        let statement = try SQLiteStatement(db: db, path: path, sql: sql)
        defer { statement.finalize() }
        return try statement.step() ? statement.optionalString(0) : nil
    }

    /// Wraps `sqlite3_busy_handler(3)` with waits of 50 µs for the first 10 ms, then of
    /// 1 ms, up to about `timeoutMs` in all (replacing `busy_timeout`). SQLite's own
    /// handler sleeps 1 ms at least, then longer: between processes that each commit
    /// thousands of short transactions a second (send-batches' workers), that sleep,
    /// not the lock, is what they wait for.
    public func setShortBusyWaits(timeoutMs: Int) {
        let limit = 200 + max(0, timeoutMs - 10)
        sqlite3_busy_handler(db, { context, count in
            guard Int(count) < Int(bitPattern: context) else { return 0 }
            usleep(count < 200 ? 50 : 1000)
            return 1
        }, UnsafeMutableRawPointer(bitPattern: limit))
    }

    /// The main database's WAL file (`sqlite3_filename_wal(3)`; whether the database is
    /// in WAL mode or not), nil for an in-memory or temporary database.
    public var walPath: String? {
        guard let name = sqlite3_db_filename(db, "main"), name.pointee != 0, let wal = sqlite3_filename_wal(name), wal.pointee != 0 else {
            return nil
        }
        return String(cString: wal)
    }

    /// Wraps `sqlite3_changes64(3)`: rows the last INSERT, UPDATE or DELETE changed.
    public var changes: Int {
        Int(sqlite3_changes64(db))
    }

    /// Wraps `sqlite3_get_autocommit(3)`: whether a transaction is open.
    public var isInTransaction: Bool {
        sqlite3_get_autocommit(db) == 0
    }
}
