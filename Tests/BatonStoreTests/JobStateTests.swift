import BatonStore
import BatonStoreSQLite
import Foundation
import XCTest

/// Pause state: kept across connections (processes) and across reopening the file.
final class JobStateTests: XCTestCase {
    func testPauseIsSharedByConnectionsAndSurvivesReopening() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-jobstate-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try SQLiteRunStore(path: dir + "/s.db")
        let b = try SQLiteRunStore(path: dir + "/s.db")
        let empty = try await a.jobStates()
        XCTAssertEqual(empty, [:])
        try await a.setPaused(job: "digest", paused: true, at: 1000)
        let seen = try await b.jobStates()
        XCTAssertEqual(seen, ["digest": JobState(paused: true, changedAt: 1000)])
        try await b.setPaused(job: "digest", paused: false, at: 2000)
        await a.close(); await b.close()
        let c = try SQLiteRunStore(path: dir + "/s.db")
        let reopened = try await c.jobStates()
        XCTAssertEqual(reopened, ["digest": JobState(paused: false, changedAt: 2000)])
    }
}
