import BatonStore
import XCTest

/// The daemons' rows (issue 15): who is alive, and whose schedules differ.
extension RunStoreConformance {
    /// Each daemon's heartbeat refreshes its own row and lists every live one with the
    /// store's clock; a daemon that stopped cleanly is gone, one not heard of within
    /// the window is left out.
    func heartbeatsListTheLiveDaemons() async throws {
        let store = try await open()
        let a = DaemonRecord(owner: "h1:10:1", host: "h1", startedAt: 1_000, schedules: "s1", jobs: ["a": "x1", "b": "y1"])
        var b = DaemonRecord(owner: "h2:20:2", host: "h2", startedAt: 2_000, schedules: "s2", jobs: ["a": "x1"])
        let first = try await store.heartbeat(a, liveMs: 60_000)
        XCTAssertEqual(first.map(\.owner), ["h1:10:1"])
        XCTAssertEqual(first[0].jobs, ["a": "x1", "b": "y1"])
        XCTAssertGreaterThan(first[0].seenAt, 1_600_000_000_000, "seen_at comes from the store's clock")
        let other = try await open()
        let both = try await other.heartbeat(b, liveMs: 60_000)
        XCTAssertEqual(both.map(\.owner), ["h1:10:1", "h2:20:2"])
        XCTAssertEqual(both[1].schedules, "s2")
        // A refresh replaces what the row says of the schedules.
        b.schedules = "s1"; b.jobs = ["a": "x1", "b": "y1"]
        let refreshed = try await other.heartbeat(b, liveMs: 60_000)
        XCTAssertEqual(refreshed.map(\.schedules), ["s1", "s1"])
        XCTAssertEqual(refreshed[1].jobs, ["a": "x1", "b": "y1"])
        // A window of 0 ms leaves out everyone not refreshed in this very millisecond.
        let narrow = try await other.heartbeat(b, liveMs: -1)
        XCTAssertEqual(narrow.count, 0)
        try await store.forgetDaemon(owner: "h1:10:1")
        try await store.forgetDaemon(owner: "nobody")
        let left = try await other.heartbeat(b, liveMs: 60_000)
        XCTAssertEqual(left.map(\.owner), ["h2:20:2"])
    }
}
