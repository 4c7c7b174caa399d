import Foundation
import Glibc
import XCTest

/// Issue 11 §4.4: runs nobody drives read `waiting` (with no growing ETA) in every
/// listing, and a drain names the runs it left and how they continue.
final class WaitingRunsTests: XCTestCase {
    var ws: Workspace!

    override func setUpWithError() throws {
        ws = try Workspace(self)
        // 30 slices of 0.2 s each, one item per slice.
        try ws.write("chain.sh", #"""
            #!/bin/sh
            c=${BATON_CURSOR:-0}
            sleep 0.2
            n=$((c + 1))
            if [ "$n" -ge 30 ]; then echo '{"cursor":null,"total":30,"counts":{"processed":1}}'
            else echo "{\"cursor\":\"$n\",\"total\":30,\"counts\":{\"processed\":1}}"; fi
            """#, executable: true)
        try ws.write("schedules/a.cron", "* * * * * * chain budget=10s \(ws.dir)/chain.sh\n")
    }

    func testATickThatRunsOutOfTimeLeavesItsRunWaitingAndSaysHowItContinues() throws {
        let tick = try ws.baton(["tick", "--max-time", "1s"])
        XCTAssertEqual(tick.status, 0, tick.err)
        let left = try XCTUnwrap(tick.err.split(separator: "\n").first { $0.contains("left_waiting") }, tick.err)
        XCTAssertTrue(left.contains("job=chain") && left.contains("baton resume r_"), String(left))

        let run = try XCTUnwrap(ws.runs().first)
        let id = try XCTUnwrap(run["run_id"] as? String)
        XCTAssertTrue(left.contains("run=\(id)"), String(left))
        XCTAssertEqual(run["status"] as? String, "waiting")
        XCTAssertNil(run["eta_ms"], "no driver, no ETA")

        let table = try ws.baton(["runs"])
        let row = try XCTUnwrap(table.out.split(separator: "\n").first { $0.hasPrefix(id) }, table.out)
        XCTAssertTrue(row.contains(" waiting "), String(row))
        let show = try ws.baton(["show", id])
        XCTAssertTrue(show.out.contains("Status:    waiting for a driver") && show.out.contains("baton resume \(id) --schedules"), show.out)
        let filtered = try ws.baton(["runs", "--status", "waiting", "--json"])
        XCTAssertTrue(filtered.out.contains(id), filtered.out)
        let running = try ws.baton(["runs", "--status", "running", "--json"])
        XCTAssertFalse(running.out.contains(id), "--status filters by the status shown: \(running.out)")
    }

    func testARunWhoseDriverWasKilledReadsWaiting() throws {
        try ws.write("schedules/a.cron", "@daily chain budget=10s \(ws.dir)/chain.sh\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["invoke", "chain", "--schedules", ws.schedules, "--state", ws.state]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait (bounded) until a slice has committed, then kill the driver.
        let deadline = Date().addingTimeInterval(20)
        var driven: [String: Any]?
        while Date() < deadline {
            if let r = try ws.runs().first, (r["slices"] as? Int ?? 0) >= 2 { driven = r; break }
            usleep(50_000)
        }
        XCTAssertEqual(driven?["status"] as? String, "running", "a live driver holds it")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(try ws.runs().first?["status"] as? String, "waiting", "its driver is gone")
    }
}
