import BatonCore
import BatonEngine
import BatonStore
import BatonStoreSQLite
import BatonSupervisor
import Foundation
import XCTest

/// A temporary directory with a real SQLite store and handler scripts written into it.
final class EngineFixture: @unchecked Sendable {
    let dir: String
    let store: SQLiteRunStore
    let events = EventLog()

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-engine-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        store = try SQLiteRunStore(path: dir + "/state.db")
        try? Supervisor.prepareProcess()
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes an executable shell script and returns its path.
    @discardableResult
    func script(_ name: String, _ body: String) throws -> String {
        let path = dir + "/" + name
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    func engine(variables: [String: String] = ["PATH": "/usr/bin:/bin", "HOME": "/root"]) -> RunEngine {
        RunEngine(store: store, environment: EngineEnvironment(variables: variables, workingDirectory: dir, owner: RunID.localOwner()),
                  observer: events)
    }

    func job(_ command: [String], _ configure: (inout JobOptions) -> Void = { _ in }) -> JobRunSpec {
        var options = JobOptions()
        options.backoff = .milliseconds(10)
        configure(&options)
        return JobRunSpec(name: "test-job", command: command, options: options)
    }

    /// Creates and drives a run to its end.
    func run(_ job: JobRunSpec, cursor: String? = nil, control: RunControl = RunControl()) async throws -> RunRecord {
        let e = engine()
        let run = try await e.createRun(job: job, trigger: .manual, cursor: cursor)
        return try await e.drive(runId: run.id, job: job, control: control)
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? "" }
}

final class EventLog: RunObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var list: [RunEvent] = []
    func event(_ event: RunEvent) { lock.lock(); list.append(event); lock.unlock() }
    var all: [RunEvent] { lock.lock(); defer { lock.unlock() }; return list }
}
