@testable import BatonHandlerKit
import Foundation
import Glibc
import Synchronization
import XCTest

/// `APP_DB` on real SQLite files: what is SQLite's own (the contract both backends
/// share is AppDatabaseContract).
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

    /// Six slices open a new file at once, twenty times: SQLite answered one of them
    /// "database is locked" at once while another switched the file to WAL.
    func testSlicesOpeningANewFileTogetherAllGetIt() throws {
        for round in 0..<20 {
            let url = "sqlite:\(dir)/new-\(round).db"
            try concurrently(6) { _ in
                let db = try AppDB.open(environment: ["APP_DB": url])
                try db.migrate("demo", ["CREATE TABLE t (id TEXT)"])
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

    func testAnUnknownOrUnusableURLIsNamed() {
        XCTAssertThrowsError(try AppDB.open(environment: ["APP_DB": "mysql://x"])) { e in
            XCTAssertTrue("\(e)".contains("neither sqlite:PATH nor postgres://"), "\(e)")
        }
        XCTAssertThrowsError(try AppDB.open(environment: ["APP_DB": "sqlite:/proc/self/app.db"])) { e in
            XCTAssertTrue("\(e)".contains("APP_DB sqlite:/proc/self/app.db"), "\(e)")
        }
    }

    func testCommitsAreSyncedUnlessAHandlerSaysOtherwise() throws {
        let db = try open()
        XCTAssertEqual(try db.queryOne("PRAGMA synchronous")?.int(0), 2, "FULL: every commit fsynced")
        try db.setSyncEveryCommit(false)
        XCTAssertEqual(try db.queryOne("PRAGMA synchronous")?.int(0), 1, "NORMAL: fsynced at checkpoints")
        try db.setSyncEveryCommit(true)
        XCTAssertEqual(try db.queryOne("PRAGMA synchronous")?.int(0), 2)
    }

    /// Unsynced commits, then a sync in the background (send-batches' send windows):
    /// only in WAL mode, where a commit is appended to the WAL.
    func testCommitsMadeWithoutSyncAreSyncedInTheBackgroundOnRequest() throws {
        let db = try open()
        XCTAssertEqual(try db.queryOne("PRAGMA journal_mode")?.string(0), "wal")
        XCTAssertEqual(db.unsyncedCommitEpoch(environment: ["BATON_BOOT_ID": "b"]), "b")
        try db.setSyncEveryCommit(false)
        try db.execute("CREATE TABLE t (n INTEGER)")
        try db.execute("INSERT INTO t VALUES (1)")
        db.syncInBackground()
        try db.execute("INSERT INTO t VALUES (2)")   // commits go on while it syncs
        try db.waitForSync()
        XCTAssertEqual(try db.queryOne("SELECT count(*) FROM t")?.int(0), 2)
    }

    /// `waitForSync` returns only once the sync started has finished, and reports its
    /// failure, then and at every later call. The "WAL" here is a FIFO: opening it for
    /// the sync blocks until a writer opens it, and `fdatasync(2)` refuses a FIFO.
    func testWaitingForASyncWaitsForItAndReportsItsFailure() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fifo = "\(dir)/app.db-wal"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let sync = WALSync(path: fifo)
        sync.start()
        let outcome = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do throws(HandlerError) { try sync.wait(); outcome.withLock { $0 = "no error" } } catch { outcome.withLock { $0 = error.message } }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 0.3), .timedOut, "wait() returned while the sync was blocked opening the file")
        let writer = Glibc.open(fifo, O_WRONLY)
        defer { close(writer) }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(outcome.withLock { $0 }, "APP_DB: syncing \(fifo) to disk failed: Invalid argument")
        XCTAssertThrowsError(try sync.wait()) { XCTAssertEqual(($0 as? HandlerError)?.message, outcome.withLock { $0 }) }
    }

    func testTheBootIdIsTheKernelsUnlessATestSetsOne() throws {
        let kernel = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        XCTAssertEqual(AppDB.bootId(environment: [:]), kernel.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(AppDB.bootId(environment: ["BATON_BOOT_ID": "after-a-restart"]), "after-a-restart")
    }

    /// Another process holds the write lock for a while: a write waits for it (in short
    /// steps), then goes through.
    func testAWriteWaitsForAnotherProcesssTransaction() throws {
        let db = try open()
        try db.execute("CREATE TABLE t (n INTEGER)")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute('BEGIN IMMEDIATE'); c.execute('INSERT INTO t VALUES (1)')
            print('held', flush=True); time.sleep(0.4); c.execute('COMMIT')
            """, "\(dir)/sub/app.db"]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { holder.waitUntilExit() }
        XCTAssertEqual(String(decoding: out.fileHandleForReading.readData(ofLength: 5), as: UTF8.self), "held\n")
        let start = Date()
        try db.execute("INSERT INTO t VALUES (2)")
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.2, "it waited for the holder")
        XCTAssertEqual(try db.queryOne("SELECT count(*) FROM t")?.int(0), 2)
    }

    func testTimesAreRFC3339UTC() {
        XCTAssertEqual(AppDB.timestamp(1_795_343_400_000), "2026-11-22T10:30:00Z")
        XCTAssertEqual(AppDB.timestamp(1_795_343_400_999), "2026-11-22T10:30:00Z")   // whole seconds, not rounded
        XCTAssertEqual(AppDB.timestamp(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(AppDB.timestamp(-1), "1969-12-31T23:59:59Z")
        XCTAssertEqual(AppDB.timestamp(951_827_696_000), "2000-02-29T12:34:56Z")
        // The same text as Foundation's formatter over a spread of instants.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        for ms in stride(from: Int64(-86_400_000), to: 4_102_444_800_000, by: 7_919_999_937) {
            XCTAssertEqual(AppDB.timestamp(ms), formatter.string(from: Date(timeIntervalSince1970: (Double(ms) / 1000).rounded(.down))), "\(ms)")
        }
        XCTAssertEqual(AppDB.epochMs("2026-11-22T10:30:00Z"), 1_795_343_400_000)
        XCTAssertEqual(AppDB.epochMs("2026-11-22T10:30:00.250Z"), 1_795_343_400_250)
        XCTAssertNil(AppDB.epochMs("yesterday"))
    }
}
