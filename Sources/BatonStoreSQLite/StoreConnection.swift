import BatonSQLite
import BatonStore

/// The SQLite wrapper as the store uses it: the same calls, every failure a
/// `StoreError` (the wrapper's own `SQLiteError` mapped kind for kind), so the tables'
/// code speaks one error type.
final class StoreConnection {
    let sqlite: SQLiteConnection
    var path: String { sqlite.path }

    /// Creates the parent directory, then opens the file (`SQLiteConnection.init`).
    /// - Throws: `StoreError` (`.cantOpen`, `.readOnly`, …).
    init(path: String) throws(StoreError) {
        do {
            try ParentDirectory.create(for: path)
            sqlite = try SQLiteConnection(path: path)
        } catch {
            throw StoreError(error)
        }
    }

    func close() { sqlite.close() }

    var changes: Int { sqlite.changes }

    func execute(_ sql: String, _ values: [SQLiteValue] = []) throws(StoreError) {
        do { try sqlite.execute(sql, values) } catch { throw StoreError(error) }
    }

    func executeScript(_ sql: String) throws(StoreError) {
        do { try sqlite.executeScript(sql) } catch { throw StoreError(error) }
    }

    func scalarText(_ sql: String) throws(StoreError) -> String? {
        do { return try sqlite.scalarText(sql) } catch { throw StoreError(error) }
    }

    func query<T>(_ sql: String, _ values: [SQLiteValue] = [], row: (SQLiteStatement) throws(StoreError) -> T) throws(StoreError) -> [T] {
        try sqlite.query(sql, values, row: row)
    }

    func queryOne<T>(_ sql: String, _ values: [SQLiteValue] = [], row: (SQLiteStatement) throws(StoreError) -> T) throws(StoreError) -> T? {
        try sqlite.queryOne(sql, values, row: row)
    }

    /// `SQLiteConnection.transaction`: `BEGIN IMMEDIATE`, busy retries, rollback on error.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try sqlite.transaction(body)
    }
}

extension StoreError: SQLiteFailure {
    /// The wrapper's error as the store's: same kind, place, message, hint and code.
    public init(_ e: SQLiteError) {
        let kind: Kind = switch e.kind {
        case .busy: .busy
        case .full: .full
        case .readOnly: .readOnly
        case .cantOpen: .cantOpen
        case .corrupt: .corrupt
        case .conflict: .conflict
        case .notFound: .notFound
        case .io: .io
        }
        self.init(kind, location: e.location, e.message, hint: e.hint, code: e.code)
    }

    public var isBusy: Bool { kind == .busy }
}

extension SQLiteStatement {
    /// A `.corrupt` error about a value this statement read, for decoders.
    func corrupt(_ message: String) -> StoreError {
        StoreError(.corrupt, location: path, message,
                   hint: "the database holds a value this baton cannot read; was it written by another program?")
    }
}
