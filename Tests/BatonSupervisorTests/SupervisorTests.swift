import BatonSupervisor
import Foundation
import Glibc
import XCTest

/// Real processes from Tests/Fixtures/handlers, real signals, real pipes.
final class SupervisorTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/handlers").path

    override class func setUp() {
        try? Supervisor.prepareProcess()
    }

    func spec(_ script: String, _ args: [String] = [], input: String = "", budget: Duration = .seconds(10),
              grace: Duration = .seconds(1), marker: String? = nil) -> SliceSpec {
        SliceSpec(executable: Self.fixtures + "/" + script, arguments: [script] + args,
                  environment: ["PATH=/usr/bin:/bin"] + (marker.map { [$0] } ?? []),
                  input: Array(input.utf8), budget: budget, grace: grace, marker: marker)
    }

    func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !stat.contains(") Z ")
    }

    /// The poll loop wakes on the child's pidfd; without one (a build that lost the
    /// syscall number, an old kernel) every slice would wait out a 20 ms poll.
    func testPidfdsAreAvailable() {
        XCTAssertTrue(Supervisor.hasPidfd, "pidfd_open(2) failed: slices would end 20 ms late")
    }

    func testPassesInputAndCapturesOutputLogAndExitStatus() async throws {
        let lines = LinesBox()
        let slice = try await Supervisor.start(spec("echo-input.sh", ["3"], input: "{\"a\":1}")) { lines.append($0) }
        let exit = try await slice.wait()
        XCTAssertEqual(exit.termination, .exited(3))
        XCTAssertEqual(String(decoding: exit.output, as: UTF8.self), "{\"a\":1}")
        XCTAssertEqual(String(decoding: exit.log, as: UTF8.self), "first line\nsecond line\n")
        XCTAssertEqual(lines.all, ["first line", "second line"])
        XCTAssertNil(exit.stopped)
        XCTAssertFalse(exit.killed)
    }

    func testKillsWholeGroupWhenBudgetAndGraceExpire() async throws {
        let lines = LinesBox()
        let t0 = Date()
        let slice = try await Supervisor.start(spec("ignore-term-with-grandchild.sh", budget: .milliseconds(500), grace: .milliseconds(500))) {
            lines.append($0)
        }
        let exit = try await slice.wait()
        let elapsed = Date().timeIntervalSince(t0)
        XCTAssertEqual(exit.stopped, .budget)
        XCTAssertTrue(exit.killed)
        XCTAssertEqual(exit.termination, .signaled(SIGKILL))
        XCTAssertLessThan(elapsed, 0.5 + 0.5 + 0.5, "group gone within budget + grace + 0.5 s")
        let pids = lines.all.compactMap { $0.split(separator: " ").last.flatMap { pid_t($0) } }
        XCTAssertEqual(pids.count, 2, lines.all.description)
        for pid in pids { XCTAssertFalse(isAlive(pid), "pid \(pid) survived") }
    }

    func testTerminateSendsSIGTERMToTheGroupAndReportsARequestedStop() async throws {
        let t0 = Date()
        let slice = try await Supervisor.start(spec("sleep.sh", budget: .seconds(30), grace: .seconds(30)))
        slice.terminate()
        let exit = try await slice.wait()
        XCTAssertEqual(exit.termination, .signaled(SIGTERM))
        XCTAssertEqual(exit.stopped, .requested)
        XCTAssertFalse(exit.killed)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
    }

    func testBoundsOutputAndKeepsMemoryFlatWhenAHandlerFloods() async throws {
        let before = Self.residentMegabytes()
        let slice = try await Supervisor.start(spec("flood.sh"))
        let exit = try await slice.wait()
        XCTAssertEqual(exit.termination, .exited(0))
        XCTAssertTrue(exit.outputTruncated)
        XCTAssertTrue(exit.logTruncated)
        XCTAssertEqual(exit.output.count, 1 << 20)
        XCTAssertEqual(exit.log.count, 4 << 20)
        XCTAssertLessThan(Self.residentMegabytes() - before, 32, "RSS grew with the output")
    }

    func testStopsDescendantsThatLeftTheGroup() async throws {
        let lines = LinesBox()
        let slice = try await Supervisor.start(spec("escape-group.sh", marker: "BATON_RUN_ID=r_test_\(getpid())")) { lines.append($0) }
        let exit = try await slice.wait()
        XCTAssertEqual(exit.termination, .exited(0))
        let escaped = lines.all.first { $0.hasPrefix("escaped ") }.flatMap { pid_t($0.dropFirst(8)) }
        XCTAssertNotNil(escaped, lines.all.description)
        XCTAssertEqual(exit.strays, 1)
        if let escaped { XCTAssertFalse(isAlive(escaped), "the escaped descendant is still running") }
    }

    func testMissingCommandIsAClearError() async {
        do {
            _ = try await Supervisor.start(spec("no-such-handler.sh"))
            XCTFail("a missing handler started")
        } catch {
            XCTAssertEqual(error.errno, SystemError.noSuchFile)
            XCTAssertNotNil(error.hint)
        }
    }

    func testResolveFindsCommandsOnThePathAndRelativeToADirectory() {
        XCTAssertEqual(Supervisor.resolve("sh", searchPath: "/nonexistent:/bin:/usr/bin", workingDirectory: "/"), "/bin/sh")
        XCTAssertEqual(Supervisor.resolve("handlers/flood.sh", searchPath: "", workingDirectory: Self.fixtures + "/.."),
                       Self.fixtures + "/../handlers/flood.sh")
        XCTAssertNil(Supervisor.resolve("definitely-not-a-command", searchPath: "/bin:/usr/bin", workingDirectory: "/"))
    }

    static func residentMegabytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
}

/// Lines collected from the supervisor's thread.
final class LinesBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ l: String) { lock.lock(); lines.append(l); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
