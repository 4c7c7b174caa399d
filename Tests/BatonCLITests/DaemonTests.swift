import Foundation
import Glibc
import XCTest

/// `baton run` in real time, through the built binary.
final class DaemonTests: XCTestCase {
    var dir = ""
    var state: String { "sqlite:\(dir)/state.db" }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-daemon-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/schedules", withIntermediateDirectories: true)
        try """
            #!/bin/sh
            # Counts to $1, one item per slice, $2 seconds per slice; each item to a ledger.
            c=${BATON_CURSOR:-0}; echo "$BATON_RUN_ID $c" >> "\(dir)/ledger"; sleep ${2:-0}; n=$((c + 1))
            if [ "$n" -ge "$1" ]; then echo '{"cursor":null}'; else echo "{\\"cursor\\":\\"$n\\"}"; fi
            """.write(toFile: dir + "/count.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/count.sh", 0o755)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func schedule(_ text: String, file: String = "a.cron") throws {
        try text.replacingOccurrences(of: "COUNT", with: dir + "/count.sh")
            .write(toFile: dir + "/schedules/" + file, atomically: true, encoding: .utf8)
    }

    func daemon() throws -> Process {
        // Create the store first: the tests then poll it from other processes while the
        // daemon writes, and a brand-new file is the one moment two openers contend hard.
        _ = try baton(["runs", "--json"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["--state", state, "--schedules", dir + "/schedules", "run"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: { FileManager.default.createFile(atPath: dir + "/log", contents: nil); return dir + "/log" }()))
        try p.run()
        return p
    }

    func baton(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["--state", state, "--schedules", dir + "/schedules"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func runs() throws -> [[String: Any]] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try baton(["runs", "--json", "--limit", "1000"]).utf8)) as? [[String: Any]])
    }

    func stop(_ p: Process) {
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }

    /// Waits (bounded) for a condition; never a bare sleep standing in for it.
    func wait(_ what: String, seconds: Double = 15, _ ok: () throws -> Bool) rethrows {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end { if try ok() { return }; usleep(50_000) }
        XCTFail("timed out waiting for \(what)")
    }

    static func ms(_ rfc: String) -> Int64 {
        let f = ISO8601DateFormatter()
        return Int64((f.date(from: rfc)?.timeIntervalSince1970 ?? 0) * 1000)
    }

    /// `jitter=` under the daemon: each fire starts between its nominal time and
    /// `jitter=` after it (the handler's own clock against `BATON_SCHEDULED_AT`), and
    /// its run keeps the nominal time.
    func testJitterStartsEachFireWithinItsWindow() throws {
        try """
            #!/bin/sh
            echo "$BATON_SCHEDULED_AT $(date +%s.%N)" >> "\(dir)/starts"
            echo '{"cursor":null}'
            """.write(toFile: dir + "/stamp.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/stamp.sh", 0o755)
        try schedule((1...3).map { "*/4 * * * * *  j\($0)  jitter=2s overlap=allow  \(dir)/stamp.sh\n" }.joined())
        let started = Date().timeIntervalSince1970
        let p = try daemon()
        // Fires due before the daemon started (found on time at its start) are late
        // already and start at once; the ones judged here came due while it ran.
        func starts() -> [(nominal: Double, at: Double)] {
            let text = (try? String(contentsOfFile: dir + "/starts", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let f = line.split(separator: " ")
                guard f.count == 2, let at = Double(f[1]) else { return nil }
                let nominal = Double(Self.ms(String(f[0]))) / 1000
                return nominal > started ? (nominal, at) : nil
            }
        }
        try wait("nine fires", seconds: 30) { starts().count >= 9 }
        stop(p)
        let delays = starts().map { $0.at - $0.nominal }
        for d in delays { XCTAssertTrue(d >= 0 && d < 2 + 1.5, "a fire started \(d) s after its nominal time (jitter=2s): \(delays)") }
        // Nine uniform draws in [0, 2 s] all under 0.3 s: about one chance in 26 million.
        XCTAssertGreaterThan(delays.max() ?? 0, 0.3, "no fire was delayed: \(delays)")
        for r in try runs() { XCTAssertEqual(Self.ms(r["scheduled_at"] as! String) / 1000 % 4, 0, "not a nominal time: \(r)") }
    }

    func testSixFieldJobsFireOnTheirSeconds() throws {
        try schedule("*/2 * * * * * even overlap=allow COUNT 1\n")
        let p = try daemon()
        try wait("three fires") { try runs().count >= 3 }
        stop(p)
        XCTAssertEqual(p.terminationStatus, 0)
        let all = try runs()
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try baton(["show", all[0]["run_id"] as! String, "--json"]).utf8)) as? [String: Any])
        XCTAssertNotNil(first["slices"])
        for r in all {
            let scheduled = Self.ms(r["scheduled_at"] as! String)
            XCTAssertEqual(scheduled / 1000 % 2, 0, "fired on an odd second: \(r)")
        }
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("event=fire job=even"), log)
    }

    func testPauseStopsFiresWithinASecond() throws {
        try schedule("* * * * * * every-second overlap=allow COUNT 1\n")
        let p = try daemon()
        defer { stop(p) }
        try wait("two fires") { try runs().count >= 2 }
        _ = try baton(["pause", "every-second"])
        usleep(1_500_000)  // the promise under test: honoured within a second
        let before = try runs().count
        usleep(2_000_000)
        XCTAssertEqual(try runs().count, before, "fired while paused")
    }

    func testSIGTERMDrainsKeepingTheCursorAndARestartFinishesTheRun() throws {
        try schedule("* * * * * * slow overlap=skip COUNT 8 0.3\n")
        var p = try daemon()
        let ledger = { ((try? String(contentsOfFile: self.dir + "/ledger", encoding: .utf8)) ?? "").split(separator: "\n") }
        wait("three items") { ledger().count >= 3 }
        stop(p)
        XCTAssertEqual(p.terminationStatus, 0)
        let drained = try XCTUnwrap(try runs().first)
        XCTAssertEqual(drained["status"] as? String, "waiting", "unfinished, no driver holds it (issue 11 §4.4)")
        XCTAssertNotNil(drained["cursor"] as? String)
        p = try daemon()
        try wait("the run to finish") { try runs().first(where: { $0["run_id"] as? String == drained["run_id"] as? String })?["status"] as? String == "succeeded" }
        stop(p)
        let items = ledger().filter { $0.hasPrefix(Substring(drained["run_id"] as! String)) }.map { $0.split(separator: " ")[1] }
        XCTAssertEqual(Set(items), Set((0..<8).map { Substring(String($0)) }), items.description)
        XCTAssertEqual(items.count, 8, "a drained slice finishes; nothing is done twice")
    }

    func testABrokenReloadKeepsTheLastGoodConfiguration() throws {
        try schedule("* * * * * * tick-tock overlap=allow COUNT 1\n")
        let p = try daemon()
        defer { stop(p) }
        try wait("a fire") { try runs().count >= 1 }
        try schedule("61 * * * * broken COUNT 1\n", file: "b.cron")
        // (Writing the file atomically may first trigger a good reload for the temp file.)
        wait("the failed reload to be logged") {
            ((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "").contains("kept=")
        }
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("kept=\"last good configuration\""), log)
        let before = try runs().count
        try wait("fires to go on") { try runs().count > before + 1 }
    }
}

extension DaemonTests {
    func testOverlapPoliciesAreObservableInRunRecords() throws {
        // Each run takes ~2.4 s; fires come every second.
        try schedule("""
            * * * * * * o-skip overlap=skip COUNT 3 0.8
            * * * * * * o-queue overlap=queue COUNT 3 0.8
            * * * * * * o-replace overlap=replace COUNT 3 0.8
            """)
        let p = try daemon()
        try wait("several fires") { try runs().filter { $0["job"] as? String == "o-replace" }.count >= 3 }
        stop(p)
        let all = try runs()
        func of(_ job: String) -> [[String: Any]] { all.filter { $0["job"] as? String == job } }
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        // skip: fires while a run is unfinished are recorded as skipped, not run.
        XCTAssertTrue(log.contains("job=o-skip run=- ") && log.contains("overlap=skip"), log)
        XCTAssertLessThanOrEqual(of("o-skip").filter { $0["status"] as? String == "running" }.count, 1)
        // queue: at most one waits behind the unfinished run.
        XCTAssertLessThanOrEqual(of("o-queue").filter { $0["status"] as? String == "queued" }.count, 1)
        XCTAssertTrue(log.contains("job=o-queue") && log.contains("result=queued"), log)
        // replace: older runs are cancelled by newer fires.
        XCTAssertGreaterThanOrEqual(of("o-replace").filter { $0["status"] as? String == "cancelled" }.count, 1)
    }

    func testFiresMissedWhileStoppedFollowMisfireOnce() throws {
        try schedule("* * * * * * sec misfire=once overlap=allow COUNT 1\n")
        var p = try daemon()
        try wait("a fire") { try runs().count >= 1 }
        stop(p)
        let before = try runs().count
        usleep(4_000_000)  // the daemon is down across several fires
        let downFrom = Int64(Date().timeIntervalSince1970) - 4
        p = try daemon()
        try wait("fires after the restart") { try runs().count > before }
        stop(p)
        // misfire=once: of the fires missed while down, one runs (here the latest, which
        // is still on time, so as trigger cron); the others are dropped and counted.
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("event=misfire job=sec") && log.contains("policy=once"), log)
        let missedRun = try runs().filter { Self.ms($0["scheduled_at"] as! String) / 1000 > downFrom + 1
            && Self.ms($0["scheduled_at"] as! String) / 1000 < downFrom + 3 }
        XCTAssertEqual(missedRun.count, 0, "a fire from the middle of the downtime ran: \(missedRun)")
    }
}
