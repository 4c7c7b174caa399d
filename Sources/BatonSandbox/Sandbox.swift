import BatonCore
import BatonCrypto
import BatonHTTP
import BatonJSON
import Foundation
import Synchronization

/// `baton sandbox`: local stand-ins for the AI and messaging providers (HANDLERS.md,
/// docs/sandbox.md). Same paths, JSON shapes and auth checks as the real APIs; faults
/// on demand; every delivery recorded.
public final class Sandbox: Sendable {
    public struct Options: Sendable {
        public var latency: Duration = .zero
        /// Requests per second per provider; nil: unlimited.
        public var rateLimit: Int?
        public var errorRate = 0.0
        public var timeoutRate = 0.0
        public var seed: UInt64 = 0
        /// `BATON_API_TOKEN`: when set, `/_sandbox/…` needs it as a bearer token.
        public var token: String?
        public init() {}
    }

    /// One injected fault (`POST /_sandbox/faults`).
    struct Fault: Sendable {
        var status: Int?
        var retryAfter: String?
        var retryAfterDate = false
        var hang = false
        var malformed = false
        var provider: String?
    }

    struct State {
        var faults: [Fault] = []
        var window: [String: (second: Int64, count: Int)] = [:]
        var idempotent: [String: HTTPResponse] = [:]
        var random: SplitMix
    }

    let options: Options
    let ledger: SandboxLedger
    private let state: Mutex<State>

    public init(options: Options, databasePath: String) throws {
        self.options = options
        ledger = try SandboxLedger(path: databasePath)
        state = Mutex(State(random: SplitMix(seed: options.seed)))
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let path = request.path
        if path.hasPrefix("/_sandbox/") {
            if let token = options.token, request.header("authorization") != "Bearer " + token {
                return Self.json(401, ["error": "the sandbox's controls need the bearer token",
                                       "hint": "send Authorization: Bearer <BATON_API_TOKEN>"])
            }
            return await control(request)
        }
        let provider: Provider
        if path == "/v1/chat/completions" { provider = .openai }
        else if path == "/v1/messages" { provider = .anthropic }
        else if path.hasPrefix("/2010-04-01/Accounts/"), path.hasSuffix("/Messages.json") { provider = .twilio }
        else if path.hasSuffix("/me/messages") { provider = .messenger }
        else { return Self.json(404, ["error": "no such path in the sandbox: \(path.prefix(100))", "hint": "see docs/sandbox.md"]) }
        guard request.method == "POST" else {
            return Self.json(405, ["error": "method not allowed", "hint": "use POST"], headers: [("Allow", "POST")])
        }
        if options.latency > .zero { try? await Task.sleep(for: options.latency) }
        // Faults come before auth, as a provider's front door would answer them.
        if let fault = nextFault(for: provider) {
            if fault.hang {
                try? await Task.sleep(for: .seconds(120))
                return Self.json(504, ["error": "the sandbox hung on purpose"])
            }
            if fault.malformed {
                return HTTPResponse(status: 200, contentType: "application/json", text: "{\"id\": \"truncated")
            }
            return provider.fault(status: fault.status ?? 500, retryAfter: fault.retryAfter, asDate: fault.retryAfterDate)
        }
        if let limited = rateLimited(provider) { return limited }
        let key = request.header("idempotency-key").map { "\(provider.rawValue):\($0)" }
        if let key, let first = state.withLock({ $0.idempotent[key] }) { return first }
        let (response, delivery) = provider.answer(request)
        if let delivery {
            do {
                try await ledger.record(provider: provider.rawValue, to: delivery.to, from: delivery.from, body: delivery.body,
                                        idempotencyKey: request.header("idempotency-key"))
            } catch {
                return provider.fault(status: 500, retryAfter: nil, asDate: false)
            }
            if let key { state.withLock { $0.idempotent[key] = response } }
        }
        return response
    }

    // MARK: faults and limits

    func nextFault(for provider: Provider) -> Fault? {
        state.withLock { s in
            if let i = s.faults.firstIndex(where: { $0.provider == nil || $0.provider == provider.rawValue }) {
                return s.faults.remove(at: i)
            }
            if options.timeoutRate > 0, s.random.nextDouble() < options.timeoutRate { return Fault(hang: true) }
            if options.errorRate > 0, s.random.nextDouble() < options.errorRate {
                let status = provider == .anthropic && s.random.nextDouble() < 0.5 ? 529 : 500
                return Fault(status: status)
            }
            return nil
        }
    }

    func rateLimited(_ provider: Provider) -> HTTPResponse? {
        guard let limit = options.rateLimit else { return nil }
        let second = Int64(Date().timeIntervalSince1970)
        let over = state.withLock { s -> Bool in
            var w = s.window[provider.rawValue] ?? (second, 0)
            if w.second != second { w = (second, 0) }
            w.count += 1
            s.window[provider.rawValue] = w
            return w.count > limit
        }
        return over ? provider.fault(status: 429, retryAfter: "1", asDate: false) : nil
    }

    // MARK: /_sandbox

    func control(_ request: HTTPRequest) async -> HTTPResponse {
        switch (request.method, request.path) {
        case ("GET", "/_sandbox/healthz"):
            return Self.json(200, ["status": "ok"])
        case ("GET", "/_sandbox/deliveries"):
            do {
                let list = try await ledger.list(provider: request.query["provider"], to: request.query["to"])
                return Self.json(200, ["deliveries": list.map(\.json)])
            } catch {
                return Self.json(503, ["error": "the sandbox's database did not answer", "hint": "check its --db file"])
            }
        case ("DELETE", "/_sandbox/deliveries"):
            do { try await ledger.clear() } catch { return Self.json(503, ["error": "the sandbox's database did not answer", "hint": "check its --db file"]) }
            state.withLock { $0.idempotent.removeAll() }
            return Self.json(200, ["deleted": true])
        case ("POST", "/_sandbox/faults"):
            let faults: [Fault]
            do { faults = try Self.faults(request.body) } catch {
                return Self.json(400, ["error": "expected {\"faults\":[…]}: \(error)", "hint": "see docs/sandbox.md"])
            }
            state.withLock { $0.faults += faults }
            return Self.json(200, ["queued": faults.count])
        default:
            return Self.json(404, ["error": "no such sandbox control: \(request.method) \(request.path.prefix(100))", "hint": "see docs/sandbox.md"])
        }
    }

    /// `{"faults":[{"status":429,"retry_after":"2"},…],"provider":"openai"}`.
    /// - Throws: `JSONSyntaxError` or `JSONFieldError`, saying where.
    static func faults(_ body: [UInt8]) throws -> [Fault] {
        let doc = JSONField(try JSONValue.decode(body))
        let provider = try doc["provider"].optionalString()
        return try doc["faults"].elements("an array of faults").map { f in
            let after = f["retry_after"]
            return Fault(status: try f["status"].optionalInteger(in: 100...599).map { Int($0) },
                         retryAfter: after.isAbsent ? nil : try after.value?.integer.map(String.init) ?? after.string("a string or a number"),
                         retryAfterDate: try f["retry_after_date"].isAbsent ? false : f["retry_after_date"].bool(),
                         hang: try f["hang"].isAbsent ? false : f["hang"].bool(),
                         malformed: try f["malformed"].isAbsent ? false : f["malformed"].bool(), provider: provider)
        }
    }

    public static func json(_ status: Int, _ object: [String: Any], headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(JSONValue(any: object).text.utf8))
    }
}


extension Sandbox {
    /// Starts the SMTP receiver; returns the address it bound.
    public func startSMTP(_ address: ListenAddress) throws(HTTPServerError) -> ListenAddress {
        try SMTPReceiver(address: address, ledger: ledger).address
    }
}
