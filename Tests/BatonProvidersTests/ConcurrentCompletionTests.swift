import BatonProviders
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import XCTest

/// `completeAll`: several completions in flight at once through libcurl's multi
/// interface, against a real `baton sandbox` answering after `--latency 300ms`. The
/// batch must overlap (the sandbox serves requests concurrently), keep its order, and
/// type each request's error exactly as the single call does, one failing request
/// never touching the others.
final class ConcurrentCompletionTests: XCTestCase {
    static let latencyMs: Int64 = 300
    var dir = ""
    var sandbox: Process?
    var base = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-multi-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (p, lines) = try ProviderClientTests.start(ProviderClientTests.binary,
                                                       ["sandbox", "--listen", "127.0.0.1:0", "--latency", "\(Self.latencyMs)ms",
                                                        "--db", "sqlite:\(dir)/sandbox.db"],
                                                       log: dir + "/sandbox.log", until: { $0.contains("event=listen") })
        sandbox = p
        base = "http://" + (try XCTUnwrap(ProviderClientTests.field("address", in: lines.first { $0.contains("event=listen") })))
    }

    override func tearDown() {
        if let p = sandbox { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func conversations(_ n: Int) -> [[ChatMessage]] {
        (0..<n).map { [.system("be brief"), .user("lead \($0): Respond with JSON: {\"draft\": \"...\"}")] }
    }

    func testTheSandboxDelaysEachAnswerByItsLatency() throws {
        let client = try OpenAIClient(baseURL: base + "/v1", apiKey: "k", deadline: .after(ms: 10_000))
        let start = ProviderClientTests.nowMs()
        _ = try client.complete(model: "m", messages: [.user("x")], maxTokens: 5)
        XCTAssertGreaterThanOrEqual(ProviderClientTests.nowMs() - start, Self.latencyMs, "--latency delays every answer")
    }

    func testABatchIsInFlightAtOnceAndKeepsItsOrder() throws {
        for client in try clients() {
            let batch = Self.conversations(8)
            let start = ProviderClientTests.nowMs()
            let results = client.completeAll(model: "m", conversations: batch, maxTokens: 50)
            let took = ProviderClientTests.nowMs() - start
            XCTAssertEqual(results.count, 8)
            // One after the other would take 8 x 300 ms; at once, about one latency.
            XCTAssertLessThan(took, 3 * Self.latencyMs, "\(type(of: client)): 8 requests overlapped, in \(took) ms")
            let texts = try results.map { try $0.get().text }
            let one = try client.complete(model: "m", messages: batch[5], maxTokens: 50)
            XCTAssertEqual(texts[5], one.text, "outcome k answers conversation k")
            XCTAssertEqual(Set(texts).count, 8)
        }
        XCTAssertEqual(try deliveries().count, 18)
    }

    func testOneRequestOfABatchGetsItsOwnErrorWhileTheOthersSucceed() throws {
        let openai = try OpenAIClient(baseURL: base + "/v1", apiKey: "k", deadline: .after(ms: 10_000))
        try faults([["status": 500], ["status": 429, "retry_after": "2"]])
        let results = openai.completeAll(model: "m", conversations: Self.conversations(6), maxTokens: 50)
        let errors = results.compactMap { r -> ProviderError? in if case let .failure(e) = r { e } else { nil } }
        XCTAssertEqual(Set(errors.map(\.description)),
                       Set([ProviderError.server(provider: "openai", status: 500), .rateLimited(provider: "openai", retryAfterMs: 2000)]
                           .map(\.description)), "typed as the single call types them")
        XCTAssertEqual(results.filter { (try? $0.get()) != nil }.count, 4)

        let anthropic = try AnthropicClient(baseURL: base, apiKey: "k", deadline: .after(ms: 10_000))
        try faults([["status": 529]])
        let more = anthropic.completeAll(model: "m", conversations: Self.conversations(4), maxTokens: 50)
        XCTAssertEqual(more.filter { (try? $0.get()) != nil }.count, 3)
        XCTAssertTrue(more.contains { if case .failure(.server(provider: "anthropic", status: 529)) = $0 { true } else { false } })
        XCTAssertEqual(try deliveries().count, 7, "only the answered requests were recorded")
    }

    func testAHungRequestEndsByTheDeadlineAndTheOthersStillAnswer() throws {
        let client = try OpenAIClient(baseURL: base + "/v1", apiKey: "k",
                                      deadline: Deadline(epochMs: ProviderClientTests.nowMs() + 1500, reserveMs: 0))
        try faults([["hang": true]])
        let start = ProviderClientTests.nowMs()
        let results = client.completeAll(model: "m", conversations: Self.conversations(3), maxTokens: 50)
        let took = ProviderClientTests.nowMs() - start
        XCTAssert(took >= 1300 && took < 2500, "the batch ended by the deadline, after \(took) ms")
        XCTAssertEqual(results.filter { (try? $0.get()) != nil }.count, 2)
        XCTAssertTrue(results.contains { if case .failure(.timeout(provider: "openai")) = $0 { true } else { false } })
        let late = client.completeAll(model: "m", conversations: Self.conversations(2), maxTokens: 50)
        XCTAssertTrue(late.allSatisfy { if case .failure(.noTimeLeft(provider: "openai")) = $0 { true } else { false } },
                      "no request is started past the deadline")
    }

    func testARefusedKeyIsTheSameErrorInABatch() throws {
        let client = try OpenAIClient(baseURL: base + "/v1", apiKey: "", deadline: .after(ms: 10_000))
        let results = client.completeAll(model: "m", conversations: Self.conversations(3), maxTokens: 50)
        XCTAssertTrue(results.allSatisfy { if case .failure(.authentication(provider: "openai", status: 401)) = $0 { true } else { false } })
    }

    // MARK: helpers

    func clients() throws -> [any ChatProvider] {
        [try OpenAIClient(baseURL: base + "/v1", apiKey: "k", deadline: .after(ms: 10_000)),
         try AnthropicClient(baseURL: base, apiKey: "k", deadline: .after(ms: 10_000))]
    }

    func faults(_ list: [[String: Any]]) throws {
        var request = URLRequest(url: URL(string: base + "/_sandbox/faults")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: ["faults": list])
        _ = try ProviderClientTests.fetch(request)
    }

    func deliveries() throws -> [[String: Any]] {
        let data = try ProviderClientTests.fetch(URLRequest(url: URL(string: base + "/_sandbox/deliveries")!))
        return try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["deliveries"] as? [[String: Any]])
    }
}
