import BatonPostgres
import BatonStore
import BatonTestSupport
import BatonStorePostgres
import XCTest

/// What the PostgreSQL backend does beyond the conformance suite: its schema under
/// several daemons starting at once, what it refuses, and how its errors read.
final class PostgresRunStoreTests: XCTestCase {
    /// Issue 15: several daemons starting together on a new database migrate it once
    /// (the advisory lock), and every one of them then works on it.
    func testSeveralDaemonsOpeningANewDatabaseMigrateItOnce() async throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let url = database.url
        let stores = try await withThrowingTaskGroup(of: PostgresRunStore.self) { group in
            for _ in 0..<6 { group.addTask { try await PostgresRunStore.open(url: url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(stores.count, 6)
        for (i, store) in stores.enumerated() {
            _ = try await store.createRun(NewRun(id: "r_\(i)", job: "j", trigger: .manual, scheduledAt: 1, createdAt: 1))
        }
        let db = try PostgresConnection(url: url)
        defer { db.close() }
        let row = try db.execute("SELECT count(*), max(version) FROM baton_schema").row(0)
        XCTAssertEqual(row.int(0), 1, "one version row")
        XCTAssertEqual(row.int(1), 3, "schema version 3")
        let runs = try await stores[0].runs(job: "j", status: nil, limit: 10)
        XCTAssertEqual(runs.count, 6)
    }

    /// A database of the previous version (1: no `daemons` table) is migrated forward
    /// when a daemon opens it, keeping its runs.
    func testAVersionOneDatabaseIsMigratedForward() async throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let old = try await PostgresRunStore.open(url: database.url)
        _ = try await old.createRun(NewRun(id: "r_old", job: "j", trigger: .manual, scheduledAt: 1, createdAt: 1))
        await Self.close(old)
        let db = try PostgresConnection(url: database.url)
        defer { db.close() }
        try db.executeScript("DROP TABLE daemons; ALTER TABLE runs DROP COLUMN lease_ms; UPDATE baton_schema SET version = 1")
        let store = try await PostgresRunStore.open(url: database.url)
        XCTAssertEqual(try db.execute("SELECT max(version) FROM baton_schema").row(0).int(0), 3)
        let live = try await store.heartbeat(DaemonRecord(owner: "h:1:1", host: "h", startedAt: 1, schedules: "s", jobs: [:]), liveMs: 60_000)
        XCTAssertEqual(live.map(\.owner), ["h:1:1"])
        let kept = try await store.run(id: "r_old")
        XCTAssertEqual(kept?.job, "j")
        await Self.close(store)
    }

    func testANewerBatonsDatabaseIsRefused() async throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        await Self.close(try await PostgresRunStore.open(url: database.url))
        let db = try PostgresConnection(url: database.url)
        defer { db.close() }
        try db.execute("UPDATE baton_schema SET version = 99")
        let e = await assertThrows(.tooNew) { () throws(StoreError) in _ = try await PostgresRunStore.open(url: database.url) }
        XCTAssertEqual(e?.hint, "upgrade baton (a newer one migrated this database)")
    }

    func testAnotherProgramsRunsTableIsRefusedUntouched() async throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let db = try PostgresConnection(url: database.url)
        defer { db.close() }
        try db.executeScript("CREATE TABLE runs (x integer)")
        let e = await assertThrows(.corrupt) { () throws(StoreError) in _ = try await PostgresRunStore.open(url: database.url) }
        XCTAssertTrue(e?.message.contains("not baton's") == true, e?.message ?? "")
        let tables = try db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").row(0).int(0)
        XCTAssertEqual(tables, 1, "nothing was added to it")
    }

    /// A server that is not there: `.io` with a hint, the URL shown without its password.
    func testAnUnreachableServerIsAnIOErrorThatNeverShowsThePassword() async throws {
        let url = "postgresql://baton:s3cret-pw@127.0.0.1:1/baton?connect_timeout=2"
        let e = await assertThrows(.io) { () throws(StoreError) in _ = try await PostgresRunStore.open(url: url) }
        XCTAssertEqual(e?.location, "postgresql://baton@127.0.0.1:1/baton?connect_timeout=2")
        XCTAssertFalse("\(e.map { "\($0)" } ?? "")".contains("s3cret"))
        XCTAssertTrue(e?.hint?.contains("is PostgreSQL running") == true, e?.hint ?? "")
    }

    func testRedactedURLsKeepEverythingButThePassword() {
        let cases = [
            ("postgres://u:p%40ss@db.example:5432/baton?sslmode=require", "postgres://u@db.example:5432/baton?sslmode=require"),
            ("postgresql://u@h/db", "postgresql://u@h/db"),
            ("postgresql://h/db?user=u&password=x&sslmode=verify-full", "postgresql://h/db?user=u&sslmode=verify-full"),
            ("postgresql://u:p@h1:5432,h2:5433/db", "postgresql://u@h1:5432,h2:5433/db"),
            ("postgresql://h", "postgresql://h"),
        ]
        for (url, shown) in cases { XCTAssertEqual(PostgresURL.redacted(url), shown, url) }
    }

    /// SQLSTATEs as the store's error kinds (docs/store.md, PostgreSQL errors).
    func testServerErrorsMapToStoreErrorKinds() {
        let table: [(String, StoreError.Kind)] = [
            ("23505", .conflict), ("23503", .notFound), ("53100", .full), ("40001", .busy), ("40P01", .busy),
            ("55P03", .busy), ("08006", .io), ("57P01", .io), ("28P01", .cantOpen), ("3D000", .cantOpen),
            ("25006", .readOnly), ("XX001", .corrupt), ("42601", .io),
        ]
        for (state, kind) in table {
            let e = StoreError(PostgresError(PostgresError.kind(sqlState: state), location: "pg", "m", sqlState: state))
            XCTAssertEqual(e.kind, kind, state)
        }
    }

    /// PostgreSQL text cannot hold NUL: a handler's stray NUL in its log becomes U+FFFD
    /// instead of cutting the log off there (libpq's text parameters end at a NUL).
    func testANulInALogIsKeptAsAReplacementCharacter() async throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try await PostgresRunStore.open(url: database.url)
        _ = try await store.createRun(RunStoreConformance.run("r_1"))
        try await RunStoreConformance.commitOne(store, "r_1", log: "before\0after")
        let log = try await store.slices(runId: "r_1").first?.log
        XCTAssertEqual(log, "before\u{FFFD}after")
    }

    private static func close(_ store: PostgresRunStore) async { await store.close() }
}
