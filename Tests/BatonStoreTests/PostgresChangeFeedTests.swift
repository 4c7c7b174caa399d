import BatonPostgres
import BatonStore
import BatonStorePostgres
import BatonTestSupport
import XCTest

/// The PostgreSQL change feed beyond the conformance suite: what it does with a
/// notice it does not know, and with a listening session that is killed.
final class PostgresChangeFeedTests: XCTestCase {
    /// Issue 15, item 4: a payload from a newer baton (or anyone's `NOTIFY baton`) is
    /// skipped; the listener, its session terminated, says `.lost` once, listens again
    /// and says `.resync` (the caller looks at everything), and hears what follows.
    func testTheFeedSkipsUnknownNoticesAndListensAgainAfterItsSessionIsKilled() async throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try await PostgresRunStore.open(url: database.url)
        let feed = try XCTUnwrap(store.changeFeed())
        let seen = ChangeLog()
        let listening = Task { for await change in feed.subscribe() { seen.append(change) } }
        defer { listening.cancel() }
        try await seen.wait(for: [.resync])

        let db = try PostgresConnection(url: database.url)
        defer { db.close() }
        try db.execute("SELECT pg_notify('baton', 'future r_1 j'), pg_notify('baton', 'waiting'), pg_notify('other', 'state - j')")
        try db.execute("SELECT pg_notify('baton', 'state - j')")
        try await seen.wait(for: [.resync, .jobState(job: "j")])

        let killed = try db.execute("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
            WHERE application_name = '\(PostgresListener.applicationName)' AND datname = current_database()
            """)
        XCTAssertEqual(killed.count, 1, "one listening session")
        try await seen.wait("the feed to listen again") { $0.count >= 4 && $0.last == .resync }
        let after = Array(seen.all.dropFirst(2))
        XCTAssertEqual(after.count, 2, "\(after)")
        guard case .lost = after.first else { return XCTFail("no .lost before the .resync: \(after)") }
        XCTAssertTrue(feed.isLive)
        try await store.setPaused(job: "k", paused: true, at: 1)
        try await seen.wait("the pause after the reconnect") { $0.last == .jobState(job: "k") }
        await store.close()
    }
}
