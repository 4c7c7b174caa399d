import BatonPostgres
import BatonStore

/// The libpq wrapper as the store uses it: the same calls, every failure a
/// `StoreError` (the wrapper's `PostgresError` mapped kind for kind).
final class PostgresSession {
    let pg: PostgresConnection
    var location: String { pg.location }

    /// Session settings of every connection: a lock held by another session (a shell
    /// left inside BEGIN) makes a statement wait at most 5 s (then `.busy`, retried as
    /// SQLite's busy timeout is), and the server keeps its notices.
    static let setup = "SET lock_timeout = '5s'; SET client_min_messages = warning"

    /// - Throws: `StoreError` (`.cantOpen` refused, `.io` unreachable).
    init(url: String) throws(StoreError) {
        do { pg = try PostgresConnection(url: url, sessionSetup: Self.setup) } catch {
            throw StoreError(error)
        }
    }

    func close() { pg.close() }

    /// Runs one statement; returns its result (rows, or how many it changed).
    @discardableResult
    func execute(_ sql: String, _ values: [PostgresValue] = []) throws(StoreError) -> PostgresResult {
        do { return try pg.execute(sql, values) } catch { throw StoreError(error) }
    }

    func query<T>(_ sql: String, _ values: [PostgresValue] = [], row: (PostgresRow) throws(StoreError) -> T) throws(StoreError) -> [T] {
        let result = try execute(sql, values)
        var out: [T] = []
        out.reserveCapacity(result.count)
        for i in 0..<result.count { out.append(try row(result.row(i))) }
        return out
    }

    func queryOne<T>(_ sql: String, _ values: [PostgresValue] = [], row: (PostgresRow) throws(StoreError) -> T) throws(StoreError) -> T? {
        let result = try execute(sql, values)
        return result.count == 0 ? nil : try row(result.row(0))
    }

    /// `PostgresConnection.transaction`: BEGIN … COMMIT, retried on a serialization
    /// failure or deadlock, rolled back on any error.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try pg.transaction(body)
    }

    /// `PostgresConnection.savepoint`: undone when `body` throws or returns false.
    func savepoint(_ body: () throws(StoreError) -> Bool) throws(StoreError) -> Bool {
        try pg.savepoint(body)
    }
}

extension StoreError: PostgresFailure {
    /// The wrapper's error as the store's. A connection failure is `.io` with a hint;
    /// a serialization failure or deadlock that outlived its retries is `.busy`.
    public init(_ e: PostgresError) {
        let kind: Kind = switch e.kind {
        case .connection, .io: .io
        case .cantOpen: .cantOpen
        case .busy, .retry: .busy
        case .full: .full
        case .readOnly: .readOnly
        case .corrupt: .corrupt
        case .conflict: .conflict
        case .notFound: .notFound
        }
        self.init(kind, location: e.location, e.message, hint: e.hint, code: e.code)
    }

    /// Retried by `transaction`: the whole transaction runs again.
    public var isRetryable: Bool { kind == .busy }
}

extension PostgresRow {
    /// A `.corrupt` error about a value this row holds, for decoders.
    func corrupt(_ message: String, location: String) -> StoreError {
        StoreError(.corrupt, location: location, message,
                   hint: "the database holds a value this baton cannot read; was it written by another program?")
    }
}
