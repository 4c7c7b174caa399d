/// A failure of the SQLite wrapper, typed per cause: the file, SQLite's own text with
/// the call that failed, the raw result code, and what the operator can do. Never
/// carries bound values (no cursor, payload or message text). Each user maps it to its
/// own error (`StoreError` in BatonStoreSQLite, `HandlerError` in the kit).
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Another connection held the database longer than the busy timeout.
        case busy
        /// The disk (or the database's size limit) is full.
        case full
        /// The file or its directory is not writable.
        case readOnly
        /// The file could not be opened or created.
        case cantOpen
        /// Not a database, damaged, or holding a value its reader cannot decode.
        case corrupt
        /// A row with that key exists already.
        case conflict
        /// A referenced row does not exist.
        case notFound
        /// Anything else.
        case io
    }

    public var kind: Kind
    /// The database path.
    public var location: String
    public var message: String
    public var hint: String?
    /// SQLite's extended result code, or an errno for directory creation.
    public var code: Int32

    public init(_ kind: Kind, location: String, _ message: String, hint: String? = nil, code: Int32 = 0) {
        self.kind = kind; self.location = location; self.message = message; self.hint = hint; self.code = code
    }

    public var description: String {
        "\(location): \(message)" + (hint.map { " (hint: \($0))" } ?? "")
    }
}

/// An error type of a layer above the wrapper that can carry an `SQLiteError`, so that
/// closures run inside a statement or a transaction throw their caller's own errors.
public protocol SQLiteFailure: Error {
    init(_ sqlite: SQLiteError)
    /// Whether the failure is SQLite's busy timeout, which `transaction` retries.
    var isBusy: Bool { get }
}

extension SQLiteError: SQLiteFailure {
    public init(_ sqlite: SQLiteError) { self = sqlite }
    public var isBusy: Bool { kind == .busy }
}
