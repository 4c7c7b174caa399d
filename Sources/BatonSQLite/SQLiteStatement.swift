import CSQLite

/// One prepared statement, prepared once and reused: bind, step, read columns, reset.
/// Belongs to the `SQLiteConnection` that prepared it and shares its thread rule.
public final class SQLiteStatement {
    public let sql: String
    private let handle: OpaquePointer
    private let db: OpaquePointer
    /// The database file, for errors.
    public let path: String

    /// Wraps `sqlite3_prepare_v3(3)` with `SQLITE_PREPARE_PERSISTENT`: the statement is
    /// kept in the connection's cache for its whole life.
    public init(db: OpaquePointer, path: String, sql: String) throws(SQLiteError) {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            sqlite3_finalize(stmt)
            throw SQLiteError.sqlite(rc, db: db, path: path, call: "sqlite3_prepare_v3")
        }
        self.sql = sql; self.handle = stmt; self.db = db; self.path = path
    }

    /// Binds `values` to parameters 1...n. Wraps `sqlite3_bind_int64(3)`,
    /// `sqlite3_bind_text(3)` and `sqlite3_bind_blob(3)` (both copying, `SQLITE_TRANSIENT`)
    /// and `sqlite3_bind_null(3)`.
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        precondition(values.count == Int(sqlite3_bind_parameter_count(handle)),
                     "\(values.count) values for \(sqlite3_bind_parameter_count(handle)) parameters: \(sql)")
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .integer(let v):
                rc = sqlite3_bind_int64(handle, index, v)
            case .real(let v):
                rc = sqlite3_bind_double(handle, index, v)
            case .text(let s):
                rc = Self.bindText(handle, index, s)
            case .blob(let bytes):
                // A nil pointer would bind NULL, so an empty blob gets a real (empty) buffer.
                rc = bytes.isEmpty
                    ? sqlite3_bind_zeroblob(handle, index, 0)
                    : bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), csqlite_transient()) }
            case .null:
                rc = sqlite3_bind_null(handle, index)
            }
            guard rc == SQLITE_OK else { throw SQLiteError.sqlite(rc, db: db, path: path, call: "sqlite3_bind") }
        }
    }

    /// Binds by length, not NUL termination, so text containing NUL survives; the empty
    /// string gets a real pointer because a nil one binds NULL.
    private static func bindText(_ stmt: OpaquePointer, _ index: Int32, _ text: String) -> Int32 {
        var text = text
        return text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, utf8.count > 0 else {
                return sqlite3_bind_text(stmt, index, "", 0, csqlite_transient())
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                sqlite3_bind_text64(stmt, index, $0, UInt64(utf8.count), csqlite_transient(), UInt8(SQLITE_UTF8))
            }
        }
    }

    /// Wraps `sqlite3_step(3)`: true when a row is ready, false when the statement is done.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError.sqlite(rc, db: db, path: path, call: "sqlite3_step")
        }
    }

    /// Wraps `sqlite3_reset(3)` and `sqlite3_clear_bindings(3)`. Resetting ends the
    /// statement's implicit read transaction, which would otherwise pin the WAL.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Wraps `sqlite3_finalize(3)`; the statement must not be used afterwards.
    public func finalize() {
        sqlite3_finalize(handle)
    }

    // MARK: Columns (0-based, as in `sqlite3_column_*(3)`)

    /// Wraps `sqlite3_column_type(3)`.
    /// Wraps `sqlite3_column_count(3)`: the columns of the statement's rows.
    public var columnCount: Int32 { sqlite3_column_count(handle) }

    /// The column's value with the type SQLite stored it as (`sqlite3_column_type(3)`).
    public func value(_ column: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: .real(sqlite3_column_double(handle, column))
        case SQLITE_BLOB: .blob(optionalBlob(column) ?? [])
        default: .text(string(column))
        }
    }

    /// Wraps `sqlite3_column_double(3)`.
    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    public func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// Wraps `sqlite3_column_int64(3)`.
    public func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    public func int(_ column: Int32) -> Int {
        Int(sqlite3_column_int64(handle, column))
    }

    public func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    public func optionalInt(_ column: Int32) -> Int? {
        isNull(column) ? nil : int(column)
    }

    public func bool(_ column: Int32) -> Bool {
        int64(column) != 0
    }

    /// Wraps `sqlite3_column_text(3)` and `sqlite3_column_bytes(3)`; nil for NULL.
    public func optionalString(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// A NOT NULL text column; NULL (which the schema forbids) reads as "".
    public func string(_ column: Int32) -> String {
        optionalString(column) ?? ""
    }

    /// Wraps `sqlite3_column_blob(3)` and `sqlite3_column_bytes(3)`; nil for NULL.
    public func optionalBlob(_ column: Int32) -> [UInt8]? {
        if isNull(column) { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: count))
    }

}
