import BatonProviders
import BatonSQLite
import BatonStore
import Foundation
import Glibc
import Synchronization

/// What baton hands a slice (SPEC §3): from the JSON on stdin, or from the `BATON_*`
/// variables when stdin is empty (a handler run by hand).
public struct SliceInput: @unchecked Sendable {
    public var job: String
    public var runId: String
    public var slice: Int
    public var attempt: Int
    /// The previous slice's cursor; nil for the first slice.
    public var cursor: String?
    public var trigger: String
    public var scheduledAt: String
    public var budgetMs: Int64
    /// Unix epoch milliseconds.
    public var deadlineMs: Int64
    /// JSON object.
    public var params: [String: Any]
    /// JSON value or nil.
    public var payload: Any?

    /// A parameter as text (`--param K=V` or the webhook's params), or nil.
    public func param(_ name: String) -> String? {
        switch params[name] {
        case let s as String: s
        case let n as NSNumber: n.stringValue
        default: nil
        }
    }
}

/// One item's outcome, for `items` in the result (what `baton retry` re-runs).
public struct ItemOutcome: Sendable {
    public var id: String
    /// `succeeded`, `failed`, `skipped` or `unknown` (a send whose outcome is not known).
    public var status: String
    public var error: String?
    public init(id: String, status: String, error: String? = nil) { self.id = id; self.status = status; self.error = error }
}

/// The slice's result (SPEC §3).
public struct SliceOutput {
    public var cursor: String?
    public var hasMore: Bool?
    public var total: Int?
    public var processed = 0, succeeded = 0, skipped = 0, failed = 0
    public var items: [ItemOutcome] = []
    public var retryAfterMs: Int64?
    /// Counts and ids only: never message or draft text.
    public var message: String?

    public init(cursor: String? = nil) { self.cursor = cursor }

    public mutating func record(_ item: ItemOutcome) {
        processed += 1
        switch item.status {
        case "succeeded": succeeded += 1
        case "skipped": skipped += 1
        default: failed += 1
        }
        if item.status != "succeeded" { items.append(item) }
    }

    var json: [String: Any] {
        var o: [String: Any] = ["cursor": cursor ?? NSNull(),
                                "counts": ["processed": processed, "succeeded": succeeded, "skipped": skipped, "failed": failed]]
        if let hasMore { o["has_more"] = hasMore }
        if let total { o["total"] = total }
        if !items.isEmpty {
            o["items"] = items.map { i -> [String: Any] in
                var d: [String: Any] = ["id": i.id, "status": i.status]
                if let e = i.error { d["error"] = e }
                return d
            }
        }
        if let r = retryAfterMs { o["retry_after_ms"] = r }
        if let m = message { o["message"] = m }
        return o
    }
}

/// The handler side of the protocol: read the slice, watch the clock and SIGTERM, write
/// the one result. Handlers built on it stay small:
///
///     let slice = Handler.start()
///     var out = SliceOutput(cursor: slice.input.cursor)
///     while slice.shouldTakeItem(estimateMs: 300), let item = next(after: out.cursor) { … }
///     slice.finish(out)
public final class Handler: @unchecked Sendable {
    public let input: SliceInput
    public let environment: [String: String]

    /// Reads the slice and turns SIGTERM into `stopRequested`.
    public static func start() -> Handler {
        signal(SIGTERM, { _ in stopFlag.store(true, ordering: .relaxed) })
        signal(SIGPIPE, SIG_IGN)
        let env = ProcessInfo.processInfo.environment
        let stdin = FileHandle.standardInput.readDataToEndOfFile()
        let object = (try? JSONSerialization.jsonObject(with: stdin)) as? [String: Any] ?? [:]
        return Handler(input: Self.input(object, env: env), environment: env)
    }

    init(input: SliceInput, environment: [String: String]) {
        self.input = input
        self.environment = environment
    }

    static func input(_ o: [String: Any], env: [String: String]) -> SliceInput {
        func int(_ key: String, _ envKey: String, _ fallback: Int64) -> Int64 {
            (o[key] as? NSNumber)?.int64Value ?? env[envKey].flatMap { Int64($0) } ?? fallback
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let budget = int("budget_ms", "BATON_BUDGET_MS", 55_000)
        let cursor = (o["cursor"] as? String) ?? env["BATON_CURSOR"].flatMap { $0.isEmpty ? nil : $0 }
        return SliceInput(job: o["job"] as? String ?? env["BATON_JOB"] ?? "", runId: o["run_id"] as? String ?? env["BATON_RUN_ID"] ?? "",
                          slice: Int(int("slice", "BATON_SLICE", 1)), attempt: Int(int("attempt", "BATON_ATTEMPT", 1)),
                          cursor: cursor, trigger: o["trigger"] as? String ?? env["BATON_TRIGGER"] ?? "manual",
                          scheduledAt: o["scheduled_at"] as? String ?? env["BATON_SCHEDULED_AT"] ?? "",
                          budgetMs: budget, deadlineMs: int("deadline_ms", "BATON_DEADLINE_MS", now + budget),
                          params: o["params"] as? [String: Any] ?? [:], payload: o["payload"].flatMap { $0 is NSNull ? nil : $0 })
    }

    /// SIGTERM arrived (a cancel, a drain, the budget's end): take no new item.
    public var stopRequested: Bool { stopFlag.load(ordering: .relaxed) }

    /// Milliseconds left before `BATON_DEADLINE_MS`.
    public var remainingMs: Int64 { input.deadlineMs - Int64(Date().timeIntervalSince1970 * 1000) }

    /// The deadline provider calls are bounded by, keeping `reserveMs` to print the result.
    public func deadline(reserveMs: Int64 = 500) -> Deadline { Deadline(epochMs: input.deadlineMs, reserveMs: reserveMs) }

    /// Whether to start another item that takes about `estimateMs`: no SIGTERM, and the
    /// budget left covers it with room to print the result.
    public func shouldTakeItem(estimateMs: Int64) -> Bool {
        !stopRequested && remainingMs > estimateMs + 500
    }

    /// Opens `APP_DB` (`sqlite:PATH`, default `var/app.db`) with baton's SQLite wrapper,
    /// in WAL mode with a busy timeout, so several slices may share it.
    /// - Throws: `StoreError` naming the path and what to do; for `postgres://`, that it
    ///   is not supported yet.
    public func openAppDB() throws(StoreError) -> SQLiteConnection {
        try Self.openAppDB(environment: environment)
    }

    /// `openAppDB()` outside a slice (a handler's `--seed`).
    public static func openAppDB(environment: [String: String]) throws(StoreError) -> SQLiteConnection {
        let url = environment["APP_DB"] ?? "sqlite:var/app.db"
        guard url.hasPrefix("sqlite:") else {
            throw StoreError(.cantOpen, location: "APP_DB", "only sqlite:PATH is supported by this version",
                             hint: "set APP_DB=sqlite:var/app.db")
        }
        var path = String(url.dropFirst(7))
        if path.hasPrefix("//") { path.removeFirst(2) }
        try ParentDirectory.create(for: path)
        let db = try SQLiteConnection(path: path)
        try db.executeScript("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON")
        return db
    }

    /// Writes the result and exits 0: the result stands.
    public func finish(_ output: SliceOutput) -> Never {
        let data = (try? JSONSerialization.data(withJSONObject: output.json, options: [.sortedKeys])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        exit(0)
    }

    /// Exits 75 (EX_TEMPFAIL): baton retries the slice with the same cursor.
    public func tempfail(_ why: String) -> Never {
        log(why)
        exit(75)
    }

    /// One line on stderr, the slice's log. Counts and ids only.
    public func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

private let stopFlag = Atomic<Bool>(false)
