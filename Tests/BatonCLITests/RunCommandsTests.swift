import Foundation
import Glibc
import XCTest

/// invoke / runs / show / cancel / resume through the built binary, with real signals.
final class RunCommandsTests: XCTestCase {
    var dir = ""
    var state: String { "sqlite:\(dir)/state.db" }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/schedules", withIntermediateDirectories: true)
        // One item per slice, 0.1 s each, each item appended to a ledger.
        try """
            #!/bin/sh
            c=${BATON_CURSOR:-0}
            echo "$c" >> "\(dir)/ledger"
            sleep 0.1
            n=$((c + 1))
            if [ "$n" -ge 20 ]; then echo '{"cursor":null,"total":20,"counts":{"processed":1}}'
            else echo "{\\"cursor\\":\\"$n\\",\\"total\\":20,\\"counts\\":{\\"processed\\":1}}"; fi
            """.write(toFile: dir + "/chain.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/chain.sh", 0o755)
        try "@daily counter budget=10s \(dir)/chain.sh\n".write(toFile: dir + "/schedules/a.cron", atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func start(_ args: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["--state", state, "--schedules", dir + "/schedules"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        return (p, err)
    }

    func baton(_ args: [String]) throws -> (Int32, String, String) {
        let (p, err) = try start(args)
        let out = p.standardOutput as! Pipe
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    var ledger: [String] { ((try? String(contentsOfFile: dir + "/ledger", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

    /// Waits (bounded) until the ledger holds at least `n` items.
    func waitForLedger(_ n: Int) {
        let deadline = Date().addingTimeInterval(20)
        while ledger.count < n && Date() < deadline { usleep(20_000) }
        XCTAssertGreaterThanOrEqual(ledger.count, n, "the handler never got that far")
    }

    func onlyRun() throws -> [String: Any] {
        let (status, out, err) = try baton(["runs", "--json"])
        XCTAssertEqual(status, 0, err)
        let runs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
        XCTAssertEqual(runs.count, 1)
        return try XCTUnwrap(runs.first)
    }

    /// Every item done, at most `redone` of them twice.
    func assertEveryItemDone(redone: Int) {
        let items = ledger
        XCTAssertEqual(Set(items), Set((0..<20).map(String.init)), items.description)
        XCTAssertLessThanOrEqual(items.count, 20 + redone, items.description)
    }

    func testKillNineMidChainThenResumeFinishesWithNoItemSkipped() throws {
        let (p, _) = try start(["invoke", "counter"])
        waitForLedger(5)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let run = try onlyRun()
        XCTAssertEqual(run["status"] as? String, "waiting", "its driver is gone (issue 11 §4.4)")
        let id = try XCTUnwrap(run["run_id"] as? String)
        let (status, _, err) = try baton(["resume", id])
        XCTAssertEqual(status, 0, err)
        assertEveryItemDone(redone: 1)
        let (_, shown, _) = try baton(["show", id])
        XCTAssertTrue(shown.contains("lost"), shown)
        XCTAssertTrue(shown.contains("succeeded"), shown)
    }

    /// The first slice in flight at the kill: nothing was committed yet, so only its
    /// `running` start record tells the next driver to mark it lost and run attempt 2.
    func testKillNineInTheFirstSliceThenResumeRunsItAgainAsTheNextAttempt() throws {
        try """
            #!/bin/sh
            echo "$BATON_SLICE.$BATON_ATTEMPT" >> "\(dir)/ledger"
            [ "$BATON_ATTEMPT" = 1 ] && sleep 30
            echo '{"cursor":null}'
            """.write(toFile: dir + "/first.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/first.sh", 0o755)
        let (p, _) = try start(["invoke", "--", dir + "/first.sh"])
        waitForLedger(1)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let id = try XCTUnwrap(try onlyRun()["run_id"] as? String)
        let (status, _, err) = try baton(["resume", id])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(ledger, ["1.1", "1.2"])
        let (_, shown, _) = try baton(["show", id])
        XCTAssertTrue(shown.contains("lost"), shown)
    }

    func testCtrlCCancelsGracefullyAndPrintsTheResumeLine() throws {
        let (p, err) = try start(["invoke", "counter"])
        waitForLedger(4)
        kill(p.processIdentifier, SIGINT)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1)
        let id = try XCTUnwrap(try onlyRun()["run_id"] as? String)
        XCTAssertTrue(text.contains("baton resume \(id)"), text)
        XCTAssertEqual(try onlyRun()["status"] as? String, "cancelled")
        let (status, _, resumeErr) = try baton(["resume", id])
        XCTAssertEqual(status, 0, resumeErr)
        assertEveryItemDone(redone: 1)
    }

    func testCancelFromASecondProcessStopsTheRunKeepingItsCursor() throws {
        let (p, _) = try start(["invoke", "counter"])
        waitForLedger(3)
        let id = try XCTUnwrap(try onlyRun()["run_id"] as? String)
        let (status, _, err) = try baton(["cancel", id])
        XCTAssertEqual(status, 0, err)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1)
        let run = try onlyRun()
        XCTAssertEqual(run["status"] as? String, "cancelled")
        XCTAssertLessThan(ledger.count, 20)
        XCTAssertNotNil(run["cursor"] as? String)
    }

    func testResumeWhileAnotherProcessDrivesTheRunLeavesTheCancelStanding() throws {
        // Takes a second to honour SIGTERM, so its driver still holds the run meanwhile.
        try """
            #!/bin/sh
            trap 'sleep 1; echo "{\\"cursor\\":\\"x\\"}"; exit 0' TERM
            echo started >> "\(dir)/ledger"
            sleep 30 & wait
            """.write(toFile: dir + "/slow.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/slow.sh", 0o755)
        try "@daily slow \(dir)/slow.sh\n".write(toFile: dir + "/schedules/b.cron", atomically: true, encoding: .utf8)
        let (p, _) = try start(["invoke", "slow"])
        waitForLedger(1)
        let id = try XCTUnwrap(try onlyRun()["run_id"] as? String)
        XCTAssertEqual(try baton(["cancel", id]).0, 0)
        let (status, _, err) = try baton(["resume", id])
        XCTAssertEqual(status, 1, err)
        XCTAssertTrue(err.contains("being driven by"), err)
        p.waitUntilExit()
        let run = try onlyRun()
        XCTAssertEqual(run["status"] as? String, "cancelled", "the failed resume must not undo the cancel")
        XCTAssertEqual(run["cursor"] as? String, "x", "the result printed on SIGTERM is committed")
    }

    func testAClosedStdoutDoesNotCrashTheRunOrLeaveItRunning() throws {
        let (p, err) = try start(["invoke", "--json", "counter"])
        (p.standardOutput as! Pipe).fileHandleForReading.closeFile()
        err.fileHandleForReading.closeFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(try onlyRun()["status"] as? String, "succeeded")
    }

    func testOnceExitsOneWhenItsSliceFailed() throws {
        let (status, _, err) = try baton(["invoke", "--once", "--", "/nonexistent/handler"])
        XCTAssertEqual(status, 1, err)
        let (zero, _, _) = try baton(["invoke", "--budget", "0s", "counter"])
        XCTAssertEqual(zero, 2)
    }

    func testPauseAndUnpauseShowInJobs() throws {
        func counter() throws -> [String: Any] {
            let (status, out, err) = try baton(["jobs", "--json"])
            XCTAssertEqual(status, 0, err)
            let jobs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
            return try XCTUnwrap(jobs.first { $0["job"] as? String == "counter" })
        }
        XCTAssertEqual(try counter()["paused"] as? Bool, false)
        XCTAssertNotNil(try counter()["next"] as? String)
        XCTAssertEqual(try baton(["pause", "counter"]).0, 0)
        XCTAssertEqual(try counter()["paused"] as? Bool, true)
        XCTAssertEqual(try baton(["unpause", "counter"]).0, 0)
        XCTAssertEqual(try counter()["paused"] as? Bool, false)
        let (status, _, err) = try baton(["pause", "countr"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("did you mean 'counter'?"), err)
    }

    func testAFloodingHandlerLeavesBatonsMemoryFlat() throws {
        let flood = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/handlers/flood.sh").path
        try "@daily flood retries=0 \(flood)\n".write(toFile: dir + "/schedules/b.cron", atomically: true, encoding: .utf8)
        let (p, err) = try start(["invoke", "flood"])
        // Drain baton's stderr (it echoes the handler's log) as a terminal would.
        let drain = Thread { _ = err.fileHandleForReading.readDataToEndOfFile() }
        drain.start()
        var peakKB = 0
        while p.isRunning {
            if let s = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
               let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Int(line.split(separator: " ").dropFirst().first ?? "") { peakKB = max(peakKB, kb) }
            usleep(10_000)
        }
        XCTAssertGreaterThan(peakKB, 0)
        XCTAssertLessThan(peakKB, 64 * 1024, "baton's peak RSS was \(peakKB / 1024) MiB")
        let (_, shown, _) = try baton(["show", try XCTUnwrap(try onlyRun()["run_id"] as? String), "--json"])
        XCTAssertTrue(shown.contains("\"truncated\":true"), shown)
    }
}

extension RunCommandsTests {
    /// mode=plain: a classic cron command's stdout is its log, echoed line by line and
    /// stored with the slice, as its stderr is.
    func testAPlainCommandsOutputIsEchoedAndKeptAsItsLog() throws {
        try "@daily classic mode=plain /bin/sh -c 'echo out-line; echo err-line >&2'\n"
            .write(toFile: dir + "/schedules/a.cron", atomically: true, encoding: .utf8)
        let (status, _, err) = try baton(["invoke", "classic"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(err.contains("] out-line"), err)
        XCTAssertTrue(err.contains("] err-line"), err)
        let run = try onlyRun()
        let (_, shown, _) = try baton(["show", run["run_id"] as! String, "--logs"])
        XCTAssertTrue(shown.contains("out-line") && shown.contains("err-line"), shown)
    }
}
