import BatonSQLite
import Dispatch
import Foundation

/// One delivery the sandbox accepted.
public struct Delivery: Sendable, Equatable {
    public var id: Int64
    public var provider: String
    public var to: String
    public var from: String
    public var body: String
    public var idempotencyKey: String?
    /// Unix epoch milliseconds.
    public var at: Int64

    var json: [String: Any] {
        var o: [String: Any] = ["id": id, "provider": provider, "to": to, "from": from, "body": body, "at": at]
        o["idempotency_key"] = idempotencyKey ?? NSNull()
        return o
    }
}

/// Every delivery, in an SQLite file of the sandbox's own, on a serial queue of its own
/// (never on Swift's cooperative pool).
final class SandboxLedger: @unchecked Sendable {
    private let queue = DispatchQueue(label: "baton.sandbox.ledger")
    private let db: SQLiteConnection

    init(path: String) throws(SQLiteError) {
        try ParentDirectory.create(for: path)
        db = try SQLiteConnection(path: path)
        try db.executeScript("""
            PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS deliveries (
                id INTEGER PRIMARY KEY, provider TEXT NOT NULL, to_addr TEXT NOT NULL, from_addr TEXT NOT NULL,
                body TEXT NOT NULL, idempotency_key TEXT, at INTEGER NOT NULL
            ) STRICT;
            """)
    }

    func record(provider: String, to: String, from: String, body: String, idempotencyKey: String?) async throws(SQLiteError) {
        let at = Int64(Date().timeIntervalSince1970 * 1000)
        try await run { db throws(SQLiteError) in
            try db.execute("INSERT INTO deliveries (provider, to_addr, from_addr, body, idempotency_key, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           [.text(provider), .text(to), .text(from), .text(body), .string(idempotencyKey), .integer(at)])
        }
    }

    func list(provider: String?, to: String?) async throws(SQLiteError) -> [Delivery] {
        try await run { db throws(SQLiteError) in
            var sql = "SELECT id, provider, to_addr, from_addr, body, idempotency_key, at FROM deliveries"
            var values: [SQLiteValue] = []
            var conditions: [String] = []
            if let provider { values.append(.text(provider)); conditions.append("provider = ?\(values.count)") }
            if let to { values.append(.text(to)); conditions.append("to_addr = ?\(values.count)") }
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            return try db.query(sql + " ORDER BY id", values) { (row) throws(SQLiteError) in
                Delivery(id: row.int64(0), provider: row.string(1), to: row.string(2), from: row.string(3), body: row.string(4),
                         idempotencyKey: row.optionalString(5), at: row.int64(6))
            }
        }
    }

    func clear() async throws(SQLiteError) {
        try await run { db throws(SQLiteError) in try db.execute("DELETE FROM deliveries") }
    }

    /// Synchronous, for the SMTP receiver's own threads.
    func recordNow(provider: String, to: String, from: String, body: String) throws(SQLiteError) {
        let at = Int64(Date().timeIntervalSince1970 * 1000)
        let result: Result<Void, SQLiteError> = queue.sync {
            Result { () throws(SQLiteError) in
                try db.execute("INSERT INTO deliveries (provider, to_addr, from_addr, body, idempotency_key, at) VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
                               [.text(provider), .text(to), .text(from), .text(body), .integer(at)])
            }
        }
        try result.get()
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T) async throws(SQLiteError) -> T {
        let ledger = self
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<T, SQLiteError>, Never>) in
            queue.async { c.resume(returning: Result { () throws(SQLiteError) in try body(ledger.db) }) }
        }
        return try result.get()
    }
}
