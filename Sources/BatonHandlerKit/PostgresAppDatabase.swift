import BatonPostgres

/// `APP_DB=postgres://…`: one connection through baton's libpq wrapper, with the same
/// contract as `SQLiteAppDatabase`: `?N` placeholders (written `$N` for the server),
/// values read back as integer, real, text or null (booleans as 0/1, `timestamptz` as
/// RFC 3339 UTC text), `execute` returning the rows changed, statements prepared once
/// per SQL text, `migrate` applied once under an advisory lock.
///
/// Commits are always synchronous here (see `setSyncEveryCommit`).
final class PostgresAppDatabase: AppDatabase {
    let db: PostgresConnection
    var dialect: AppDialect { AppDialect(.postgres) }
    /// Translated statements by the handler's SQL text.
    private var translated: [String: (sql: String, count: Int)] = [:]

    /// The session's settings, again after a reconnect: times in UTC and ISO form (read
    /// back as RFC 3339), lock waits bounded as SQLite's busy timeout is, and
    /// `synchronous_commit` raised to `on` when the server or role has it `off` (see
    /// `setSyncEveryCommit`); `local` and the replication levels are left as they are.
    static let sessionSetup = """
        SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET lock_timeout = '5s';
        SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off';
        """

    /// Advisory lock key of `migrate`: "BATN" and 0x0100 (the store's are 0x0001…).
    static let migrationLock: Int64 = 0x4241_544E_0100

    init(url: String) throws(HandlerError) {
        do {
            db = try PostgresConnection(url: url, sessionSetup: Self.sessionSetup)
        } catch {
            throw HandlerError("APP_DB \(error.location): \(error.message)", hint: error.hint)
        }
    }

    /// A no-op: on PostgreSQL every commit is synchronous. An unsynced commit
    /// (`synchronous_commit = off`) is lost by a crash of the *server*, which the
    /// handler's machine cannot see (its boot id does not change), so send windows
    /// stamped with that boot would hide lost sends; `unsyncedCommitEpoch` is nil, and
    /// no handler writes such a window here.
    func setSyncEveryCommit(_ on: Bool) throws(HandlerError) {}

    func unsyncedCommitEpoch(environment: [String: String]) -> String? { nil }

    func syncInBackground() {}

    func waitForSync() throws(HandlerError) {}

    func execute(_ sql: String, _ args: [AppValue]) throws(HandlerError) -> Int {
        try run(sql, args).affected
    }

    func query(_ sql: String, _ args: [AppValue]) throws(HandlerError) -> [AppRow] {
        let result = try run(sql, args)
        let types = (0..<result.columnCount).map(result.columnType)
        return result.rows.map { row in
            AppRow(types.enumerated().map { column, type in
                row.isNull(column) ? .null : Self.read(row.string(column), type: type)
            })
        }
    }

    private func run(_ sql: String, _ args: [AppValue]) throws(HandlerError) -> PostgresResult {
        let statement: (sql: String, count: Int)
        if let known = translated[sql] {
            statement = known
        } else {
            statement = AppPlaceholders.postgres(sql)
            translated[sql] = statement
        }
        guard statement.count == args.count else {
            throw HandlerError("APP_DB: the statement uses ?1…?\(statement.count) but was given \(args.count) values (in: \(Self.head(sql)))",
                               hint: "a handler's bug: bind one value per placeholder, and use each of ?1…?N (PostgreSQL needs them all)")
        }
        do {
            return try db.execute(statement.sql, args.map(Self.bind))
        } catch {
            throw Self.wrap(error, sql)
        }
    }

    func transaction<T>(_ body: () throws(HandlerError) -> T) throws(HandlerError) -> T {
        guard !db.isInTransaction else {
            throw HandlerError.nestedTransaction
        }
        do {
            return try db.transaction { () throws(Failure) -> T in
                do throws(HandlerError) { return try body() } catch { throw Failure(handler: error) }
            }
        } catch {
            throw error.handler
        }
    }

    /// Several slices (or processes) starting together: one at a time holds the session
    /// advisory lock, and reads the version in a transaction begun after it holds the
    /// lock (a transaction that waited inside for the lock would keep its older view of
    /// the catalog and create the tables again; the store's `PostgresSchema.migrate`
    /// says more).
    func migrate(_ component: String, _ steps: [String]) throws(HandlerError) {
        if let found = try? queryOne("SELECT version FROM app_migrations WHERE component = ?1", [.text(component)])?.int(0),
           found >= steps.count { return }
        do throws(PostgresError) { try db.execute("SELECT pg_advisory_lock($1)", [.integer(Self.migrationLock)]) } catch {
            throw Self.wrap(error, "SELECT pg_advisory_lock")
        }
        defer { _ = try? db.execute("SELECT pg_advisory_unlock($1)", [.integer(Self.migrationLock)]) }
        try transaction { () throws(HandlerError) in
            try AppMigrations.apply(self, component, steps) { (step) throws(HandlerError) in
                do throws(PostgresError) { try db.executeScript(step) } catch { throw Self.wrap(error, step) }
            }
        }
    }

    /// The wrapper's transaction error: a handler's own, or the server's. Never retried:
    /// a body may count what it did, and a second run would count it twice.
    struct Failure: PostgresFailure {
        var handler: HandlerError
        init(handler: HandlerError) { self.handler = handler }
        init(_ postgres: PostgresError) { handler = PostgresAppDatabase.wrap(postgres, "BEGIN/COMMIT") }
        var isRetryable: Bool { false }
    }

    static func bind(_ v: AppValue) -> PostgresValue {
        switch v {
        case .null: .null
        case let .integer(n): .integer(n)
        case let .real(d): .real(d)
        case let .text(s): .text(s)
        }
    }

    /// A column's text as the kit's value, by its type's OID (`pg_type`).
    static func read(_ text: String, type: UInt32) -> AppValue {
        switch type {
        case 16: return .integer(text == "t" ? 1 : 0)                           // bool: 0/1, as in SQLite
        case 20, 21, 23, 26: return Int64(text).map(AppValue.integer) ?? .text(text)  // int8, int2, int4, oid
        case 700, 701: return Double(text).map(AppValue.real) ?? .text(text)   // float4, float8
        case 1700: return Int64(text).map(AppValue.integer) ?? Double(text).map(AppValue.real) ?? .text(text)  // numeric
        case 1184, 1114: return .text(rfc3339(text))                            // timestamptz, timestamp
        default: return .text(text)
        }
    }

    /// `2026-11-22 10:30:00+00` (ISO style, UTC session) as `2026-11-22T10:30:00Z`,
    /// fractional seconds kept; `infinity` and BC times are left as they are.
    static func rfc3339(_ text: String) -> String {
        guard text.count >= 19, text.utf8[text.utf8.index(text.utf8.startIndex, offsetBy: 10)] == UInt8(ascii: " "),
              !text.hasSuffix("BC") else { return text }
        var s = text
        if s.hasSuffix("+00") { s.removeLast(3) }
        guard !s.contains("+"), s.dropFirst(10).firstIndex(of: "-") == nil else { return text }
        return String(s.prefix(10)) + "T" + String(s.dropFirst(11)) + "Z"
    }

    static func head(_ sql: String) -> String {
        sql.split(separator: "\n").first.map { String($0.prefix(80)) } ?? ""
    }

    static func wrap(_ error: PostgresError, _ sql: String) -> HandlerError {
        HandlerError("APP_DB \(error.location): \(error.message) (in: \(head(sql)))", hint: error.hint)
    }
}
