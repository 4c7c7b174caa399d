import BatonHandlerKit
import Foundation
import XCTest

/// `APP_DB` on real SQLite files.
final class AppDatabaseTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-appdb-\(UUID().uuidString)").path
        addTeardownBlock { [dir] in try? FileManager.default.removeItem(atPath: dir) }
    }

    func open() throws -> any AppDatabase { try AppDB.open(environment: ["APP_DB": "sqlite:\(dir)/sub/app.db"]) }

    /// Issue 12: `APP_DB=sqlite:` opened SQLite's private temporary database, so a
    /// handler's writes vanished at exit without a word. One reader of sqlite: URLs now.
    func testAnSQLiteURLWithoutAFileIsRefusedWithTheSettingNamed() throws {
        for url in ["sqlite:", "sqlite://"] {
            XCTAssertThrowsError(try AppDB.open(environment: ["APP_DB": url]), url) { error in
                let e = error as? HandlerError
                XCTAssertEqual(e?.message, "APP_DB '\(url)' names no file")
                XCTAssertEqual(e?.hint, "write sqlite:PATH, e.g. sqlite:var/app.db")
            }
        }
    }

    func testThreeSlashesNameAnAbsolutePath() throws {
        let db = try AppDB.open(environment: ["APP_DB": "sqlite://\(dir)/abs.db"])
        try db.migrate("demo", ["CREATE TABLE t (id TEXT)"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/abs.db"))
    }

    func testMigrationsApplyOnceEachAcrossConnections() throws {
        let steps = ["CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)",
                     "ALTER TABLE t ADD COLUMN note TEXT"]
        let a = try open(), b = try open()
        try a.migrate("demo", Array(steps.prefix(1)))
        try b.migrate("demo", steps)
        try a.migrate("demo", steps)  // nothing left to do: no "duplicate column" error
        try a.execute("INSERT INTO t (id, note) VALUES (?1, ?2)", [.text("x"), .text("hello")])
        XCTAssertEqual(try b.queryOne("SELECT note, n FROM t WHERE id = ?1", [.text("x")]), AppRow([.text("hello"), .integer(0)]))
        XCTAssertEqual(try a.queryOne("SELECT version FROM app_migrations WHERE component = 'demo'")?.int(0), 2)
    }

    func testAConditionalClaimHasOneWinner() throws {
        let a = try open(), b = try open()
        try a.migrate("demo", ["CREATE TABLE d (id TEXT PRIMARY KEY, status TEXT NOT NULL)"])
        try a.execute("INSERT INTO d VALUES ('d1', 'pending')")
        let claim = "UPDATE d SET status = 'sending' WHERE id = ?1 AND status = 'pending'"
        XCTAssertEqual(try a.execute(claim, [.text("d1")]), 1)
        XCTAssertEqual(try b.execute(claim, [.text("d1")]), 0, "the second claimer sees it taken")
    }

    func testATransactionThatThrowsLeavesNothing() throws {
        let db = try open()
        try db.migrate("demo", ["CREATE TABLE s (epic TEXT NOT NULL, title TEXT NOT NULL)"])
        try db.execute("INSERT INTO s VALUES ('e1', 'old')")
        XCTAssertThrowsError(try db.transaction { () throws(HandlerError) in
            try db.execute("DELETE FROM s WHERE epic = 'e1'")
            try db.execute("INSERT INTO s VALUES ('e1', 'new')")
            throw HandlerError("the answer held no stories")
        }) { e in XCTAssertEqual(e as? HandlerError, HandlerError("the answer held no stories")) }
        XCTAssertEqual(try db.query("SELECT title FROM s").map { $0.string(0) }, ["old"])
        XCTAssertThrowsError(try db.execute("INSERT INTO nope VALUES (1)")) { e in
            XCTAssertTrue("\(e)".contains("APP_DB") && "\(e)".contains("nope"), "\(e)")
        }
    }

    func testATransactionInsideAnotherIsAnErrorNotATrap() throws {
        let db = try open()
        XCTAssertThrowsError(try db.transaction { () throws(HandlerError) in
            try db.transaction { () throws(HandlerError) in }
        }) { e in XCTAssertTrue("\(e)".contains("inside another"), "\(e)") }
    }

    func testAnUnknownOrUnusableURLIsNamed() {
        XCTAssertThrowsError(try AppDB.open(environment: ["APP_DB": "mysql://x"])) { e in
            XCTAssertTrue("\(e)".contains("neither sqlite:PATH nor postgres://"), "\(e)")
        }
        XCTAssertThrowsError(try AppDB.open(environment: ["APP_DB": "sqlite:/proc/self/app.db"])) { e in
            XCTAssertTrue("\(e)".contains("APP_DB sqlite:/proc/self/app.db"), "\(e)")
        }
    }

    func testTimesAreRFC3339UTC() {
        XCTAssertEqual(AppDB.timestamp(1_795_343_400_000), "2026-11-22T10:30:00Z")
        XCTAssertEqual(AppDB.epochMs("2026-11-22T10:30:00Z"), 1_795_343_400_000)
        XCTAssertEqual(AppDB.epochMs("2026-11-22T10:30:00.250Z"), 1_795_343_400_250)
        XCTAssertNil(AppDB.epochMs("yesterday"))
    }
}
