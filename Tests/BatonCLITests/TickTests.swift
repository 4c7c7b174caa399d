import Foundation
import Glibc
import XCTest

/// `baton tick` through the built binary against a real SQLite store.
final class TickTests: XCTestCase {
    var dir = ""
    var state: String { "sqlite:\(dir)/state.db" }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-tick-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/schedules", withIntermediateDirectories: true)
        try """
            #!/bin/sh
            # Counts to $1, one item per slice, sleeping $2 seconds per slice.
            c=${BATON_CURSOR:-0}; sleep ${2:-0}; n=$((c + 1))
            if [ "$n" -ge "$1" ]; then echo '{"cursor":null}'; else echo "{\\"cursor\\":\\"$n\\"}"; fi
            """.write(toFile: dir + "/count.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/count.sh", 0o755)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A schedule that fires once a day, at the current UTC minute: due now, and not
    /// again if a tick runs past a minute boundary (a tick's window is 60 s).
    var thisMinute: String {
        let t = Int(Date().timeIntervalSince1970)
        return "\(t / 60 % 60) \(t / 3600 % 24) * * *"
    }

    func schedule(_ text: String) throws {
        try text.replacingOccurrences(of: "COUNT", with: dir + "/count.sh")
            .write(toFile: dir + "/schedules/a.cron", atomically: true, encoding: .utf8)
    }

    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["--state", state, "--schedules", dir + "/schedules"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = Pipe()
        try p.run()
        return p
    }

    @discardableResult
    func tick(_ extra: [String] = []) throws -> String {
        let p = try start(["tick"] + extra)
        let err = String(decoding: (p.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, err)
        return err
    }

    func runs() throws -> [[String: Any]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["--state", state, "runs", "--json", "--limit", "1000"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    }

    func sqlite(_ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [dir + "/state.db", sql]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    func testFiresWhatIsDueOnceAndRunsItToTheEnd() throws {
        try schedule("\(thisMinute) minutely COUNT 3\n")
        try tick()
        let first = try runs()
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(first.first?["status"] as? String, "succeeded")
        XCTAssertEqual(first.first?["trigger"] as? String, "cron")
        XCTAssertEqual(first.first?["slices"] as? Int, 3)
        try tick()
        XCTAssertEqual(try runs().count, 1, "the same fire is never acted on twice")
    }

    /// Issue 11.9: tick logs a fire with the daemon's keys (`result=`, not `kind=`).
    func testTickLogsFiresWithTheDaemonsKeys() throws {
        try schedule("\(thisMinute) minutely COUNT 1\n")
        let log = try tick()
        let fire = try XCTUnwrap(log.split(separator: "\n").first { $0.contains("event=fire") }, log)
        XCTAssertTrue(fire.contains(" job=minutely run=r_") && fire.hasSuffix(" result=cron"), String(fire))
        XCTAssertFalse(log.contains("kind="), log)
    }

    func testTwoTicksStartedTogetherActOnce() throws {
        try schedule("\(thisMinute) minutely COUNT 3 0.3\n")
        let a = try start(["tick"]), b = try start(["tick"])
        let errA = String(decoding: (a.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errB = String(decoding: (b.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        a.waitUntilExit(); b.waitUntilExit()
        XCTAssertEqual(a.terminationStatus, 0); XCTAssertEqual(b.terminationStatus, 0)
        XCTAssertTrue((errA + errB).contains("another tick is running"), errA + errB)
        let all = try runs()
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(all.first?["status"] as? String, "succeeded")
    }

    func testMissedFiresFollowEachJobsMisfirePolicy() throws {
        try schedule("""
            * * * * * m-skip misfire=skip COUNT 1
            * * * * * m-once misfire=once COUNT 1
            * * * * * m-all misfire=all overlap=allow COUNT 1
            """)
        // baton last fired each job ten minutes ago, then was down.
        XCTAssertEqual(try runs().count, 0)  // baton creates the store
        let old = (Int64(Date().timeIntervalSince1970) / 60 - 10) * 60_000
        for job in ["m-skip", "m-once", "m-all"] {
            try sqlite("INSERT INTO fires (job, scheduled_at, kind, run_id, recorded_at) VALUES ('\(job)', \(old), 'cron', NULL, 0)")
        }
        let log = try tick()
        let all = try runs()
        func of(_ job: String) -> [[String: Any]] { all.filter { $0["job"] as? String == job } }
        XCTAssertEqual(of("m-skip").count, 1, "skip: only the on-time fire")
        XCTAssertEqual(of("m-skip").first?["trigger"] as? String, "cron")
        XCTAssertEqual(of("m-once").count, 1, "once: one run")
        // Nine missed fires and the on-time one (ten, if a minute boundary passed meanwhile).
        XCTAssertTrue((10...11).contains(of("m-all").count), "all: \(of("m-all").count) runs")
        XCTAssertTrue((9...10).contains(of("m-all").filter { $0["trigger"] as? String == "catchup" }.count))
        XCTAssertTrue(log.contains("event=misfire job=m-skip"), log)
        XCTAssertTrue(log.contains("dropped=9") || log.contains("dropped=10"), log)
    }

    func testAPausedJobDoesNotFire() throws {
        try schedule("* * * * * minutely COUNT 1\n")
        let p = try start(["pause", "minutely"])
        p.waitUntilExit()
        try tick()
        XCTAssertEqual(try runs().count, 0)
    }

    func testMaxTimeLeavesTheRunForTheNextTickToContinue() throws {
        try schedule("* * * * * slow COUNT 8 0.3\n")
        try tick(["--max-time", "1s"])
        let first = try XCTUnwrap(try runs().first)
        XCTAssertEqual(first["status"] as? String, "waiting", "left for the next tick (issue 11 §4.4)")
        let cursor = Int(first["cursor"] as? String ?? "0") ?? 0
        XCTAssertGreaterThan(cursor, 0)
        XCTAssertLessThan(cursor, 8)
        try tick()
        let done = try XCTUnwrap(try runs().first)
        XCTAssertEqual(done["status"] as? String, "succeeded")
        XCTAssertEqual(done["slices"] as? Int, 8)
        XCTAssertEqual(try runs().count, 1, "the same run went on; the second tick's fire was recorded already or skipped")
    }

    /// `jitter=`: each on-time fire starts at a random instant from its nominal time to
    /// `jitter=` after it, and its scheduled time stays the nominal one; the tick waits
    /// for the delayed fires before it ends.
    func testJitterDelaysEachFireWithinItsWindowAndTheTickWaitsForIt() throws {
        try """
            #!/bin/sh
            date +%s.%N > "$(dirname "$0")/start.$BATON_JOB"
            echo '{"cursor":null}'
            """.write(toFile: dir + "/stamp.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/stamp.sh", 0o755)
        // Five jobs due at one second a little ahead (seconds-field cron), jitter 3 s.
        let due = Int(Date().timeIntervalSince1970) + 2
        let at = "\(due % 60) \(due / 60 % 60) \(due / 3600 % 24) * * *"
        try (1...5).map { "\(at)  j\($0)  jitter=3s  \(dir)/stamp.sh\n" }.joined()
            .write(toFile: dir + "/schedules/a.cron", atomically: true, encoding: .utf8)
        // The tick starts just after the fires are due, as a crontab line would.
        Thread.sleep(until: Date(timeIntervalSince1970: Double(due) + 0.05))
        try tick()
        let starts = try (1...5).map { i -> Double in
            let text = try String(contentsOfFile: dir + "/start.j\(i)", encoding: .utf8)
            return try XCTUnwrap(Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), text) - Double(due)
        }
        for (i, delay) in starts.enumerated() {
            XCTAssertTrue(delay >= 0 && delay < 3 + 1.5, "j\(i + 1) started \(delay) s after its nominal time (jitter=3s)")
        }
        // Five uniform draws in [0, 3 s] all under 0.3 s: one chance in 100,000.
        XCTAssertGreaterThan(starts.max() ?? 0, 0.3, "no fire was delayed: \(starts)")
        let runs = try runs()
        XCTAssertEqual(runs.count, 5)
        let nominal = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(due)))
        XCTAssertEqual(Set(runs.compactMap { $0["scheduled_at"] as? String }), [nominal])
        XCTAssertEqual(Set(runs.compactMap { $0["status"] as? String }), ["succeeded"])
    }
}
