import BatonPostgres
import BatonSQLite
import Foundation

/// A value bound to, or read from, an application database: the types both backends
/// share (times are RFC 3339 UTC text, as HANDLERS.md fixes: stored as such in SQLite,
/// as `timestamptz` in PostgreSQL, and read back as that text from either).
public enum AppValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public static func int(_ v: Int?) -> AppValue { v.map { .integer(Int64($0)) } ?? .null }
    public static func string(_ v: String?) -> AppValue { v.map { .text($0) } ?? .null }
    public static func bool(_ v: Bool) -> AppValue { .integer(v ? 1 : 0) }
}

/// One row of a query, read by column position.
public struct AppRow: Sendable, Equatable {
    public var values: [AppValue]

    public init(_ values: [AppValue]) { self.values = values }

    public func string(_ i: Int) -> String? {
        switch values[i] {
        case let .text(s): s
        case let .integer(n): String(n)
        case let .real(d): String(d)
        case .null: nil
        }
    }
    public func int64(_ i: Int) -> Int64? {
        switch values[i] {
        case let .integer(n): n
        case let .real(d): Int64(exactly: d.rounded(.towardZero))
        case let .text(s): Int64(s)
        case .null: nil
        }
    }
    public func int(_ i: Int) -> Int? { int64(i).map { Int($0) } }
    public func double(_ i: Int) -> Double? {
        switch values[i] {
        case let .real(d): d
        case let .integer(n): Double(n)
        case let .text(s): Double(s)
        case .null: nil
        }
    }
    public func bool(_ i: Int) -> Bool { (int64(i) ?? 0) != 0 }
}

/// A handler's application database (`APP_DB`): one protocol, an implementation per
/// backend (`sqlite:PATH`, `postgres://…`). SQL is written once for both: `?1`, `?2`
/// placeholders (each used; PostgreSQL needs every one, and a type for each from the
/// statement: `CAST(?1 AS TEXT) IS NULL`, not `?1 IS NULL`), standard SQL, no backend's
/// own functions in handlers' statements; a schema names the few types that differ
/// through `dialect`. A statement that fails inside a transaction fails the whole
/// transaction on PostgreSQL (SQLite undoes only that statement): a handler does not
/// catch one there and go on.
public protocol AppDatabase: AnyObject {
    /// The backend and its names for what differs in a schema.
    var dialect: AppDialect { get }

    /// Runs a statement; returns the rows it changed (the test of a conditional claim:
    /// `UPDATE … WHERE status = 'pending'` changed 1 row, so this caller won).
    @discardableResult
    func execute(_ sql: String, _ args: [AppValue]) throws(HandlerError) -> Int

    func query(_ sql: String, _ args: [AppValue]) throws(HandlerError) -> [AppRow]

    /// Whether a commit is on disk when it returns (true, the default). False: it is
    /// visible to every connection and survives this process's death (`kill -9`), but
    /// a crash of the machine (a power cut) may lose it, until a later commit made with
    /// true syncs it and everything before it. Only for writes whose loss a handler
    /// can detect afterwards (see `unsyncedCommitEpoch` and send-batches' send window).
    /// Not inside a transaction. PostgreSQL: a no-op, every commit is synchronous.
    func setSyncEveryCommit(_ on: Bool) throws(HandlerError)

    /// The id of the one event that can lose commits made with `setSyncEveryCommit(false)`,
    /// to stamp what such commits may have lost: SQLite's is this machine's boot
    /// (`AppDB.bootId`: only a crash of the machine loses them, and the next boot has
    /// another id). Nil when there is none to stamp: no boot id, or PostgreSQL, where
    /// commits are never unsynced (a server crash would lose them unseen by this id).
    func unsyncedCommitEpoch(environment: [String: String]) -> String?

    /// Starts making every commit written so far durable without holding the database
    /// (commits made with `setSyncEveryCommit(false)`): SQLite syncs its WAL file on a
    /// thread of its own, which takes no lock, so later commits, this process's and
    /// others', go on meanwhile. `waitForSync()` returns once every sync started has
    /// finished. PostgreSQL: both do nothing (every commit is synchronous there).
    func syncInBackground()

    /// - Throws: when a sync `syncInBackground` started failed (the commits since the
    ///   last one known synced may not be on disk); every later call throws it too.
    func waitForSync() throws(HandlerError)

    /// Runs `body` in one write transaction; any error rolls it back.
    func transaction<T>(_ body: () throws(HandlerError) -> T) throws(HandlerError) -> T

    /// Applies `steps[k]` for every version k+1 above what `component` has reached,
    /// each with its version stamp in one transaction, so a migration is applied once
    /// even when several slices start together.
    func migrate(_ component: String, _ steps: [String]) throws(HandlerError)
}

extension AppDatabase {
    /// `sqlite` or `postgres`.
    public var backend: String { dialect.backend.rawValue }

    @discardableResult
    public func execute(_ sql: String) throws(HandlerError) -> Int { try execute(sql, []) }

    public func query(_ sql: String) throws(HandlerError) -> [AppRow] { try query(sql, []) }

    public func queryOne(_ sql: String, _ args: [AppValue] = []) throws(HandlerError) -> AppRow? {
        try query(sql, args).first
    }
}

extension HandlerError {
    /// `AppDatabase.transaction` called inside another one, on either backend.
    static let nestedTransaction = HandlerError(
        "APP_DB: a transaction was begun inside another one",
        hint: "a handler's bug: do the work in the outer transaction (migrate runs in one of its own)")
}

/// Opens the database `APP_DB` names.
public enum AppDB {
    public static let defaultURL = "sqlite:var/app.db"

    /// - Throws: for an unknown scheme, an unwritable path, a foreign file, a server
    ///   that cannot be reached or refuses the URL's user (never naming its password).
    public static func open(environment: [String: String]) throws(HandlerError) -> any AppDatabase {
        let url = environment["APP_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultURL
        if SQLiteURL.isSQLite(url) {
            let path: String
            do { path = try SQLiteURL.path(url, setting: "APP_DB", example: defaultURL) } catch {
                throw HandlerError(error.message, hint: error.hint)
            }
            return try SQLiteAppDatabase(path: path)
        }
        if PostgresURL.isPostgres(url) { return try PostgresAppDatabase(url: url) }
        throw HandlerError("APP_DB '\(url)' is neither sqlite:PATH nor postgres://…", hint: "set APP_DB=sqlite:var/app.db")
    }

    /// This machine's boot: `BATON_BOOT_ID` when set (a test standing in for a restart),
    /// else the kernel's `/proc/sys/kernel/random/boot_id`; nil when neither is there.
    /// A write made without sync (`setSyncEveryCommit(false)`) under the boot that is still
    /// running cannot have been lost: only a crash of the machine loses such writes,
    /// and the machine's next boot has another id.
    public static func bootId(environment: [String: String]) -> String? {
        if let id = environment["BATON_BOOT_ID"], !id.isEmpty { return id }
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else { return nil }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// Now as RFC 3339 UTC text, the times' format in application tables.
    /// Formatted by hand from `gmtime_r(3)`: an `ISO8601DateFormatter` costs an ICU
    /// formatter per call (a third of send-batches' time per send, measured).
    public static func timestamp(_ ms: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> String {
        var seconds = time_t((ms - (ms % 1000 + 1000) % 1000) / 1000)   // floor: before 1970 too
        var t = tm()
        gmtime_r(&seconds, &t)
        func digits(_ n: Int32, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return digits(t.tm_year + 1900, 4) + "-" + digits(t.tm_mon + 1, 2) + "-" + digits(t.tm_mday, 2) + "T"
            + digits(t.tm_hour, 2) + ":" + digits(t.tm_min, 2) + ":" + digits(t.tm_sec, 2) + "Z"
    }

    /// Reads an RFC 3339 time back (epoch ms), or nil.
    public static func epochMs(_ text: String?) -> Int64? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let d = formatter.date(from: text) { return Int64(d.timeIntervalSince1970 * 1000) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }
}
