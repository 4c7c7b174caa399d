import BatonHandlerKit
import Foundation
import XCTest

/// What every `APP_DB` backend must do the same way, so a handler runs unchanged on
/// either: each check opens real connections through `open` (a new one per call, as
/// another slice or process would). Run by `SQLiteAppDatabaseContractTests` and
/// `PostgresAppDatabaseContractTests`, whose lists of checks a test keeps equal.
struct AppDatabaseContract: Sendable {
    let open: @Sendable () throws -> any AppDatabase

    func placeholdersInsideLiteralsAndCommentsStayText() throws {
        let db = try open()
        try db.migrate("demo", ["CREATE TABLE t (a TEXT, b TEXT, c TEXT)"])
        try db.execute("INSERT INTO t (a, b, c) VALUES ('?1 it''s ?2', ?1, /* ?9 */ ?2) -- ?3", [.text("one"), .text("two")])
        XCTAssertEqual(try db.query("SELECT a, b, c, 'x?1' FROM t WHERE b = ?1", [.text("one")]),
                       [AppRow([.text("?1 it's ?2"), .text("one"), .text("two"), .text("x?1")])])
        // An optional filter: the cast gives PostgreSQL the parameter's type (issue 15:
        // generate-stories' `?1 IS NULL OR project_id = ?1` could not be prepared there).
        let optional = "SELECT count(*) FROM t WHERE (CAST(?1 AS TEXT) IS NULL OR b = ?1)"
        XCTAssertEqual(try db.queryOne(optional, [.null])?.int(0), 1)
        XCTAssertEqual(try db.queryOne(optional, [.text("nope")])?.int(0), 0)
    }

    func valuesReadBackAsIntegerRealTextOrNull() throws {
        let db = try open()
        let d = db.dialect
        // BIGINT: PostgreSQL's INTEGER has 4 bytes (SQLite reads both as its 8-byte integer).
        try db.migrate("demo", ["CREATE TABLE v (n BIGINT, r \(d.real), s TEXT, z TEXT)"])
        try db.execute("INSERT INTO v VALUES (?1, ?2, ?3, ?4)", [.integer(1 << 40), .real(0.95), .text("héllo"), .null])
        try db.execute("INSERT INTO v VALUES (?1, ?2, ?3, ?4)", [.integer(2), .real(0.25), .text("b"), .null])
        XCTAssertEqual(try db.queryOne("SELECT n, r, s, z FROM v WHERE n > ?1", [.integer(2)]),
                       AppRow([.integer(1 << 40), .real(0.95), .text("héllo"), .null]))
        // Aggregates and comparisons: counts are integers, booleans 0/1, sums of reals reals.
        XCTAssertEqual(try db.queryOne("SELECT count(*), sum(n), sum(r) FROM v WHERE n = ?1", [.integer(2)]),
                       AppRow([.integer(1), .integer(2), .real(0.25)]))
        XCTAssertEqual(try db.queryOne("SELECT n = 2, n > 2, CASE WHEN z IS NULL THEN 1 ELSE 0 END FROM v WHERE n = ?1", [.integer(2)]),
                       AppRow([.integer(1), .integer(0), .integer(1)]))
    }

    func timesAreRFC3339TextInTimeOrder() throws {
        let db = try open()
        let d = db.dialect
        try db.migrate("demo", ["CREATE TABLE e (id TEXT, at \(d.time), made \(d.time) NOT NULL DEFAULT \(d.now))"])
        for (id, ms) in [("a", Int64(1_795_343_400_000)), ("b", 1_795_343_460_000), ("c", 951_827_696_000)] {
            try db.execute("INSERT INTO e (id, at) VALUES (?1, ?2)", [.text(id), .text(AppDB.timestamp(ms))])
        }
        XCTAssertEqual(try db.query("SELECT id, at FROM e WHERE at <= ?1 ORDER BY at", [.text("2026-11-22T10:30:00Z")]),
                       [AppRow([.text("c"), .text("2000-02-29T12:34:56Z")]), AppRow([.text("a"), .text("2026-11-22T10:30:00Z")])])
        let made = try XCTUnwrap(db.queryOne("SELECT made FROM e WHERE id = 'a'")?.string(0))
        let ms = try XCTUnwrap(AppDB.epochMs(made), made)
        XCTAssertLessThan(abs(ms - Int64(Date().timeIntervalSince1970 * 1000)), 60_000, made)
    }

    func executeCountsTheRowsItChanged() throws {
        let db = try open()
        try db.migrate("demo", ["CREATE TABLE k (id TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)"])
        for id in ["a", "b", "c"] { XCTAssertEqual(try db.execute("INSERT INTO k (id) VALUES (?1)", [.text(id)]), 1) }
        XCTAssertEqual(try db.execute("UPDATE k SET n = n + 1 WHERE id <> ?1", [.text("b")]), 2)
        XCTAssertEqual(try db.execute("INSERT INTO k (id) VALUES (?1) ON CONFLICT DO NOTHING", [.text("a")]), 0)
        XCTAssertEqual(try db.execute("DELETE FROM k WHERE n = ?1", [.integer(5)]), 0)
    }

    /// Issue 15: two workers claim one row at the same instant, each on its own
    /// connection: the database lets exactly one of them change it.
    func aConditionalClaimRaceHasOneWinner() throws {
        let setup = try open()
        try setup.migrate("demo", ["CREATE TABLE d (id TEXT PRIMARY KEY, status TEXT NOT NULL, owner TEXT)"])
        let rows = 20
        try setup.transaction { () throws(HandlerError) in
            for k in 0..<rows { try setup.execute("INSERT INTO d (id, status) VALUES (?1, 'pending')", [.text("d\(k)")]) }
        }
        let workers = 4
        let results = Locked<[String: [Int]]>([:])
        try concurrently(workers) { w in
            let db = try open()
            var won: [Int] = []
            for k in 0..<rows {
                let n = try db.execute("UPDATE d SET status = 'sending', owner = ?2 WHERE id = ?1 AND status = 'pending'",
                                       [.text("d\(k)"), .text("w\(w)")])
                if n == 1 { won.append(k) }
            }
            results.update { $0["w\(w)"] = won }
        }
        let all = results.value.values.flatMap { $0 }
        XCTAssertEqual(all.sorted(), Array(0..<rows), "each row claimed exactly once: \(results.value)")
        for (worker, won) in results.value {
            XCTAssertEqual(try setup.query("SELECT id FROM d WHERE owner = ?1 ORDER BY id", [.text(worker)]).count, won.count)
        }
    }

    /// Several slices start together on a new database: each step runs once (a second
    /// ALTER TABLE … ADD COLUMN or INSERT would show), and every opener sees it done.
    func migrationsApplyOnceUnderConcurrentOpens() throws {
        let steps = ["CREATE TABLE m (id TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0); INSERT INTO m (id) VALUES ('only')",
                     "ALTER TABLE m ADD COLUMN note TEXT; UPDATE m SET n = n + 1"]
        try concurrently(4) { _ in
            let db = try open()
            try db.migrate("race", steps)
            XCTAssertEqual(try db.queryOne("SELECT n FROM m WHERE id = 'only'")?.int(0), 1)
        }
        let db = try open()
        XCTAssertEqual(try db.queryOne("SELECT count(*), max(n) FROM m"), AppRow([.integer(1), .integer(1)]))
        XCTAssertEqual(try db.queryOne("SELECT version FROM app_migrations WHERE component = 'race'")?.int(0), 2)
        try db.migrate("race", steps + ["UPDATE m SET n = n + 10"])
        XCTAssertEqual(try db.queryOne("SELECT n FROM m")?.int(0), 11, "only the new step ran")
    }

    func aTransactionRollsBackOnAnyError() throws {
        let db = try open()
        try db.migrate("demo", ["CREATE TABLE s (epic TEXT PRIMARY KEY, title TEXT NOT NULL)"])
        try db.execute("INSERT INTO s VALUES ('e1', 'old')")
        XCTAssertThrowsError(try db.transaction { () throws(HandlerError) in
            try db.execute("UPDATE s SET title = 'new' WHERE epic = 'e1'")
            throw HandlerError("the answer held no stories")
        }) { e in XCTAssertEqual(e as? HandlerError, HandlerError("the answer held no stories")) }
        XCTAssertThrowsError(try db.transaction { () throws(HandlerError) in
            try db.execute("UPDATE s SET title = 'new' WHERE epic = 'e1'")
            try db.execute("INSERT INTO s VALUES ('e1', 'duplicate')")
        }) { e in XCTAssertTrue("\(e)".contains("APP_DB"), "\(e)") }
        XCTAssertEqual(try db.query("SELECT title FROM s").map { $0.string(0) }, ["old"])
        // The connection is usable afterwards, in and out of transactions.
        XCTAssertEqual(try db.transaction { () throws(HandlerError) -> Int in try db.execute("UPDATE s SET title = 'newer'") }, 1)
        XCTAssertEqual(try open().queryOne("SELECT title FROM s")?.string(0), "newer")
    }

    func aTransactionInsideAnotherIsAnErrorNotATrap() throws {
        let db = try open()
        XCTAssertThrowsError(try db.transaction { () throws(HandlerError) in
            try db.transaction { () throws(HandlerError) in }
        }) { e in XCTAssertTrue("\(e)".contains("inside another"), "\(e)") }
        XCTAssertEqual(try db.queryOne("SELECT 1")?.int(0), 1, "usable afterwards")
    }

    func aBadStatementNamesAPPDBAndTheStatement() throws {
        let db = try open()
        XCTAssertThrowsError(try db.execute("INSERT INTO nope VALUES (1)")) { e in
            XCTAssertTrue("\(e)".contains("APP_DB") && "\(e)".contains("nope"), "\(e)")
        }
    }

}

/// Runs `body(0..<n)` on n threads at once (released together); each error fails the test.
func concurrently(_ n: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let start = DispatchSemaphore(value: 0), done = DispatchGroup()
    let errors = Locked<[String]>([])
    for w in 0..<n {
        done.enter()
        Thread.detachNewThread {
            start.wait()
            do { try body(w) } catch { errors.update { $0.append("worker \(w): \(error)") } }
            done.leave()
        }
    }
    for _ in 0..<n { start.signal() }
    XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "workers finished")
    XCTAssertEqual(errors.value, [])
}

/// A value shared by test threads.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T { lock.withLock { v } }
    func update(_ f: (inout T) -> Void) { lock.withLock { f(&v) } }
}
