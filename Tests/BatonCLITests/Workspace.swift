import Foundation
import Glibc
import XCTest

/// A directory with schedules, handler scripts and a state store, and the built `baton`
/// run in it as a user would (under a timeout).
struct Workspace {
    struct Result { var status: Int32; var out: String; var err: String }

    let dir: String
    var schedules: String { dir + "/schedules" }
    var state: String { "sqlite:\(dir)/state.db" }

    /// Creates the directory; the test case removes it when it ends.
    init(_ test: XCTestCase) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-ws-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/schedules", withIntermediateDirectories: true)
        let path = dir
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Writes a file (relative to the directory); `executable` makes it a script.
    func write(_ name: String, _ text: String, executable: Bool = false) throws {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        if executable { chmod(dir + "/" + name, 0o755) }
    }

    /// `baton ARGS --schedules … --state …`, from the directory.
    func baton(_ args: [String], environment: [String: String]? = nil) throws -> Result {
        try exec([CLITests.binary] + args + ["--schedules", schedules, "--state", state], environment: environment)
    }

    /// A command line baton printed, run as a user pasting it into a shell would, from
    /// another directory (so it works only if it names the schedules and state itself).
    func paste(_ line: String) throws -> Result {
        let words = line.trimmingCharacters(in: .whitespaces)
        XCTAssertTrue(words.hasPrefix("baton "), "not a baton command: \(line)")
        return try exec(["/bin/sh", "-c", "exec \"$BATON\" " + words.dropFirst("baton ".count)], cwd: "/",
                        environment: ProcessInfo.processInfo.environment.merging(["BATON": CLITests.binary]) { $1 })
    }

    func exec(_ argv: [String], cwd: String? = nil, environment: [String: String]? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["30"] + argv
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? dir)
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes at once so neither fills while the other is read.
        let group = DispatchGroup()
        nonisolated(unsafe) var e = Data()
        group.enter()
        DispatchQueue.global().async { e = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    /// The runs as `baton runs --json` lists them, newest first.
    func runs() throws -> [[String: Any]] {
        let r = try baton(["runs", "--json", "--limit", "100"])
        XCTAssertEqual(r.status, 0, r.err)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]], r.out)
    }

    /// The line of `text` that contains `marker`, from `baton` on (a printed follow-up).
    static func command(in text: String, after marker: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains(marker) }),
              let start = line.range(of: "baton ", options: .backwards, range: line.range(of: marker)!.upperBound..<line.endIndex)
        else { return nil }
        return String(line[start.lowerBound...])
    }
}
