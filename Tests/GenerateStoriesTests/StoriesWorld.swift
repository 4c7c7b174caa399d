import BatonHandlerKit
import BatonTestSupport
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
    let sandbox: SandboxProcess
    var base: String { sandbox.base }
    var env: [String: String]

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-stories-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        sandbox = try SandboxProcess(dir: dir)
        env = ["APP_DB": "sqlite:\(dir)/app.db", "OPENAI_BASE_URL": sandbox.base + "/v1", "OPENAI_API_KEY": "sk-sandbox"]
    }

    func close() {
        sandbox.stop()
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

    func faults(_ list: [[String: Any]]) throws { try sandbox.faults(list, provider: "openai") }

    func aiCalls() throws -> Int { try sandbox.aiCalls() }

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
