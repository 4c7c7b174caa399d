import BatonHandlerKit
@testable import SendBatches
import BatonTestSupport
import XCTest

extension SendBatchesTests {
    /// Issue 15: on PostgreSQL a commit without sync (`synchronous_commit = off`) is lost
    /// by a crash of the server, which this machine's boot id does not see, so a send
    /// window stamped with it would let a lost send be resent. Every commit is synced
    /// there and no window is written (BATON_BOOT_ID set: SQLite would write two).
    func testOnPostgreSQLEveryCommitIsSyncedAndNoSendWindowIsWritten() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        env["APP_DB"] = database.url
        env["BATON_BOOT_ID"] = "boot-1"
        try seed(60, batch: 60)
        let db = try BatchesTable.open(env)
        try db.execute("CREATE TABLE seen_windows (send_window TEXT, send_boot TEXT)")
        try db.execute("""
            CREATE FUNCTION keep_windows() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN INSERT INTO seen_windows VALUES (NEW.send_window, NEW.send_boot); RETURN NEW; END $$
            """)
        try db.execute("""
            CREATE TRIGGER keep_windows AFTER UPDATE OF send_window ON message_batches
            FOR EACH ROW WHEN (NEW.send_window IS NOT NULL) EXECUTE FUNCTION keep_windows()
            """)
        XCTAssertEqual(try slice("r1").succeeded, 60)
        XCTAssertEqual(try db.queryOne("SELECT count(*) FROM seen_windows")?.int(0), 0)
        XCTAssertEqual(Set(try delivered()).count, 60)
        XCTAssertEqual(try db.queryOne("SELECT status, sent_count FROM messages"), AppRow([.text("completed"), .integer(60)]))
    }
}
