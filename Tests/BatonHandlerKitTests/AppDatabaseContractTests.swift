import BatonHandlerKit
import BatonTestSupport
import Foundation
import XCTest

/// The `APP_DB` contract on SQLite files (a new file per test, a connection per open).
final class SQLiteAppDatabaseContractTests: XCTestCase {
    private var suite: AppDatabaseContract!

    override func setUpWithError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-appdb-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        suite = AppDatabaseContract(open: { try AppDB.open(environment: ["APP_DB": "sqlite:\(dir)/app.db"]) })
    }

    func testPlaceholdersInsideLiteralsAndCommentsStayText() throws { try suite.placeholdersInsideLiteralsAndCommentsStayText() }
    func testValuesReadBackAsIntegerRealTextOrNull() throws { try suite.valuesReadBackAsIntegerRealTextOrNull() }
    func testTimesAreRFC3339TextInTimeOrder() throws { try suite.timesAreRFC3339TextInTimeOrder() }
    func testExecuteCountsTheRowsItChanged() throws { try suite.executeCountsTheRowsItChanged() }
    func testAConditionalClaimRaceHasOneWinner() throws { try suite.aConditionalClaimRaceHasOneWinner() }
    func testMigrationsApplyOnceUnderConcurrentOpens() throws { try suite.migrationsApplyOnceUnderConcurrentOpens() }
    func testATransactionRollsBackOnAnyError() throws { try suite.aTransactionRollsBackOnAnyError() }
    func testATransactionInsideAnotherIsAnErrorNotATrap() throws { try suite.aTransactionInsideAnotherIsAnErrorNotATrap() }
    func testABadStatementNamesAPPDBAndTheStatement() throws { try suite.aBadStatementNamesAPPDBAndTheStatement() }
}

/// The same contract on a real PostgreSQL server (`BATON_TEST_PG_URL`, a database per
/// test); skipped, saying why, without one. Then what only PostgreSQL has to show.
final class PostgresAppDatabaseContractTests: XCTestCase {
    private var database: PostgresTestDatabase?
    private var suite: AppDatabaseContract!

    override func setUpWithError() throws {
        let database = try PostgresTestDatabase()
        self.database = database
        let url = database.url
        suite = AppDatabaseContract(open: { try AppDB.open(environment: ["APP_DB": url]) })
    }

    override func tearDown() { database?.drop() }

    /// The same checks as the SQLite class, no fewer (read from this file).
    func testRunsEveryCheckTheSQLiteClassRuns() throws {
        let text = try String(contentsOfFile: #filePath, encoding: .utf8)
        let parts = text.components(separatedBy: "final class " + "PostgresAppDatabaseContractTests")
        func checks(_ s: String) throws -> Set<String> {
            let pattern = try NSRegularExpression(pattern: #"try suite\.([A-Za-z0-9_]+)\(\)"#)
            return Set(pattern.matches(in: s, range: NSRange(s.startIndex..., in: s)).compactMap { Range($0.range(at: 1), in: s).map { String(s[$0]) } })
        }
        XCTAssertEqual(parts.count, 2)
        let sqlite = try checks(parts[0]), postgres = try checks(parts[1]).subtracting(["open"])
        XCTAssertGreaterThan(sqlite.count, 8)
        XCTAssertEqual(sqlite, postgres)
    }

    func testPlaceholdersInsideLiteralsAndCommentsStayText() throws { try suite.placeholdersInsideLiteralsAndCommentsStayText() }
    func testValuesReadBackAsIntegerRealTextOrNull() throws { try suite.valuesReadBackAsIntegerRealTextOrNull() }
    func testTimesAreRFC3339TextInTimeOrder() throws { try suite.timesAreRFC3339TextInTimeOrder() }
    func testExecuteCountsTheRowsItChanged() throws { try suite.executeCountsTheRowsItChanged() }
    func testAConditionalClaimRaceHasOneWinner() throws { try suite.aConditionalClaimRaceHasOneWinner() }
    func testMigrationsApplyOnceUnderConcurrentOpens() throws { try suite.migrationsApplyOnceUnderConcurrentOpens() }
    func testATransactionRollsBackOnAnyError() throws { try suite.aTransactionRollsBackOnAnyError() }
    func testATransactionInsideAnotherIsAnErrorNotATrap() throws { try suite.aTransactionInsideAnotherIsAnErrorNotATrap() }
    func testABadStatementNamesAPPDBAndTheStatement() throws { try suite.aBadStatementNamesAPPDBAndTheStatement() }

    /// A server (or role) set to `synchronous_commit = off` would lose commits in a
    /// crash of the server, which the handler's boot id cannot see: the kit keeps its
    /// sessions synchronous, `setSyncEveryCommit(false)` changes nothing, and there is
    /// no epoch for send windows.
    func testCommitsStaySynchronousEvenWhenTheServerSaysOff() throws {
        let url = try XCTUnwrap(database?.url)
        let admin = try AppDB.open(environment: ["APP_DB": url])
        try admin.execute("ALTER DATABASE \(try XCTUnwrap(database?.name)) SET synchronous_commit = off")
        let db = try AppDB.open(environment: ["APP_DB": url])
        XCTAssertEqual(try db.queryOne("SHOW synchronous_commit")?.string(0), "on")
        try db.setSyncEveryCommit(false)
        XCTAssertEqual(try db.queryOne("SHOW synchronous_commit")?.string(0), "on")
        XCTAssertNil(db.unsyncedCommitEpoch(environment: ["BATON_BOOT_ID": "boot-1"]))
    }

    func testAPlaceholderCountThatDiffersFromTheValuesIsAHandlersBugNamed() throws {
        let db = try suite.open()
        XCTAssertThrowsError(try db.query("SELECT ?1", [.integer(1), .integer(2)])) { e in
            XCTAssertTrue("\(e)".contains("uses ?1…?1 but was given 2 values"), "\(e)")
        }
    }

    func testAWrongPasswordIsRefusedWithoutShowingIt() throws {
        let url = try XCTUnwrap(database?.url)
        let bad = url.replacingOccurrences(of: "://", with: "://nobody_here:s3cret-pw@").replacingOccurrences(of: "@baton@", with: "@")
        XCTAssertThrowsError(try AppDB.open(environment: ["APP_DB": bad])) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("APP_DB postgres"), text)
            XCTAssertFalse(text.contains("s3cret-pw"), text)
        }
    }
}
