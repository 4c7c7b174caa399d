import BatonHandlerKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GenerateStories
import Glibc
import XCTest

/// A real `baton sandbox` process and a real APP_DB SQLite file for the in-process tests.
final class StoriesWorld {
    let dir: String
    let sandbox: Process
    let base: String
    var env: [String: String]

    static var binary: String {
        ProcessInfo.processInfo.environment["BATON_BIN"] ?? FileManager.default.currentDirectoryPath + "/.build/debug/baton"
    }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-stories-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let log = dir + "/sandbox.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["sandbox", "--listen", "127.0.0.1:0", "--db", "sqlite:\(dir)/sandbox.db"]
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        sandbox = p
        var address: String?
        let end = Date().addingTimeInterval(10)
        while address == nil, Date() < end, p.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            address = text.split(separator: "\n").first { $0.contains("event=listen") }?
                .split(separator: " ").first { $0.hasPrefix("address=") }.map { String($0.dropFirst(8)) }
            if address == nil { usleep(20_000) }
        }
        guard let address else {
            kill(p.processIdentifier, SIGKILL)
            throw NSError(domain: "sandbox", code: 1, userInfo: [NSLocalizedDescriptionKey: "the sandbox did not start"])
        }
        base = "http://" + address
        env = ["APP_DB": "sqlite:\(dir)/app.db", "OPENAI_BASE_URL": base + "/v1", "OPENAI_API_KEY": "sk-sandbox"]
    }

    func close() {
        kill(sandbox.processIdentifier, SIGTERM)
        sandbox.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func db() throws -> any AppDatabase { try AppDB.open(environment: env) }

    /// One slice of run `run`, in-process.
    func slice(_ run: String, cursor: String? = nil, params: [String: String] = [:], retry: [String]? = nil,
               budgetMs: Int64 = 30_000, stop: StopFlag = StopFlag(), log: @escaping @Sendable (String) -> Void = { _ in }) throws -> SliceOutput {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let payload: JSONValue? = retry.map { .object(["items": .array($0.map { .string($0) })]) }
        let input = SliceInput(runId: run, cursor: cursor, budgetMs: budgetMs, deadlineMs: now + budgetMs,
                               params: Params(params.mapValues { .string($0) }), payload: payload)
        return try GenerateStoriesHandler().run(try Slice(input: input, environment: env, stop: stop, log: log))
    }

    /// Runs slices until the run has no more (at most `limit`).
    @discardableResult
    func runToEnd(_ run: String, params: [String: String] = [:], retry: [String]? = nil, limit: Int = 50) throws -> [SliceOutput] {
        var outs: [SliceOutput] = []
        var cursor: String?
        repeat {
            let out = try slice(run, cursor: cursor, params: params, retry: retry)
            outs.append(out)
            cursor = out.cursor?.encoded
            if out.hasMore == false { break }
            if let wait = out.retryAfterMs { usleep(UInt32(min(wait, 5_000)) * 1000) }
        } while outs.count < limit
        return outs
    }

    func faults(_ list: [[String: Any]]) throws {
        var request = URLRequest(url: URL(string: base + "/_sandbox/faults")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: ["faults": list, "provider": "openai"])
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, _, _ in done.signal() }.resume()
        _ = done.wait(timeout: .now() + 10)
    }

    func aiCalls() throws -> Int {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var body = Data()
        URLSession.shared.dataTask(with: URL(string: base + "/_sandbox/deliveries?provider=openai")!) { d, _, _ in
            body = d ?? Data(); done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 10)
        return ((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["deliveries"] as? [Any])?.count ?? -1
    }

    /// A project with epics (id, priority, card count).
    func project(_ id: String, _ epics: [(String, Int?, Int)]) throws {
        let db = try db()
        try StoriesSchema.migrate(db)
        try db.execute("INSERT INTO projects (id, name) VALUES (?1, ?1)", [.text(id)])
        for (epic, priority, cards) in epics {
            try db.execute("INSERT INTO epics (id, project_id, code, title, description, priority) VALUES (?1, ?2, ?3, 'T', 'D', ?4)",
                           [.text(epic), .text(id), .text("C-" + epic), .int(priority)])
            for c in 0..<cards {
                try db.execute("INSERT INTO epic_cards (id, epic_id, body) VALUES (?1, ?2, ?3)",
                               [.text("\(epic)-c\(c)"), .text(epic), .text("card \(c) of \(epic)")])
            }
        }
    }

    func rows(_ sql: String, _ args: [AppValue] = []) throws -> [[String]] {
        try db().query(sql, args).map { r in r.values.indices.map { r.string($0) ?? "NULL" } }
    }
}
