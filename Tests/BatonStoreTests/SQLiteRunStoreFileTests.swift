import BatonStore
import BatonSQLite
@testable import BatonStoreSQLite
import Foundation
import XCTest

/// What only the SQLite backend has: the file, its directory, its schema version, WAL
/// mode, other processes on the same file, and the errors an operator sees.
final class SQLiteRunStoreFileTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory.remove()
    }

    /// A raw connection that waits for locks, as the store's own do: a store being
    /// released may still be checkpointing the file on its queue.
    private func connection(_ path: String) throws -> StoreConnection {
        let db = try StoreConnection(path: path)
        try db.executeScript("PRAGMA busy_timeout = 5000")
        return db
    }

    private func openError(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> StoreError? {
        do throws(StoreError) {
            _ = try SQLiteRunStore(path: path)
            XCTFail("opened \(path)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Opening

    func testCreatesMissingParentDirectories() async throws {
        let path = directory.file("var/lib/baton/baton.db")
        let store = try SQLiteRunStore(path: path)
        _ = try await store.createRun(RunStoreConformance.run("r_1"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }

    func testOpensSqliteURLs() async throws {
        let absolute = directory.file("a.db")
        for url in ["sqlite:\(absolute)", "sqlite://\(absolute)"] {
            let store = try SQLiteRunStore.open(url: url)
            XCTAssertEqual(store.path, absolute, url)
        }
        // A relative path that still lands in the temporary directory: up to / first.
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relativePath = String(repeating: "../", count: depth) + directory.file("b.db").dropFirst()
        let relative = try SQLiteRunStore.open(url: "sqlite:" + relativePath)
        XCTAssertEqual(relative.path, relativePath)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file("b.db")))
        for bad in ["postgres://h/db", "sqlite:", "var/baton.db"] {
            do throws(StoreError) {
                _ = try SQLiteRunStore.open(url: bad)
                XCTFail("opened \(bad)")
            } catch {
                XCTAssertEqual(error.kind, .cantOpen, bad)
                // The wording every sqlite: reader shares (SQLiteURL).
                XCTAssertEqual(error.hint, "write sqlite:PATH, e.g. sqlite:var/baton.db")
                XCTAssertTrue(error.message.hasPrefix("the store URL '\(bad)' "), error.message)
            }
        }
    }

    func testJournalModeIsWALForOtherProcesses() async throws {
        _ = try SQLiteShell.require()
        let path = directory.file("baton.db")
        let store = try SQLiteRunStore(path: path)
        XCTAssertEqual(try SQLiteShell.query(path, "PRAGMA journal_mode;"), "wal")
        XCTAssertEqual(try SQLiteShell.query(path, "PRAGMA application_id;"), String(SQLiteSchema.applicationID))
        withExtendedLifetime(store) {}
    }

    func testReopeningKeepsDataAndAppliesMigrationsOnce() async throws {
        let path = directory.file("baton.db")
        let new = RunStoreConformance.fullRun()
        do {
            let store = try SQLiteRunStore(path: path)
            _ = try await store.createRun(new)
        }
        // Migration 1 creates tables: run again, it would fail with "table runs already exists".
        let reopened = try SQLiteRunStore(path: path, synchronous: .normal)
        let read = try await reopened.run(id: new.id)
        XCTAssertEqual(read, RunStoreConformance.created(new))
        let db = try connection(path)
        XCTAssertEqual(try SQLiteSchema.version(of: db), SQLiteSchema.currentVersion)
    }

    /// Every process of a fresh install opens (and so migrates) the same new file at once.
    func testManyHandlesOpeningANewFileAtOnceAllSucceed() async throws {
        let path = directory.file("baton.db")
        let results = await withTaskGroup(of: Result<Int, StoreError>.self) { group in
            for i in 0..<6 {
                group.addTask {
                    // Off the cooperative pool: opening blocks while another handle migrates.
                    await withCheckedContinuation { continuation in
                        Thread.detachNewThread {
                            continuation.resume(returning: Result { () throws(StoreError) in
                                _ = try SQLiteRunStore(path: path)
                                return i
                            })
                        }
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for result in results {
            if case .failure(let error) = result { XCTFail("\(error)") }
        }
        let store = try SQLiteRunStore(path: path)
        _ = try await store.createRun(RunStoreConformance.run("r_1"))
        let db = try connection(path)
        XCTAssertEqual(try SQLiteSchema.version(of: db), SQLiteSchema.currentVersion)
    }

    func testClosedStoreRefusesWorkAndReleasesTheFile() async throws {
        let path = directory.file("baton.db")
        let store = try SQLiteRunStore(path: path)
        _ = try await store.createRun(RunStoreConformance.run("r_1"))
        await store.close()
        let error = await assertThrows(.io) { () throws(StoreError) in _ = try await store.run(id: "r_1") }
        XCTAssertEqual(error?.message, "the store is closed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"),
                       "the last connection checkpointed the WAL into the file and removed it")
    }

    // MARK: Files baton must refuse

    func testSchemaFromTheFutureIsTooNew() async throws {
        let path = directory.file("baton.db")
        _ = try SQLiteRunStore(path: path)
        try connection(path).executeScript("PRAGMA user_version = \(SQLiteSchema.currentVersion + 1)")
        let error = openError(path)
        XCTAssertEqual(error?.kind, .tooNew)
        XCTAssertEqual(error?.location, path)
        XCTAssertEqual(error?.hint, "upgrade baton (a newer one wrote this file)")
    }

    func testFileThatIsNotADatabaseIsCorrupt() async throws {
        let path = directory.file("baton.db")
        try Data(String(repeating: "not a database, just text\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        let error = openError(path)
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertEqual(error?.location, path)
        XCTAssertTrue(error?.hint?.contains("move \(path) aside") == true, "\(String(describing: error))")
    }

    func testAnotherProgramsDatabaseIsRefused() async throws {
        let path = directory.file("app.db")
        try connection(path).executeScript("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        let error = openError(path)
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertEqual(error?.message, "an SQLite database of another program, not baton's")
        let db = try connection(path)
        XCTAssertEqual(try db.scalarText("SELECT count(*) FROM sqlite_schema WHERE name = 'runs'"), "0",
                       "baton added no table")
        XCTAssertEqual(try db.scalarText("PRAGMA journal_mode"), "delete", "nor switched it to WAL")
    }

    // MARK: Places baton cannot write

    func testPathUnderProcIsCantOpenWithHint() async throws {
        let path = "/proc/self/baton.db"
        let error = openError(path)
        XCTAssertTrue([.cantOpen, .readOnly].contains(error?.kind), "\(String(describing: error))")
        XCTAssertEqual(error?.location, path)
        XCTAssertTrue(error?.hint?.contains("--state") == true, "\(String(describing: error))")
    }

    func testParentThatIsAFileIsCantOpen() async throws {
        let file = directory.file("plain")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let path = file + "/state/baton.db"
        let error = openError(path)
        XCTAssertEqual(error?.kind, .cantOpen)
        XCTAssertEqual(error?.location, path)
        XCTAssertNotNil(error?.hint)
    }

    func testDirectoryWithoutWritePermissionIsRefusedWithHint() async throws {
        if geteuid() == 0 { throw XCTSkip("root writes through permission bits") }
        let locked = directory.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        chmod(locked, 0o500)
        for path in [locked + "/baton.db", locked + "/sub/baton.db"] {
            let error = openError(path)
            XCTAssertTrue([.cantOpen, .readOnly].contains(error?.kind), "\(String(describing: error))")
            XCTAssertEqual(error?.location, path)
            XCTAssertTrue(error?.hint?.contains(locked) == true, "\(String(describing: error))")
        }
    }

    func testWriteProtectedFileIsReadOnly() async throws {
        if geteuid() == 0 { throw XCTSkip("root writes through permission bits") }
        let path = directory.file("baton.db")
        do { _ = try SQLiteRunStore(path: path) }
        chmod(path, 0o400)
        let error = openError(path)
        XCTAssertEqual(error?.kind, .readOnly)
        XCTAssertEqual(error?.location, path)
        XCTAssertNotNil(error?.hint)
    }
}
