import Foundation
import XCTest

/// The `sqlite3` command-line shell in a child process: a second process on the same
/// database file, as another baton would be. Tests skip when it is not installed.
final class SQLiteShell {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var pending = Data()

    static var executable: String? {
        ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3", "/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func require() throws -> String {
        guard let path = executable else { throw XCTSkip("the sqlite3 command-line shell is not installed") }
        return path
    }

    init(database: String) throws {
        process.executableURL = URL(fileURLWithPath: try Self.require())
        process.arguments = ["-batch", database]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Wait for locks as baton does (a store being released may be checkpointing).
        send(".timeout 5000")
    }

    /// Sends SQL (or a dot command) to the shell.
    func send(_ text: String) {
        input.fileHandleForWriting.write(Data((text + "\n").utf8))
    }

    /// Sends `text`, then waits for the shell to print `marker`, which proves everything
    /// before it ran. Blocks the calling thread (tests only).
    func run(_ text: String, until marker: String = "batonmarker") -> String {
        send(text + "\nSELECT '\(marker)';")
        while true {
            if let range = pending.range(of: Data((marker + "\n").utf8)) {
                let before = String(decoding: pending[..<range.lowerBound], as: UTF8.self)
                pending.removeSubrange(..<range.upperBound)
                return before
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return String(decoding: pending, as: UTF8.self) }  // the shell exited
            pending.append(chunk)
        }
    }

    /// Closes the shell's input and waits for it to exit; returns its status.
    @discardableResult
    func finish() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// One-shot: runs `sql` in a new shell and returns what it printed.
    static func query(_ database: String, _ sql: String) throws -> String {
        let shell = try SQLiteShell(database: database)
        let out = shell.run(sql)
        shell.finish()
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
