import Foundation
import XCTest

/// The built `baton` binary, end to end, as a user runs it (under a timeout).
final class CLITests: XCTestCase {
    struct Result { var status: Int32; var out: String; var err: String }

    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["BATON_BIN"] { return b }
        return Bundle.main.bundleURL.appendingPathComponent("baton").path
    }

    func baton(_ args: [String], cwd: String? = nil, stdin: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["20", Self.binary] + args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func tempDir(files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/schedules", withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testNextPrintsTheIssueExampleAcrossTheMarchGap() throws {
        let r = try baton(["next", "30 2 * * *", "--tz", "America/New_York", "--from", "2026-03-07T12:00:00-05:00", "-n", "2"])
        XCTAssertEqual(r.status, 0, r.err)
        let a = try XCTUnwrap(r.out.range(of: "2026-03-08T03:00:00-04:00"))
        let b = try XCTUnwrap(r.out.range(of: "2026-03-09T02:30:00-04:00"))
        XCTAssertLessThan(a.lowerBound, b.lowerBound)
        XCTAssertTrue(r.out.contains("2026-03-08T07:00:00Z"), r.out)
        XCTAssertTrue(r.out.contains("in 14h"), r.out)
    }

    func testNextJSONHasTheSpecShape() throws {
        let r = try baton(["next", "0 9 * * mon#2", "--from", "2026-11-01T00:00:00Z", "-n", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(doc["expression"] as? String, "0 9 * * mon#2")
        XCTAssertEqual(doc["tz"] as? String, "UTC")
        XCTAssertEqual(doc["next"] as? [String], ["2026-11-09T09:00:00+00:00", "2026-12-14T09:00:00+00:00"])
    }

    func testInvalidExpressionExitsTwoWithTheColumn() throws {
        let r = try baton(["next", "0 25 * * *"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("expression:1:3: error: hour 25 is out of range 0-23"), r.err)
        XCTAssertTrue(r.err.contains("hint:"), r.err)
    }

    func testNextOfAJobUsesItsZone() throws {
        let dir = try tempDir(files: ["schedules/a.cron": "CRON_TZ=Asia/Kolkata\n0 9 * * * morning /bin/true\n"])
        let r = try baton(["next", "morning", "--from", "2026-11-25T00:00:00Z", "-n", "1", "--json"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("2026-11-25T09:00:00+05:30"), r.out)
        let miss = try baton(["next", "mornin"], cwd: dir)
        XCTAssertEqual(miss.status, 2)
        XCTAssertTrue(miss.err.contains("did you mean 'morning'?"), miss.err)
    }

    func testCheckReportsFiveMistakesAndExitsTwo() throws {
        let dir = try tempDir(files: ["schedules/bad.cron": """
            61 * * * *   too-late      /bin/true
            */5 * * * *  Bad_Name      /bin/true
            @hourly      typo-option   budgte=10s /bin/true
            CRON_TZ=Mars/Olympus
            @daily       bad-zone      /bin/true
            @every 5s    no-command    budget=5s
            """,
            "schedules/good.cron": "@hourly ok-job handlers/missing\n"])
        let r = try baton(["check"], cwd: dir)
        XCTAssertEqual(r.status, 2, r.out + r.err)
        let located = r.err.split(separator: "\n").filter { $0.contains(": error: ") }
        XCTAssertEqual(located.count, 5, r.err)
        for line in ["bad.cron:1:1: error: minute 61", "bad.cron:2:14: error:", "bad.cron:3:28: error: unknown option 'budgte'",
                     "bad.cron:4:9: error: unknown time zone 'Mars/Olympus'", "bad.cron:6:37: error: job 'no-command' has no command"] {
            XCTAssertTrue(r.err.contains(line), "missing \(line) in\n\(r.err)")
        }
        XCTAssertTrue(r.err.contains("good.cron:1:16: warning: command 'handlers/missing' does not exist"), r.err)
        XCTAssertEqual(r.err.components(separatedBy: "hint:").count - 1, 6, r.err)
    }

    func testCheckPassesOnTheBundledSchedules() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let r = try baton(["check"], cwd: root)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("ok: 4 file(s), 13 job(s)"), r.out)
    }

    func testUnknownCommandsAndOptionsNameTheNearestOne() throws {
        let c = try baton(["chek"])
        XCTAssertEqual(c.status, 2)
        XCTAssertTrue(c.err.contains("did you mean 'baton check'?"), c.err)
        let o = try baton(["next", "@daily", "--jsno"])
        XCTAssertEqual(o.status, 2)
        XCTAssertTrue(o.err.contains("did you mean '--json'?"), o.err)
    }

    func testVersionAndHelpOnEveryCommand() throws {
        let v = try baton(["--version"])
        XCTAssertEqual(v.status, 0)
        XCTAssertTrue(v.out.hasPrefix("baton "))
        for cmd in ["check", "next"] {
            let h = try baton([cmd, "--help"])
            XCTAssertEqual(h.status, 0)
            XCTAssertTrue(h.out.contains("Usage: baton \(cmd)") && h.out.contains("Examples:"), h.out)
        }
        XCTAssertTrue(try baton(["--help"]).out.contains("Examples:"))
    }

    func testBatchAnswersEachQueryInOrder() throws {
        let r = try baton(["next", "--batch"], stdin: """
            {"expr": "0 * * * *", "tz": "UTC", "from": 0, "n": 2}
            {"expr": "0 0 30 2 *", "tz": "UTC", "from": 0, "n": 2}
            {"expr": "@daily", "tz": "Nowhere/Zone", "from": 0, "n": 1}
            """)
        let lines = r.out.split(separator: "\n")
        guard lines.count == 3 else { return XCTFail("expected 3 answers, got: \(r.out) \(r.err)") }
        XCTAssertEqual(lines[0], #"{"next":[3600,7200]}"#)
        XCTAssertTrue(lines[1].contains("can never fire"))
        XCTAssertTrue(lines[2].contains("unknown time zone"))
    }
}
