/// A failure of the PostgreSQL wrapper, typed per cause: where (the server's URL without
/// credentials), the server's primary message with the libpq call that failed, the
/// SQLSTATE, and what the operator can do. Never carries bound values (no cursor,
/// payload or log text): the server's DETAIL, which can quote a row, is not read.
/// Each user maps it to its own error (`StoreError` in BatonStorePostgres).
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The server could not be reached, or the connection broke (SQLSTATE class 08,
        /// or libpq's CONNECTION_BAD). Nothing can be said about a commit in flight.
        case connection
        /// Refused at connect: authentication (class 28), an unknown database (3D000),
        /// too many connections (53300).
        case cantOpen
        /// A lock held by another session past `lock_timeout` (55P03), or a statement
        /// cancelled (57014).
        case busy
        /// A serialization failure (40001) or a deadlock (40P01): the transaction was
        /// rolled back and may simply run again.
        case retry
        /// The server's disk is full (53100).
        case full
        /// A read-only server or transaction (25006), or a missing privilege (42501).
        case readOnly
        /// Data corrupted (XX001, XX002), or a value this program cannot decode.
        case corrupt
        /// A unique or exclusion constraint (23505, 23P01).
        case conflict
        /// A foreign key naming a missing row (23503).
        case notFound
        /// Anything else.
        case io
    }

    public var kind: Kind
    /// The server's URL, without password.
    public var location: String
    public var message: String
    public var hint: String?
    /// The five-character SQLSTATE, or "" when the failure came from libpq itself.
    public var sqlState: String

    public init(_ kind: Kind, location: String, _ message: String, hint: String? = nil, sqlState: String = "") {
        self.kind = kind; self.location = location; self.message = message; self.hint = hint; self.sqlState = sqlState
    }

    public var description: String {
        "\(location): \(message)" + (hint.map { " (hint: \($0))" } ?? "")
    }

    /// The kind an SQLSTATE stands for.
    public static func kind(sqlState: String) -> Kind {
        switch sqlState {
        case "23505", "23P01": return .conflict
        case "23503": return .notFound
        case "40001", "40P01": return .retry
        case "55P03", "57014": return .busy
        case "53100": return .full
        case "53300", "3D000": return .cantOpen
        case "25006", "42501": return .readOnly
        case "XX001", "XX002": return .corrupt
        default: break
        }
        switch sqlState.prefix(2) {
        case "08", "57": return .connection  // 57P01 admin_shutdown and its kin end the session
        case "28": return .cantOpen
        default: return .io
        }
    }

    /// The SQLSTATE as a number, packed as PostgreSQL's own `MAKE_SQLSTATE` does (six
    /// bits a character), for `StoreError.code`; 0 when there is none.
    public var code: Int32 {
        var value: Int32 = 0
        for (i, c) in sqlState.utf8.prefix(5).enumerated() { value |= Int32((c &- 48) & 0x3F) << (6 * i) }
        return value
    }
}

/// An error type of a layer above the wrapper that can carry a `PostgresError`, so that
/// closures run inside a transaction throw their caller's own errors.
public protocol PostgresFailure: Error {
    init(_ postgres: PostgresError)
    /// Whether running the whole transaction again may succeed (`.retry`, `.busy`).
    var isRetryable: Bool { get }
}

extension PostgresError: PostgresFailure {
    public init(_ postgres: PostgresError) { self = postgres }
    public var isRetryable: Bool { kind == .retry || kind == .busy }
}
