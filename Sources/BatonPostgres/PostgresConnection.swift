import CLibPQ
import Foundation

/// One libpq connection and its prepared statements.
///
/// NOT thread-safe: used from one serial queue at a time (`PostgresRunStore` keeps it on
/// a dedicated one), because every call blocks until the server answers. Statements are
/// prepared once per session under a generated name (`PQprepare`) and run by name
/// (`PQexecPrepared`) with text parameters. A connection found broken is reset
/// (`PQreset`) before the next statement, its prepared statements forgotten and its
/// session settings applied again.
public final class PostgresConnection {
    /// The server's URL without credentials: the location of every error.
    public let location: String
    private let sessionSetup: String?
    private var handle: OpaquePointer?
    /// Statement names by SQL text, per session.
    private var prepared: [String: String] = [:]
    /// Set by `transaction` between BEGIN and its end: a connection that breaks then is
    /// not reset under it (the rest of the transaction would run in a new session).
    var transactionOpen = false
    /// When a reset failed: the next one is not tried before `retryAt`, and the delay
    /// doubles (`reconnectDelays`), so a database that is down gets a few connection
    /// attempts a second at first and one every 5 s later, however many operations ask.
    private var reconnect: (retryAt: ContinuousClock.Instant, delay: Duration, failure: PostgresError)?

    /// The pause after the first failed reconnection, and the longest one.
    public static let reconnectDelays = (first: Duration.milliseconds(100), longest: Duration.seconds(5))

    /// How long a connection attempt may take when the URL does not say
    /// (`connect_timeout`, seconds).
    public static let defaultConnectTimeout = 10

    /// Wraps `PQconnectdbParams(3)` with the URL as `dbname` (expanded), after defaults
    /// it overrides: `connect_timeout` 10 s, `application_name` baton. Then runs
    /// `sessionSetup` (e.g. `SET lock_timeout = '5s'`), again after every reset. Server
    /// notices (`NOTICE: … skipping`) are dropped, not printed.
    /// - Throws: `PostgresError` `.cantOpen` (refused: authentication, no such database)
    ///   or `.connection` (unreachable), with libpq's message, which names host and
    ///   user but never the password.
    public init(url: String, sessionSetup: String? = nil) throws(PostgresError) {
        location = PostgresURL.redacted(url)
        self.sessionSetup = sessionSetup
        let keywords = ["connect_timeout", "application_name", "dbname"]
        let values = [String(Self.defaultConnectTimeout), "baton", url]
        let conn = withCStrings(keywords) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let conn else { throw PostgresError(.connection, location: location, "PQconnectdbParams: out of memory") }
        handle = conn
        guard PQstatus(conn) == CONNECTION_OK else {
            let error = connectError(conn, call: "PQconnectdbParams")
            close()
            throw error
        }
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        do throws(PostgresError) { try setUpSession() } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Wraps `PQfinish(3)`. Idempotent.
    public func close() {
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
        prepared.removeAll()
    }

    private var conn: OpaquePointer {
        guard let handle else { preconditionFailure("PostgresConnection used after close: \(location)") }
        return handle
    }

    /// Whether a transaction is open (`PQtransactionStatus`: in it, or failed in it).
    public var isInTransaction: Bool {
        let s = PQtransactionStatus(conn)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE
    }

    /// Whether the open transaction failed: every statement until ROLLBACK is refused.
    public var transactionFailed: Bool { PQtransactionStatus(conn) == PQTRANS_INERROR }

    /// Runs one statement with `values` as `$1…$n` (prepared on first use in this
    /// session) and returns what it returned.
    /// - Throws: `PostgresError` (`.conflict` for a unique violation, `.connection`, …).
    @discardableResult
    public func execute(_ sql: String, _ values: [PostgresValue] = []) throws(PostgresError) -> PostgresResult {
        try reconnectIfBroken()
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "baton_\(prepared.count + 1)"
            let result = PQprepare(conn, name, sql, 0, nil)
            _ = try check(result, call: "PQprepare")
            prepared[sql] = name
        }
        let wire = values.map(\.wire)
        let result = withOptionalCStrings(wire) { params in
            PQexecPrepared(conn, name, Int32(wire.count), params, nil, nil, 0)
        }
        return try check(result, call: "PQexecPrepared")
    }

    /// Runs `sql`, one or more statements without parameters (`PQexec(3)`): schema
    /// scripts, `SET`, `BEGIN`/`COMMIT`.
    public func executeScript(_ sql: String) throws(PostgresError) {
        try reconnectIfBroken()
        _ = try check(PQexec(conn, sql), call: "PQexec")
    }

    /// Resets a connection libpq found broken (`PQreset(3)`), outside a transaction
    /// only: a transaction cut off is the caller's failure, not ours to redo. After a
    /// failed reset the next is tried only once its back-off delay has passed (100 ms,
    /// doubling to 5 s); until then every operation fails at once with the last reason,
    /// without touching the network. Any failure to get back in is `.connection` (a
    /// database that was there: a refusal now, such as too many clients, may pass).
    private func reconnectIfBroken() throws(PostgresError) {
        guard PQstatus(conn) == CONNECTION_BAD else { return }
        if transactionOpen {
            throw PostgresError(.connection, location: location, "the connection broke inside a transaction",
                                hint: Self.connectionHint)
        }
        let now = ContinuousClock.now
        if let last = reconnect, now < last.retryAt {
            var waiting = last.failure
            let left = last.retryAt - now
            let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            waiting.message += " (not connected; the next attempt in \(ms / 1000).\(ms % 1000 / 100) s)"
            throw waiting
        }
        prepared.removeAll()
        PQreset(conn)
        var failure: PostgresError?
        if PQstatus(conn) != CONNECTION_OK {
            failure = connectError(conn, call: "PQreset")
        } else {
            do throws(PostgresError) { try setUpSession() } catch { failure = error }
        }
        guard var failure else {
            reconnect = nil
            return
        }
        failure.kind = .connection
        failure.hint = Self.connectionHint
        let delay = reconnect.map { min($0.delay * 2, Self.reconnectDelays.longest) } ?? Self.reconnectDelays.first
        reconnect = (ContinuousClock.now + delay, delay, failure)
        throw failure
    }

    private func setUpSession() throws(PostgresError) {
        guard let sessionSetup else { return }
        _ = try check(PQexec(conn, sessionSetup), call: "PQexec")
    }

    /// The result when it succeeded; else its error (SQLSTATE and primary message only).
    private func check(_ result: OpaquePointer?, call: String) throws(PostgresError) -> PostgresResult {
        guard let result else {
            throw PostgresError(.connection, location: location, "\(call): \(Self.text(PQerrorMessage(conn)))",
                                hint: Self.connectionHint)
        }
        let owned = PostgresResult(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return owned
        default:
            let state = PQresultErrorField(result, CLIBPQ_DIAG_SQLSTATE).map { String(cString: $0) } ?? ""
            let primary = PQresultErrorField(result, CLIBPQ_DIAG_MESSAGE_PRIMARY).map { String(cString: $0) }
            let broken = PQstatus(conn) == CONNECTION_BAD
            let kind: PostgresError.Kind = broken || state.isEmpty ? .connection : PostgresError.kind(sqlState: state)
            let message = primary ?? Self.text(PQerrorMessage(conn))
            throw PostgresError(kind, location: location,
                                "\(call) failed: \(message)" + (state.isEmpty ? "" : " (SQLSTATE \(state))"),
                                hint: Self.hint(kind), sqlState: state)
        }
    }

    private func connectError(_ conn: OpaquePointer, call: String) -> PostgresError {
        let message = Self.text(PQerrorMessage(conn))
        // libpq does not give the SQLSTATE of a refused connection; its text does say why.
        let refused = ["password authentication failed", "does not exist", "no password supplied", "too many clients",
                       "no pg_hba.conf entry", "permission denied"].contains { message.contains($0) }
        return PostgresError(refused ? .cantOpen : .connection, location: location, "\(call): \(message)",
                             hint: refused ? "check the user, password and database name of the URL (the server refused them)"
                                 : "is PostgreSQL running and reachable at this host and port?")
    }

    static let connectionHint = "is PostgreSQL running and reachable at this address? baton reconnects on its next operation"

    static func hint(_ kind: PostgresError.Kind) -> String? {
        switch kind {
        case .connection: connectionHint
        case .full: "the disk of the PostgreSQL server is full: free space there; what was committed is safe"
        case .busy: "another session held a lock too long (look for one left inside BEGIN: pg_stat_activity)"
        case .readOnly: "connect to the primary with a role that may write baton's tables"
        default: nil
        }
    }

    /// libpq's message without its trailing newline.
    private static func text(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        return String(cString: message).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

/// Calls `body` with `strings` as a C array of C strings, valid during the call.
func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    withOptionalCStrings(strings.map { Optional($0) } + [nil]) { body($0) }
}

/// Calls `body` with `strings` as a C array (nil stays a null pointer: SQL NULL).
private func withOptionalCStrings<T>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } }
    defer { for c in copies { free(c) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { buffer in
        // An empty array may have no storage: libpq reads nothing when nParams is 0.
        guard let base = buffer.baseAddress else {
            var none: UnsafePointer<CChar>? = nil
            return withUnsafePointer(to: &none) { body($0) }
        }
        return body(base)
    }
}
