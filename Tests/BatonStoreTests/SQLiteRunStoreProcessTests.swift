import BatonStore
import BatonStoreSQLite
import Foundation
import Synchronization
import XCTest

/// Another process on the same file (the `sqlite3` shell standing in for a second
/// baton), what its locks do to the store, and what errors may say.
final class SQLiteRunStoreProcessTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory.remove()
    }

    private static func shellInsert(_ i: Int) -> String {
        "INSERT INTO runs (id, job, trigger_kind, status, scheduled_at, created_at, updated_at)"
            + " VALUES ('s_\(i)', 'shell', 'manual', 'succeeded', \(i), \(i), \(i));"
    }

    /// Several processes (a daemon, a tick, a CLI command) opening a new store file at
    /// the same moment all get it: the switch to WAL and the migrations wait for each
    /// other instead of answering "database is locked".
    func testSeveralOpeningANewFileAtOnceAllGetIt() throws {
        for round in 0..<20 {
            let path = directory.file("new-\(round).db")
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                do { _ = try SQLiteRunStore(path: path) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            XCTAssertEqual(failures.withLock { $0 }, [], "round \(round)")
        }
    }

    func testAnotherProcessWritingAtTheSameTimeLosesNothing() async throws {
        let path = directory.file("baton.db")
        let store = try SQLiteRunStore(path: path)
        let shell = try SQLiteShell(database: path)
        // The shell's writes go in while the store writes: each waits for the other's lock.
        shell.send((1...200).map(Self.shellInsert).joined(separator: "\n"))
        for i in 1...100 {
            _ = try await store.createRun(RunStoreConformance.run("r_\(i)", job: "store", createdAt: Int64(i)))
        }
        let errors = shell.run("")
        XCTAssertEqual(shell.finish(), 0)
        XCTAssertEqual(errors, "")
        let fromShell = try await store.runs(job: "shell", status: nil, limit: 1_000)
        let fromStore = try await store.runs(job: "store", status: nil, limit: 1_000)
        XCTAssertEqual(fromShell.count, 200, "the store reads every row the other process committed")
        XCTAssertEqual(fromStore.count, 100)
    }

    func testWriteLockHeldPastTheBusyTimeoutIsBusyUntilReleased() async throws {
        let path = directory.file("baton.db")
        let store = try SQLiteRunStore(path: path, busyTimeout: .milliseconds(50))
        let shell = try SQLiteShell(database: path)
        _ = shell.run("BEGIN IMMEDIATE;\n" + Self.shellInsert(1))

        let error = await assertThrows(.busy) { () throws(StoreError) in
            _ = try await store.createRun(RunStoreConformance.run("r_1"))
        }
        XCTAssertEqual(error?.location, path)
        XCTAssertNotNil(error?.hint)
        // Reads go on: WAL readers do not wait for the writer, and see only what it committed.
        let before = try await store.run(id: "s_1")
        XCTAssertNil(before)

        _ = shell.run("COMMIT;")
        _ = try await store.createRun(RunStoreConformance.run("r_1"))
        let after = try await store.run(id: "s_1")
        XCTAssertEqual(after?.job, "shell")
        XCTAssertEqual(shell.finish(), 0)
    }

    func testErrorsNeverCarryCursorPayloadOrLog() async throws {
        let store = try SQLiteRunStore(path: directory.file("baton.db"))
        var new = RunStoreConformance.run("r_1")
        new.cursor = "SECRET-CURSOR"; new.payload = #"{"token":"SECRET-PAYLOAD"}"#; new.params = #"{"k":"SECRET-PARAM"}"#
        let run = try await store.createRun(new)
        let duplicate = await assertThrows(.conflict) { () throws(StoreError) in _ = try await store.createRun(new) }

        var completion = RunStoreConformance.commit(of: run, items: ["SECRET-ITEM"], cursorOut: "SECRET-CURSOR-OUT")
        completion.slice.log = "SECRET-LOG"
        // A stale lease: the refusal must not quote what the write carried.
        let stale = Lease(runId: "r_1", owner: "SECRET-OWNER-NOT", epoch: 7)
        let failedWrite = await assertThrows(.fenced) { () throws(StoreError) in _ = try await store.commitSlice(stale, completion) }
        for error in [duplicate, failedWrite] {
            let text = String(describing: error)
            XCTAssertFalse(text.contains("SECRET"), text)
        }
    }

    func testTextWithNULAndEmptyTextRoundTrips() async throws {
        let store = try SQLiteRunStore(path: directory.file("baton.db"))
        var new = RunStoreConformance.run("r_1")
        new.cursor = ""
        let run = try await store.createRun(new)
        XCTAssertEqual(run.cursor, "", "empty, not missing")
        _ = run
        try await RunStoreConformance.commitOne(store, "r_1", cursorOut: "a\u{0}b", log: "before\u{0}after\n")
        let slices = try await store.slices(runId: "r_1")
        XCTAssertEqual(slices.first?.log, "before\u{0}after\n")
        XCTAssertEqual(slices.first?.cursorOut, "a\u{0}b")
        XCTAssertEqual(slices.first?.cursorIn, "")
    }
}
